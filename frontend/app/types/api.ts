// Domain types of the API. Records come from the generated OpenAPI types in ./schema.d.ts
// (`npm run gen:api` regenerates them from /api/schema/); the JSON blobs the schema leaves
// open (bot config, launch report, live messages) are written from docs/api-contract.md.
import type { components } from './schema'

type S = components['schemas']
export type Dec = string

export type User = S['User']

export interface Session { authenticated: boolean, user: User | null }

export type AuthSession = S['AuthSession']

/** One signed-in device (GET /api/auth/sessions/). */
export type LoginSession = S['Session']

/** The server's rules that forms show (GET /api/app-config/). */
export type ServerConfig = S['AppConfig']

export type ExchangeAccount = S['ExchangeAccountOutput']

export type SymbolInfo = S['SymbolOutput']

export interface Ticker { symbol: string, last_price: Dec, bid_price: Dec, ask_price: Dec, high_24h: Dec, low_24h: Dec }
export interface Kline { time: number, open: Dec, high: Dec, low: Dec, close: Dec, volume: Dec }

export type Category = 'spot' | 'linear'
export type BotStatus = 'draft' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' | 'error' | string

export interface BotConfig {
  strategy: 'spot_grid' | 'linear_grid'
  lower_price: Dec
  upper_price: Dec
  grid_count: number
  spacing: 'arithmetic' | 'geometric'
  investment: Dec
  direction?: 'neutral' | 'long' | 'short'
  leverage?: Dec | number
  trigger_price?: Dec | null
  take_profit_price?: Dec | null
  stop_loss_price?: Dec | null
  take_profit_pnl?: Dec | null
  stop_loss_pnl?: Dec | null
  take_profit_roi?: Dec | null
  stop_loss_roi?: Dec | null
  on_stop?: 'keep' | 'sell_base' | 'close_position'
}

export interface Warning {
  code: string
  severity: 'info' | 'warning' | 'danger'
  message: string
  params?: Record<string, unknown>
}

export interface Report {
  levels: Dec[]
  qty_per_grid: Dec
  profit_per_grid_min: Record<string, Dec> | Dec | null
  profit_per_grid_max: Record<string, Dec> | Dec | null
  profit_per_cycle: Dec | null
  quote_needed: Dec
  base_needed: Dec
  min_investment: Dec
  min_investment_rule: string
  balance_ok: boolean
  break_even_price: Dec | null
  below_range: string | Record<string, unknown> | null
  above_range: string | Record<string, unknown> | null
  liquidation_price?: Dec | null
  liquidation_price_long?: Dec | null
  liquidation_price_short?: Dec | null
  price?: Dec
  warnings: Warning[]
  blocking: boolean
}

export type Metrics = S['Metrics']

export interface Bot {
  id: number
  name: string
  symbol: string
  category: Category
  status: BotStatus
  exchange_account: number
  /** Code of the bot's exchange (bybit, okx, ...) and its display name, e.g. OKX. */
  venue: string
  venue_name: string
  investment: Dec
  config: BotConfig
  report: Report | null
  created_at: string
  started_at: string | null
  stopped_at: string | null
  stop_reason: string
  stop_code: string
  last_error: string
  /** Slug of the knowledge-base article on fixing why it stopped or its last error (/help/<slug>). */
  help_article: string | null
  restart_count: number
  metrics: Metrics | null
}

export type BotEvent = S['BotEvent']

/** One message on /ws/ (bots/streams.py; not in the OpenAPI schema). */
export interface LiveMessage {
  type: 'event' | string
  seq: number
  event: 'order.created' | 'order.updated' | 'order.filled' | 'order.cancelled' | 'trade' | 'bot.status' | 'bot.event' | 'metrics' | 'position' | string
  bot_id: number
  data: Record<string, unknown> | null
}

export type Order = S['Order']

export type Trade = S['Trade']

export interface Page<T> { count?: number, next: string | null, previous: string | null, results: T[] }

/** An open position on the dashboard: the API's own field names (generated schema). */
export type Position = S['Position']

export interface Dashboard {
  bots: Bot[]
  latest_trades: Trade[]
  positions: Position[]
  totals: Record<string, Dec | number | null>
}

export type SeriesPoint = S['SeriesPoint']

export type BotPosition = S['BotPosition']

/** A list answer that may or may not be paginated. */
export function listOf<T>(data: T[] | Page<T> | null | undefined): T[] {
  if (!data) return []
  return Array.isArray(data) ? data : (data.results ?? [])
}

/** Two-factor state (GET /api/auth/mfa/totp/), set-up secret, recovery codes (shown once). */
export type MfaState = S['MfaTotpState']
export type MfaSetup = S['MfaTotpSetup']
export type MfaRecoveryCodes = S['MfaRecoveryCodes']
