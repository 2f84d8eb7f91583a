// The level preview (checked against Python's Decimal at 40 digits): the same formulas as the backend engine (docs/grid-math.md §3.2).
// N grids are N intervals, so there are N + 1 lines from the lower to the upper price.
import Decimal from 'decimal.js-light'
import { roundToStep, isDecimal } from './decimal'

export type Spacing = 'arithmetic' | 'geometric'

export interface LevelInput {
  lower: string
  upper: string
  gridCount: number | string
  spacing: Spacing
  tick: string
}

export type LevelResult =
  | { ok: true, levels: string[] }
  | { ok: false, error: 'invalid' | 'range' | 'grid_count' | 'duplicated' }

export const MIN_GRIDS = 2
export const MAX_GRIDS = 200

export function gridLevels(input: LevelInput): LevelResult {
  const { lower, upper, spacing, tick } = input
  if (!isDecimal(lower) || !isDecimal(upper) || !isDecimal(tick)) return { ok: false, error: 'invalid' }
  const n = Number(input.gridCount)
  if (!Number.isInteger(n) || n < MIN_GRIDS || n > MAX_GRIDS) return { ok: false, error: 'grid_count' }
  const lo = new Decimal(lower)
  const hi = new Decimal(upper)
  if (lo.lte(0) || hi.lte(lo)) return { ok: false, error: 'range' }
  const levels: string[] = []
  if (spacing === 'geometric') {
    const ratio = hi.div(lo).pow(new Decimal(1).div(n))
    for (let i = 0; i <= n; i++) {
      const p = i === n ? hi : lo.times(ratio.pow(i))
      levels.push(roundToStep(p, tick, 'nearest'))
    }
  }
  else {
    const d = hi.minus(lo).div(n)
    for (let i = 0; i <= n; i++) levels.push(roundToStep(lo.plus(d.times(i)), tick, 'nearest'))
  }
  for (let i = 1; i < levels.length; i++) {
    if (new Decimal(levels[i]!).lte(new Decimal(levels[i - 1]!))) return { ok: false, error: 'duplicated' }
  }
  return { ok: true, levels }
}

/** Split lines into buy (below price) and sell (above price) sides, as placed at launch. */
export function splitLevels(levels: string[], price: string): { buy: string[], sell: string[] } {
  if (!isDecimal(price)) return { buy: [], sell: [] }
  const p = new Decimal(price)
  const buy = levels.filter(l => new Decimal(l).lt(p))
  const sell = levels.filter(l => new Decimal(l).gt(p))
  return { buy, sell }
}

/** Gross % per grid for arithmetic (min at the top, max at the bottom) or geometric (constant). */
export function grossPercentRange(levels: string[]): { min: string, max: string } | null {
  if (levels.length < 2) return null
  let min: Decimal | null = null
  let max: Decimal | null = null
  for (let i = 0; i + 1 < levels.length; i++) {
    const g = new Decimal(levels[i + 1]!).div(new Decimal(levels[i]!)).minus(1).times(100)
    if (!min || g.lt(min)) min = g
    if (!max || g.gt(max)) max = g
  }
  return { min: min!.toDecimalPlaces(4).toString(), max: max!.toDecimalPlaces(4).toString() }
}
