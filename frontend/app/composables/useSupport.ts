// Support: the user's tickets, the bot troubleshooter and the knowledge base (/api/support/).
export interface TicketAttachment { id: number, name: string, content_type: string, size: number, url: string }
export interface TicketMessage { id: number, body: string, from_staff: boolean, via: string, created_at: string, attachments: TicketAttachment[] }
export type TicketStatus = 'new' | 'open' | 'waiting' | 'resolved' | 'closed'
export type TicketQueue = 'billing' | 'exchange' | 'bots' | 'partners'
export interface Ticket {
  id: number
  subject: string
  queue: TicketQueue
  status: TicketStatus
  bot: number | null
  created_at: string
  last_message_at: string | null
  first_response_due: string | null
  resolution_due: string | null
  rating: number | null
  rating_comment: string
}
export interface TicketDetail extends Ticket { messages: TicketMessage[], has_diagnostics: boolean }
export interface Finding { cause: string, title: string, fix: string, article: string, params: Record<string, string> }
export interface ArticleBrief { slug: string, language: string, title: string, summary: string, cause: string }
export interface Article extends ArticleBrief { body: string, updated_at: string }

function form(fields: Record<string, string | number | null | undefined>, files: File[] = []): FormData {
  const data = new FormData()
  for (const [k, v] of Object.entries(fields)) if (v !== null && v !== undefined && v !== '') data.append(k, String(v))
  for (const f of files) data.append('attachments', f)
  return data
}

export function useTickets() {
  return useApiGet<Ticket[]>('support-tickets', '/api/support/tickets/', { default: () => [] })
}

export function useTicket(id: MaybeRefOrGetter<string | number>) {
  return useApiGet<TicketDetail>(`support-ticket-${toValue(id)}`, () => `/api/support/tickets/${toValue(id)}/`)
}

export function useSupportActions() {
  const api = useApi()
  return {
    create: (f: { subject: string, body: string, queue?: string, bot?: number | null }, files: File[] = []) =>
      api<TicketDetail>('/api/support/tickets/', { method: 'POST', body: form(f, files) }),
    reply: (id: number, body: string, files: File[] = []) =>
      api<TicketDetail>(`/api/support/tickets/${id}/messages/`, { method: 'POST', body: form({ body }, files) }),
    close: (id: number) => api<TicketDetail>(`/api/support/tickets/${id}/close/`, { method: 'POST' }),
    rate: (id: number, rating: number, comment: string) =>
      api<TicketDetail>(`/api/support/tickets/${id}/rating/`, { method: 'POST', body: { rating, comment } }),
    troubleshoot: (botId: number) => api<{ bot: number, findings: Finding[] }>(`/api/support/bots/${botId}/troubleshoot/`),
  }
}

export function useArticles(query: MaybeRefOrGetter<string>) {
  const { locale } = useI18n()
  return useApiGet<ArticleBrief[]>('support-articles', () => `/api/support/articles/?lang=${locale.value}&q=${encodeURIComponent(toValue(query))}`, { default: () => [] })
}

export function useArticle(slug: MaybeRefOrGetter<string>) {
  const { locale } = useI18n()
  return useApiGet<Article>(`support-article-${toValue(slug)}`, () => `/api/support/articles/${encodeURIComponent(toValue(slug))}/?lang=${locale.value}`)
}
