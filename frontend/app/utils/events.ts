// The bot's log in the user's language. Events that carry a `code` (and `params`) in their data
// are rendered from the locale; any other event shows the server's English message.
import { formatPlain, isDecimal } from './decimal'
import type { HasKey, Translate } from './report'

export interface LogEvent {
  kind?: string
  message?: string
  data?: unknown // the API's BotEvent.data: an object with `code` and `params` when it has them
}

export function eventText(e: LogEvent, t: Translate, te: HasKey): string {
  const data = (e.data && typeof e.data === 'object' ? e.data : {}) as Record<string, unknown>
  const code = typeof data.code === 'string' ? data.code : ''
  const key = `events.${code}`
  if (code && te(key)) {
    const raw = (data.params ?? {}) as Record<string, unknown>
    const params: Record<string, unknown> = Object.fromEntries(Object.entries(raw).map(([k, v]) =>
      [k, typeof v === 'string' && isDecimal(v) ? formatPlain(v) : v]))
    if (typeof raw.reason_code === 'string') {
      const reasonKey = `stop.${raw.reason_code || 'unknown'}`
      params.reason = te(reasonKey) ? t(reasonKey) : t('stop.unknown')
    }
    if (typeof raw.side === 'string') {
      const sideKey = `trades.${raw.side.toLowerCase()}`
      params.side = te(sideKey) ? t(sideKey) : raw.side
    }
    return t(key, params)
  }
  return e.message || e.kind || ''
}
