import type { MaybeRefOrGetter } from 'vue'
import type { components } from '~/types/schema'
import type { PoolPublishBody } from '~/utils/poolPublish'

// Investment pools (/api/pools/): the open pools, one pool's page, joining, my places in pools.
export interface Pool {
  id: number
  name: string
  description: string
  risk_level: 'low' | 'medium' | 'high'
  status: string
  symbol: string
  category: string
  exchange: string
  manager_name: string
  min_investment: string
  max_investment: string
  performance_fee_percent: string
  management_fee_percent: string
  investors: number
  followed_total: string | null
  nav: string
  is_paper: boolean
  approved_at: string | null
  created_at: string
}
export interface TrackRecord {
  simulated: boolean
  since: string
  age_days: number
  invested: string
  total_pnl: string
  roi_percent: string | null
  profit_factor: string | null
  max_drawdown_percent: string
  pool_max_drawdown_percent: string
  trade_count: number
  cycle_count: number
}
export interface PoolDetail extends Pool {
  track_record: TrackRecord
  lower_price: string
  upper_price: string
  grid_count: number
  bot_status: string
}
export interface PoolMembership {
  id: number
  pool: number
  pool_name: string
  pool_status: string
  pool_is_paper: boolean
  status: 'active' | 'below_minimum' | 'left'
  status_note: string
  exchange_account: number
  bot: number | null
  bot_status: string | null
  amount: string
  units: string
  hwm: string
  nav: string
  value: string
  fees_total: string
  joined_at: string
  left_at: string | null
}
export interface PoolReportWarning { code: string, severity: string, message: string, blocking: boolean }
export interface PoolReport { blocking: boolean, quote_needed: string, qty_per_grid: string, warnings: PoolReportWarning[] }

export function usePools() {
  return useApiGet<Pool[]>('pools', '/api/pools/', { default: () => [] })
}

export function usePool(id: MaybeRefOrGetter<number>) {
  return useApiGet<PoolDetail>(`pool:${toValue(id)}`, () => `/api/pools/${toValue(id)}/`)
}

export function usePoolMemberships() {
  const api = useApi()
  const r = useApiGet<PoolMembership[]>('pool-memberships', '/api/pools/memberships/', { default: () => [] })
  return {
    ...r,
    preview: (poolId: number, body: { exchange_account: number, amount: string }) =>
      api<PoolReport>(`/api/pools/${poolId}/preview/`, { method: 'POST', body }),
    async join(poolId: number, body: { exchange_account: number, amount: string, accept_warnings: boolean }) {
      const member = await api<PoolMembership>(`/api/pools/${poolId}/join/`, { method: 'POST', body })
      await r.refresh()
      return member
    },
    async changeAmount(id: number, amount: string) {
      await api(`/api/pools/memberships/${id}/amount/`, { method: 'POST', body: { amount } })
      await r.refresh()
    },
    async leave(id: number) {
      await api(`/api/pools/memberships/${id}/leave/`, { method: 'POST', body: {} })
      await r.refresh()
    },
  }
}

// The manager's side: pools I publish (pending until approved), and my fees as a manager.
export interface ManagerFee {
  id: number
  pool: number
  pool_name: string
  kind: 'performance' | 'management'
  amount: string
  nav: string
  created_at: string
  invoice_status: string | null
  paid_at: string | null
}
export interface ManagerEarnings { total: string, accrued: string, fees: ManagerFee[] }

export function useManagedPools() {
  const api = useApi()
  const r = useApiGet<Pool[]>('pools-mine', '/api/pools/mine/', { default: () => [] })
  return {
    ...r,
    async publish(body: PoolPublishBody) {
      const pool = await api<Pool>('/api/pools/', { method: 'POST', body })
      await r.refresh()
      return pool
    },
  }
}

export function usePoolEarnings() {
  return useApiGet<ManagerEarnings>('pools-earnings', '/api/pools/earnings/')
}

// Who may publish: my application to be a pool manager and my record from fills (live apart
// from paper); operators decide in admin.
export type ManagerState = components['schemas']['ManagerState']

export function usePoolManager() {
  const api = useApi()
  const r = useApiGet<ManagerState>('pool-manager', '/api/pools/manager/', { immediate: false })
  return {
    ...r,
    async apply(experience: string) {
      const state = await api<ManagerState>('/api/pools/manager/', { method: 'POST', body: { experience } })
      r.data.value = state
      return state
    },
  }
}

// A manager's payouts of paid-in fees (/api/pools/payouts/): plan credit at once, or a Crypto Pay
// transfer an operator approves.
export interface ManagerPayout {
  id: number
  kind: 'plan_credit' | 'transfer'
  rail: string
  destination: string
  amount: string
  currency: string
  status: 'requested' | 'sending' | 'paid' | 'rejected' | 'failed'
  note: string
  created_at: string
}
export interface ManagerPayouts {
  currency: string
  earned: string
  pending: string
  paid: string
  available: string
  minimum: string
  rails: string[]
  payouts: ManagerPayout[]
}

export function useManagerPayouts() {
  const api = useApi()
  const r = useApiGet<ManagerPayouts>('pools-payouts', '/api/pools/payouts/')
  return {
    ...r,
    async request(body: { kind: string, amount?: string, rail?: string, destination?: string }) {
      r.data.value = await api<ManagerPayouts>('/api/pools/payouts/', { method: 'POST', body })
    },
  }
}
