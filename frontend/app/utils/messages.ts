// Server messages in the user's language. The server sends a `code` with every message a person
// reads (config/codes.py); the text comes from the locale (errors.*, stop.*, events.*), never
// from the server's own words in another language.
import type { HasKey, Translate } from './report'

/** Codes whose server `detail` is more precise than the locale's generic text (it names the
 * field, the limit or the exchange's reason); shown when it is in the page's language. */
const SPECIFIC = new Set([
  'invalid', 'invalid_config', 'report_blocking', 'weak_password', 'throttled', 'login_locked',
  'exchange_rejected', 'exchange_error', 'key_rejected', 'invalid_key',
])
const CYRILLIC = /[а-яё]/i

/** True when `text` is written in `locale` (ru: has Cyrillic; en: has none). */
export function inLanguage(text: string, locale: string): boolean {
  return (locale === 'ru') === CYRILLIC.test(text)
}

export interface ErrorLike { code?: string, detail?: string, status?: number }

/** One sentence for an API error, in the page's language. */
export function errorText(e: ErrorLike, t: Translate, te: HasKey, locale: string): string {
  const code = e.code ?? ''
  const detail = e.detail ?? ''
  if (code && SPECIFIC.has(code) && detail && inLanguage(detail, locale)) return detail
  if (code && te(`errors.${code}`)) return t(`errors.${code}`)
  if (detail && inLanguage(detail, locale)) return detail
  if (!e.status) return t('errors.network')
  return t('errors.error')
}

/** Field messages from the server in the page's language; another language's text gives way
 * to the generic "check the field" of the locale. */
export function fieldTexts(fields: Record<string, string>, t: Translate, locale: string): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, inLanguage(v, locale) ? v : t('errors.invalid')]))
}

/** Why a bot stopped, in the user's language (Bot.stop_code), else the server's detail. */
export function stopReasonText(bot: { stop_code?: string | null, stop_reason?: string | null }, t: Translate, te: HasKey): string {
  const code = bot.stop_code ?? ''
  if (code && te(`stop.${code}`)) return t(`stop.${code}`)
  return bot.stop_reason ?? ''
}
