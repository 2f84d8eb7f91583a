// Decimal helpers for prices and quantities. Inputs are the API's decimal strings; nothing here
// goes through a JavaScript float, so a tick of 0.1 never turns into 0.30000000000000004.
import Decimal from 'decimal.js-light'

Decimal.config({ precision: 40, rounding: Decimal.ROUND_HALF_UP })

export type Rounding = 'down' | 'up' | 'nearest'

const MODES: Record<Rounding, number> = {
  down: Decimal.ROUND_DOWN,
  up: Decimal.ROUND_UP,
  nearest: Decimal.ROUND_HALF_UP,
}

export function isDecimal(value: unknown): boolean {
  if (value === null || value === undefined) return false
  const s = String(value).trim()
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)
}

export function dec(value: string | number | Decimal): Decimal {
  return new Decimal(value)
}

/** Number of decimal places a tick or step implies: "0.10" -> 1, "0.001" -> 3, "1" -> 0. */
export function decimalsOf(step: string): number {
  const d = new Decimal(step)
  return Math.max(0, d.decimalPlaces())
}

/** Round `value` to a multiple of `step` ("0.1", "0.001", "5"). */
export function roundToStep(value: string | Decimal, step: string, mode: Rounding = 'nearest'): string {
  const s = new Decimal(step)
  const v = new Decimal(value)
  if (s.isZero()) return v.toString()
  const units = v.div(s).toDecimalPlaces(0, MODES[mode])
  return units.times(s).toFixed(decimalsOf(step))
}

/** Group the integer part with `sep` (a thin space by default). Keeps sign and fraction. */
export function groupThousands(fixed: string, sep = '\u2009'): string {
  const negative = fixed.startsWith('-')
  const body = negative ? fixed.slice(1) : fixed
  const [int = '0', frac] = body.split('.')
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, sep)
  return (negative ? '-' : '') + grouped + (frac !== undefined ? `.${frac}` : '')
}

/** A price shown on the instrument's tick: formatPrice("95123.456", "0.1") -> "95 123.5". */
export function formatPrice(value: string | null | undefined, tick: string, group = true): string {
  if (!isDecimal(value)) return '—'
  const fixed = roundToStep(String(value), tick, 'nearest')
  return group ? groupThousands(fixed) : fixed
}

/** A quantity on the instrument's step, rounded down (never shows more than there is). */
export function formatQty(value: string | null | undefined, step: string): string {
  if (!isDecimal(value)) return '—'
  return roundToStep(String(value), step, 'down')
}

/** A money amount with `places` decimals (default 2), grouped. */
export function formatMoney(value: string | null | undefined, places = 2, signed = false): string {
  if (!isDecimal(value)) return '—'
  const d = new Decimal(String(value)).toDecimalPlaces(places, Decimal.ROUND_HALF_UP)
  const fixed = d.toFixed(places)
  const out = groupThousands(fixed)
  return signed && d.gt(0) ? `+${out}` : out
}

/** A percentage already in percent units ("12.345" -> "12.35%"). */
export function formatPercent(value: string | null | undefined, places = 2, signed = false): string {
  if (!isDecimal(value)) return '—'
  return `${formatMoney(String(value), places, signed)}%`
}

/** -1, 0 or 1, for colouring profit figures. */
export function sign(value: string | null | undefined): -1 | 0 | 1 {
  if (!isDecimal(value)) return 0
  const d = new Decimal(String(value))
  return d.gt(0) ? 1 : d.lt(0) ? -1 : 0
}

/** Compare two decimal strings: -1, 0, 1. */
export function compare(a: string, b: string): number {
  return new Decimal(a).comparedTo(new Decimal(b))
}

/** A decimal string without trailing zeros, grouped: "95000.500" -> "95 000.5". */
export function formatPlain(value: string | null | undefined): string {
  if (!isDecimal(value)) return '—'
  const d = new Decimal(String(value))
  return groupThousands(d.toFixed(Math.max(0, d.decimalPlaces())))
}

/** What a person typed as a number, in the form the API reads: "54000,5" -> "54000.5",
 * "54 000,5" -> "54000.5", "1,234.5" -> "1234.5", "1.234,5" -> "1234.5". Spaces (also thin and
 * no-break) and apostrophes between digits are grouping. Not validated: see parseDecimalInput. */
export function normalizeDecimalInput(raw: string | number | null | undefined): string {
  if (raw === null || raw === undefined) return ''
  let s = String(raw).trim().replace(/(?<=\d)[\s\u00a0\u2009\u202f']+(?=\d)/g, '')
  const comma = s.lastIndexOf(',')
  const dot = s.lastIndexOf('.')
  if (comma >= 0 && dot >= 0) {
    // the later separator is the decimal one; the other groups thousands
    s = comma > dot ? s.replace(/\./g, '').replace(',', '.') : s.replace(/,/g, '')
  }
  else if (comma >= 0) {
    const commas = (s.match(/,/g) ?? []).length
    s = commas === 1 ? s.replace(',', '.') : s.replace(/,/g, '')
  }
  return s
}

/** The API's decimal string for a typed number, or null when it is not a number. */
export function parseDecimalInput(raw: string | number | null | undefined): string | null {
  const s = normalizeDecimalInput(raw)
  return isDecimal(s) ? s : null
}

// Display precision of coins: stablecoins are money (4 places show a fee of a fraction of a
// cent); other coins show 8 places, as exchanges do. Trailing zeros are dropped.
const STABLE = new Set(['USDT', 'USDC', 'USD', 'FDUSD', 'DAI', 'RUB', 'EUR'])

/** The number of decimals a coin amount is shown with. */
export function coinPlaces(coin: string | null | undefined): number {
  return STABLE.has(String(coin ?? '').toUpperCase()) ? 4 : 8
}

/** A fee in its coin, rounded to the coin's precision: ("0.509490000000000000", "USDT") -> "0.5095". */
export function formatFee(value: string | null | undefined, coin: string | null | undefined): string {
  if (!isDecimal(value)) return '—'
  const d = new Decimal(String(value)).toDecimalPlaces(coinPlaces(coin), Decimal.ROUND_HALF_UP)
  return groupThousands(d.toFixed(Math.max(0, d.decimalPlaces())))
}
