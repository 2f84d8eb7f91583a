// Shapes of the analytics and study endpoints the pages read (the fields they use; the server
// sends Decimals as strings). To be replaced by types generated from the OpenAPI schema once
// these endpoints are described there.
import type { Kline } from '~/types/api'

export type Num = string | number | null | undefined

export interface SeriesRef {
  id: number
  venue: string
  symbol: string
  category: 'spot' | 'linear'
  tick_size?: string
  first_time: string
  last_time: string
}

export interface ScreenerSuggestion {
  lower_price: string
  upper_price: string
  grid_count: number | null
  round_trips_per_day: Num
  [key: string]: unknown
}

export interface ScreenerRow {
  series: SeriesRef
  factors: Record<string, Num>
  suggestion: ScreenerSuggestion
  score?: Num
  [key: string]: unknown
}

export interface ScreenerPage {
  results: ScreenerRow[]
  explain: Record<string, Record<string, string>>
  venues?: string[]
}

export interface BacktestFill {
  time: number
  side: 'Buy' | 'Sell'
  price: string
}

export interface WalkPart {
  error?: string
  [key: string]: string | number | undefined
}

export interface BacktestResult {
  fills?: BacktestFill[]
  equity_curve: { time: number, equity: string, drawdown: string }[]
  walk_forward: Record<string, WalkPart>
}

export interface Backtest {
  id: number
  status: 'queued' | 'running' | 'done' | 'failed'
  progress: number
  error?: string
  series: SeriesRef
  config: Record<string, string | number | null>
  summary: Record<string, string | number | boolean | null>
  result: BacktestResult | null
}

export interface BacktestChart {
  bar_minutes?: number
  candles: Kline[]
  levels: string[]
  marks?: { take_profit_price?: string, stop_loss_price?: string, trigger_price?: string }
}

export interface PortfolioBot {
  bot_id: number
  name: string
  profit: string
  [key: string]: unknown
}

export interface Portfolio {
  capital: string
  profit: string
  roi_percent: Num
  largest_symbol: string | null
  largest_symbol_share: number | null
  bots: PortfolioBot[]
  [key: string]: unknown
}

export interface BotStudy {
  symbol: string
  attribution: Record<string, string>
  fills_per_hour: number[]
  cycles_per_level: { level: number, cycles: number }[]
  range: { outside_share: number | null, exits: number, max_below_percent: Num, max_above_percent: Num }
  cycle_cadence: { median_minutes: Num, p90_minutes: Num }
  summary: { text: string }
  [key: string]: unknown
}
