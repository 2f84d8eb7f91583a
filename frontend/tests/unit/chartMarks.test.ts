import { describe, expect, it } from 'vitest'
import { chartMarks, TIMEFRAMES } from '~/composables/useChartCandles'

const t = (k: string) => k

describe('chartMarks', () => {
  it('draws take-profit, stop-loss and trigger lines from the config', () => {
    const marks = chartMarks({ take_profit_price: '60000', stop_loss_price: '50000', trigger_price: '' }, {}, t)
    expect(marks).toEqual([
      { price: '60000', kind: 'tp', label: 'chart.tp' },
      { price: '50000', kind: 'sl', label: 'chart.sl' },
    ])
  })

  it('shows both liquidation sides of a neutral report, and only the live one once a position is open', () => {
    const report = chartMarks({}, { long: '40000', short: '70000' }, t)
    expect(report.map(m => [m.kind, m.price, m.label])).toEqual([['liq', '40000', 'chart.liqLong'], ['liq', '70000', 'chart.liqShort']])
    const live = chartMarks({}, { long: '40000', short: '70000', live: '41000' }, t)
    expect(live).toEqual([{ price: '41000', kind: 'liq', label: 'chart.liq' }])
  })

  it('skips empty and non-positive prices', () => {
    expect(chartMarks({ take_profit_price: '0', stop_loss_price: null }, { long: null, short: '' }, t)).toEqual([])
  })
})

describe('timeframes', () => {
  it('offers minutes to a day, in the market-data endpoint\'s interval codes', () => {
    expect(TIMEFRAMES.map(tf => tf.label)).toEqual(['1m', '5m', '15m', '1h', '4h', '1d'])
    expect(TIMEFRAMES.map(tf => tf.value)).toEqual(['1', '5', '15', '60', '240', 'D'])
  })
})
