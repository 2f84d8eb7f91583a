// The server's rules that forms show before submitting (GET /api/app-config/), read once.
export interface AppConfig { password_min_length: number }

export function useAppConfig() {
  const config = useState<AppConfig | null>('app.config', () => null)
  if (!config.value && import.meta.client) {
    useApi()<AppConfig>('/api/app-config/').then((c) => { config.value = c }, () => {})
  }
  return config
}
