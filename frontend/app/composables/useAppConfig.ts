// The server's rules that forms show before submitting (GET /api/app-config/), read once.
// Not `useAppConfig`: that name is Nuxt's built-in (app.config.ts) and wins the auto-import.
import type { ServerConfig } from '~/types/api'

export function useServerConfig() {
  const config = useState<ServerConfig | null>('app.config', () => null)
  if (!config.value && import.meta.client) {
    useApi()<ServerConfig>('/api/app-config/').then((c) => { config.value = c }, () => {})
  }
  return config
}
