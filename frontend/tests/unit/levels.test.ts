import { describe, expect, it } from 'vitest'
import { gridLevels, grossPercentRange, splitLevels } from '~/utils/levels'

describe('grid levels', () => {
  it('arithmetic: N intervals give N+1 evenly spaced lines (Bybit example)', () => {
    const r = gridLevels({ lower: '10000', upper: '30000', gridCount: 5, spacing: 'arithmetic', tick: '0.1' })
    expect(r).toEqual({ ok: true, levels: ['10000.0', '14000.0', '18000.0', '22000.0', '26000.0', '30000.0'] })
  })
  it('geometric: constant ratio, 20k-30k with 5 grids is 8.44% per grid', () => {
    const r = gridLevels({ lower: '20000', upper: '30000', gridCount: 5, spacing: 'geometric', tick: '0.01' })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.levels).toEqual(['20000.00', '21689.44', '23521.58', '25508.49', '27663.24', '30000.00'])
    const g = grossPercentRange(r.levels)!
    expect(Number(g.min)).toBeCloseTo(8.447, 2)
    expect(Number(g.max)).toBeCloseTo(8.447, 2)
  })
  it('rounds lines to the tick', () => {
    const r = gridLevels({ lower: '100', upper: '101', gridCount: 3, spacing: 'arithmetic', tick: '0.01' })
    expect(r).toEqual({ ok: true, levels: ['100.00', '100.33', '100.67', '101.00'] })
  })
  it('rejects lines that collapse on the tick grid', () => {
    expect(gridLevels({ lower: '100', upper: '101', gridCount: 20, spacing: 'arithmetic', tick: '0.1' })).toEqual({ ok: false, error: 'duplicated' })
  })
  it('rejects a bad range or grid count', () => {
    expect(gridLevels({ lower: '200', upper: '100', gridCount: 5, spacing: 'arithmetic', tick: '0.1' })).toEqual({ ok: false, error: 'range' })
    expect(gridLevels({ lower: '100', upper: '200', gridCount: 1, spacing: 'arithmetic', tick: '0.1' })).toEqual({ ok: false, error: 'grid_count' })
    expect(gridLevels({ lower: '', upper: '200', gridCount: 5, spacing: 'arithmetic', tick: '0.1' })).toEqual({ ok: false, error: 'invalid' })
  })
  it('splits lines into buys below and sells above the price (Bybit 45k-65k, P0=54k)', () => {
    const r = gridLevels({ lower: '45000', upper: '65000', gridCount: 5, spacing: 'arithmetic', tick: '1' })
    if (!r.ok) throw new Error('levels')
    expect(splitLevels(r.levels, '54000')).toEqual({ buy: ['45000', '49000', '53000'], sell: ['57000', '61000', '65000'] })
  })
  it('arithmetic per-grid % is largest at the bottom', () => {
    const g = grossPercentRange(['100', '110', '120'])!
    expect(g.max).toBe('10')
    expect(g.min).toBe('9.0909')
  })
})
