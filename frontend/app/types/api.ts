// Domain types of the API (docs/api-contract.md). The generated OpenAPI types live in
// ./schema.d.ts (`npm run gen:api`); these names are what the app uses, kept in step with both.
export type Dec = string

export interface User {
  id: number
  email: string
  language: string
  theme: string
  email_verified: boolean
  phone: string | null
  phone_verified: boolean
  has_access: boolean
  is_staff: boolean
  notify_email?: boolean
}

export interface Session { authenticated: boolean, user: User | null }

export interface AuthSession {
  id: number | string
  created_at: string
  last_used_at: string | null
  user_agent: string
  ip_address: string | null
  current: boolean
}

export interface ExchangeAccount {
  id: number
  label: string
  exchange: string
  environment: 'mainnet' | 'testnet' | 'demo' | 'paper' | string
  api_key_hint: string
  status: string
  status_reason: string
  permissions: Record<string, unknown> | string[] | null
  read_only: boolean
  can_withdraw: boolean
  ip_whitelist: string[] | string | null
  key_expires_at: string | null
  validated_at: string | null
  balances: Record<string, Dec>
  created_at: string
}

export interface SymbolInfo {
  symbol: string
  base_coin: string
  quote_coin: string
  tick_size: Dec
  qty_step: Dec
  min_qty: Dec
  min_notional: Dec
  max_leverage: Dec | null
}

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
  warnings: Warning[]
  blocking: boolean
}

export interface Metrics {
  invested: Dec
  grid_profit: Dec
  unrealized_pnl: Dec
  total_pnl: Dec
  fees: Dec
  profit_factor: Dec | null
  roi_percent: Dec
  grid_apr: Dec
  total_apr: Dec
  days_running: Dec | number
  trade_count: number
  cycle_count: number
  cycle_count_24h: number
  last_price: Dec | null
}

export interface Bot {
  id: number
  name: string
  symbol: string
  category: Category
  status: BotStatus
  exchange_account: number
  config: BotConfig
  report: Report | null
  created_at: string
  started_at: string | null
  stopped_at: string | null
  stop_reason: string
  last_error: string
  restart_count: number
  metrics: Metrics | null
}

export interface BotEvent { id: number, kind: string, level: string, message: string, data: Record<string, unknown>, created_at: string }

export interface Order {
  id: number
  client_order_id: string
  side: 'Buy' | 'Sell' | string
  order_type: string
  price: Dec | null
  qty: Dec
  filled_qty: Dec
  avg_price: Dec | null
  status: string
  level: number | null
  purpose: string
  created_at: string
  updated_at: string
}

export interface Trade {
  id: number
  bot: number
  symbol: string
  side: 'Buy' | 'Sell' | string
  price: Dec
  qty: Dec
  fee: Dec
  fee_coin: string
  realized_pnl: Dec | null
  executed_at: string
}

export interface Page<T> { count?: number, next: string | null, previous: string | null, results: T[] }

export interface Dashboard {
  bots: Bot[]
  latest_trades: Trade[]
  positions: Array<Record<string, unknown>>
  totals: Record<string, Dec | number | null>
}

export interface SeriesPoint { time: number | string, price: Dec, equity: Dec, grid_profit: Dec, total_pnl: Dec }

export interface LiveMessage {
  type: 'event' | string
  seq: number
  event: 'order.created' | 'order.updated' | 'order.filled' | 'order.cancelled' | 'trade' | 'bot.status' | 'bot.event' | 'metrics' | string
  bot_id: number
  data: Record<string, any>
}

/** A list answer that may or may not be paginated. */
export function listOf<T>(data: T[] | Page<T> | null | undefined): T[] {
  if (!data) return []
  return Array.isArray(data) ? data : (data.results ?? [])
}
