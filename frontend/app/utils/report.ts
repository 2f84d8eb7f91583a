// Rendering helpers for the pre-launch report (POST /api/bots/preview/) and API errors.
import { formatPlain, isDecimal } from './decimal'

export interface ReportWarning {
  code: string
  severity: 'info' | 'warning' | 'danger'
  message: string
  params?: Record<string, unknown>
}

export type Translate = (key: string, params?: Record<string, unknown>) => string
export type HasKey = (key: string) => boolean

/** A warning in the user's language when we know its code, else the server's own message. */
export function warningText(w: ReportWarning, t: Translate, te: HasKey): string {
  const key = `warnings.${w.code}`
  if (w.code && te(key)) {
    // Decimal params arrive as exchange-precision strings ("0.00833400"): show them trimmed.
    const params = Object.fromEntries(Object.entries(w.params ?? {}).map(([k, v]) =>
      [k, typeof v === 'string' && isDecimal(v) ? formatPlain(v) : v]))
    return t(key, params)
  }
  return w.message || w.code
}

/** What happens when the price leaves the range, in the user's language. The report sends the
 * figures (spot: base_qty, value, loss or gain; linear: position, pnl); the sentence is ours.
 * An unknown shape falls back to the server's English message. */
export function outsideText(
  side: 'below' | 'above', v: unknown, t: Translate, coins: { base?: string, quote?: string } = {},
): string {
  if (!v) return ''
  if (typeof v === 'string') return v
  const o = v as Record<string, unknown>
  const fmt = (x: unknown) => (typeof x === 'string' && isDecimal(x) ? formatPlain(x) : String(x ?? ''))
  const params = {
    price: fmt(o.price), qty: fmt(o.base_qty), value: fmt(o.value), loss: fmt(o.loss), gain: fmt(o.gain),
    position: fmt(typeof o.position === 'string' ? o.position.replace(/^-/, '') : o.position),
    pnl: fmt(o.pnl), base: coins.base ?? '', quote: coins.quote ?? 'USDT',
  }
  if ('position' in o) return t(`report.outside.linear_${side}`, params)
  if (side === 'below' && 'loss' in o) return t('report.outside.spot_below', params)
  if (side === 'above' && 'value' in o) return t('report.outside.spot_above', params)
  return String(o.message ?? '')
}

export function severityColor(severity: string): 'info' | 'warning' | 'error' | 'neutral' {
  if (severity === 'danger') return 'error'
  if (severity === 'warning') return 'warning'
  if (severity === 'info') return 'info'
  return 'neutral'
}

const ORDER: Record<string, number> = { danger: 0, warning: 1, info: 2 }

/** Most severe first; the order the server sent otherwise. */
export function sortWarnings<T extends { severity: string }>(warnings: T[]): T[] {
  return warnings
    .map((w, i) => ({ w, i }))
    .sort((a, b) => (ORDER[a.w.severity] ?? 3) - (ORDER[b.w.severity] ?? 3) || a.i - b.i)
    .map(x => x.w)
}

/** Warnings the user must acknowledge before launch (anything but info). */
export function needsAcknowledgement(warnings: { severity: string }[]): boolean {
  return warnings.some(w => w.severity === 'warning' || w.severity === 'danger')
}

export interface ApiErrorBody {
  detail?: string
  code?: string
  fields?: Record<string, string[] | string>
  [key: string]: unknown
}

/** Field errors from either the contract's `fields` or DRF's default {field: [msg]} shape. */
export function fieldErrors(body: ApiErrorBody | null | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!body || typeof body !== 'object') return out
  const source: Record<string, unknown> = body.fields && typeof body.fields === 'object'
    ? body.fields
    : Object.fromEntries(Object.entries(body).filter(([k]) => !['detail', 'code', 'fields'].includes(k)))
  for (const [k, v] of Object.entries(source)) {
    if (Array.isArray(v) && v.length) out[k] = v.map(String).join(' ')
    else if (typeof v === 'string') out[k] = v
    else if (v && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(fieldErrors(v as ApiErrorBody))) out[`${k}.${k2}`] = v2
    }
  }
  return out
}

/** One readable sentence for an API error: `detail`, else the first field error, else the status. */
export function errorMessage(body: ApiErrorBody | null | undefined, status?: number, fallback = 'Request failed'): string {
  if (body && typeof body === 'object') {
    if (typeof body.detail === 'string' && body.detail) return body.detail
    const fields = fieldErrors(body)
    const first = Object.entries(fields)[0]
    if (first) return first[0] === 'non_field_errors' ? first[1] : `${first[0]}: ${first[1]}`
  }
  return status ? `${fallback} (${status})` : fallback
}

/** Where a live event's `seq` stands against the last one seen: in order, a repeat, or a gap. */
export function classifySeq(last: number | null, next: number): 'first' | 'next' | 'duplicate' | 'gap' {
  if (last === null) return 'first'
  if (next === last + 1) return 'next'
  if (next <= last) return 'duplicate'
  return 'gap'
}
