// Telegram: the profile's link to the bot (/api/telegram/link/) and the app's news (/api/news/).
export interface TelegramLink {
  linked: boolean
  username: string
  linked_at: string | null
  blocked: boolean
  bot_username: string
  dev_tools: boolean
}
export interface TelegramLinkToken { url: string, expires_at: string }
export interface NewsItem {
  id: number
  kind: 'product' | 'education'
  title_ru: string
  title_en: string
  body_ru: string
  body_en: string
  link: string
  published_at: string
}

export function useTelegram() {
  const api = useApi()
  const link = useApiGet<TelegramLink>('telegram-link', '/api/telegram/link/')
  return {
    link,
    createLink: () => api<TelegramLinkToken>('/api/telegram/link/', { method: 'POST' }),
    unlink: async () => {
      await api('/api/telegram/link/', { method: 'DELETE' })
      await link.refresh()
    },
    /** Development only: play the user pressing Start in Telegram (the fake Bot API). */
    devStart: (url: string) => api<{ chat_id: number }>('/api/telegram/dev/start/', { method: 'POST', body: { url } }),
  }
}

export function useNews() {
  return useApiGet<NewsItem[]>('news', '/api/news/', { default: () => [] })
}
