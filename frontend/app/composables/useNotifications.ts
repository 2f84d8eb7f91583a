// Notifications: the in-app list, the unread count (the bell) and preferences (/api/notifications/).
export interface AppNotification { id: number, event: string, title: string, body: string, url: string, help_url: string, params: Record<string, unknown>, created_at: string, read: boolean }
export interface NotificationPage { count: number, results: AppNotification[] }
export interface Preference { event: string, channel: string, enabled: boolean }
export interface QuietHours { enabled: boolean, start: string, end: string, timezone: string }
export interface Preferences { events: string[], channels: string[], preferences: Preference[], quiet_hours: QuietHours }

export function useUnreadCount() {
  const count = useState<number>('notifications-unread', () => 0)
  const api = useApi()
  async function refresh() {
    try { count.value = (await api<{ unread: number }>('/api/notifications/unread-count/')).unread }
    catch { /* the bell is a hint; the page shows the truth */ }
  }
  return { count, refresh }
}

export function useNotifications() {
  const api = useApi()
  const list = useApiGet<NotificationPage>('notifications', '/api/notifications/?limit=50')
  const { refresh: refreshCount } = useUnreadCount()
  return {
    list,
    async markRead(ids?: number[]) {
      await api('/api/notifications/read/', { method: 'POST', body: ids ? { ids } : {} })
      await Promise.all([list.refresh(), refreshCount()])
    },
  }
}

export function useNotificationPreferences() {
  const api = useApi()
  const prefs = useApiGet<Preferences>('notification-preferences', '/api/notifications/preferences/')
  return {
    prefs,
    save: async (body: { preferences?: Preference[], quiet_hours?: QuietHours }) => {
      prefs.data.value = await api<Preferences>('/api/notifications/preferences/', { method: 'PUT', body })
    },
  }
}
