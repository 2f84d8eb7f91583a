import type { BotConfig, Kline } from '~/types/api'

/** A labelled horizontal line beside the grid: take-profit, stop-loss, liquidation, trigger. */
export interface ChartMark { price: string, kind: 'tp' | 'sl' | 'liq' | 'trigger', label: string }

/** The chart's timeframes: the market-data endpoint's intervals (Bybit's: minutes, or D). */
export const TIMEFRAMES = [
  { value: '1', label: '1m' },
  { value: '5', label: '5m' },
  { value: '15', label: '15m' },
  { value: '60', label: '1h' },
  { value: '240', label: '4h' },
  { value: 'D', label: '1d' },
] as const

/** How many candles of history the chart loads (the endpoint's maximum). */
export const HISTORY_CANDLES = 1000

/**
 * Candles for one market: a full history once per market/timeframe, then only the last two
 * candles on each poll, merged in (a 5-second poll never reloads a thousand candles).
 */
export function useChartCandles(target: () => { account?: number | null, category?: string, symbol?: string } | null, pollMs = 5000) {
  const market = useMarket()
  const interval = useState<string>('chart:interval', () => '15')
  const candles = ref<Kline[]>([])
  const error = ref<string | null>(null)
  let token = 0

  function key() {
    const tg = target()
    return tg && tg.account && tg.category && tg.symbol ? `${tg.account}|${tg.category}|${tg.symbol}|${interval.value}` : ''
  }
  async function load() {
    const tg = target()
    if (!key() || !tg) { candles.value = []; return }
    const mine = ++token
    try {
      const rows = await market.klines(tg.account!, tg.category!, tg.symbol!, interval.value, HISTORY_CANDLES)
      if (mine === token) { candles.value = rows; error.value = null }
    }
    catch (e: unknown) { if (mine === token) error.value = errorDetail(e) }
  }
  async function update() {
    const tg = target()
    if (!key() || !tg || !candles.value.length) return
    const mine = token
    try {
      const rows = await market.klines(tg.account!, tg.category!, tg.symbol!, interval.value, 2)
      if (mine !== token) return
      const byTime = new Map(candles.value.map(c => [Number(c.time), c]))
      for (const r of rows) byTime.set(Number(r.time), r)
      candles.value = [...byTime.values()].sort((a, b) => Number(a.time) - Number(b.time))
    }
    catch { /* the next poll tries again */ }
  }
  watch(key, () => { load() }, { immediate: true })
  const poll = useIntervalFn(update, pollMs)
  onBeforeUnmount(() => poll.pause())
  return { interval, candles, error, reload: load }
}

/** The lines beside the grid: take-profit and stop-loss prices, the trigger, and the
 * liquidation prices (from the live position when there is one, else from the report). */
export function chartMarks(
  config: Partial<BotConfig> | null | undefined,
  liquidation: { long?: string | null, short?: string | null, live?: string | null },
  t: (key: string) => string,
): ChartMark[] {
  const marks: ChartMark[] = []
  const add = (price: unknown, kind: ChartMark['kind'], label: string) => {
    if (price !== null && price !== undefined && String(price).trim() !== '' && Number(price) > 0) marks.push({ price: String(price), kind, label })
  }
  add(config?.take_profit_price, 'tp', t('chart.tp'))
  add(config?.stop_loss_price, 'sl', t('chart.sl'))
  add(config?.trigger_price, 'trigger', t('chart.trigger'))
  if (liquidation.live) add(liquidation.live, 'liq', t('chart.liq'))
  else {
    add(liquidation.long, 'liq', t('chart.liqLong'))
    add(liquidation.short, 'liq', t('chart.liqShort'))
  }
  return marks
}
