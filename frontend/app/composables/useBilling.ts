// Billing: public plans, the user's plan and usage, checkout and payments (/api/billing/).
export interface Plan {
  code: string
  kind: 'free' | 'tier' | 'profit_share'
  name_ru: string
  name_en: string
  price_rub: string
  price_usdt: string
  period_days: number
  trial_days: number
  max_live_bots: number | null
  max_live_investment: string | null
  max_exchanges: number | null
  backtests_per_day: number | null
  max_pools: number | null
  api_access: boolean
  profit_share_rate: string
  profit_share_cap_usdt: string
}
export interface BillingConfig { registration_mode: 'invite' | 'open', rails: string[], sellers: Record<string, string>, plans: Plan[] }
export interface Subscription { plan: Plan, status: string, period_start: string | null, period_end: string | null, grace_until: string | null, comped: boolean, credit_rub: string, credit_usdt: string }
export interface BillingSummary {
  subscription: Subscription | null
  plan: Plan
  usage: { live_bots: number, live_investment: string, exchanges: number }
  held_bots: number[]
  profit_share: { month: string, profit: string, rate: string, cap: string, fee: string } | null
}
export interface Payment {
  id: number
  plan: string
  provider: 'yookassa' | 'cryptopay'
  method: string
  purpose: string
  amount: string
  currency: string
  credit_applied: string
  status: 'new' | 'pending' | 'succeeded' | 'canceled' | 'refunded' | 'mismatch' | 'failed'
  seller: string
  confirmation_url: string
  paid_method_title: string
  refunded_amount: string
  created_at: string
  credited_at: string | null
}

export function usePlans() {
  return useApiGet<BillingConfig>('billing-plans', '/api/billing/plans/')
}

export function useBilling() {
  const api = useApi()
  const summary = useApiGet<BillingSummary>('billing-summary', '/api/billing/subscription/')
  const payments = useApiGet<Payment[]>('billing-payments', '/api/billing/payments/', { default: () => [] })
  return {
    summary,
    payments,
    checkout: (body: { plan: string, provider: string, method?: string }) =>
      api<Payment>('/api/billing/checkout/', { method: 'POST', body }),
    payment: (id: number | string) => api<Payment>(`/api/billing/payments/${id}/`),
    async switchPlan(kind: 'downgrade' | 'trial' | 'profit-share', plan: string) {
      summary.data.value = await api<BillingSummary>(`/api/billing/subscription/${kind}/`, { method: 'POST', body: { plan } })
      await payments.refresh()
    },
    async refresh() { await Promise.all([summary.refresh(), payments.refresh()]) },
  }
}

/** The plan's name in the current language. */
export function planName(plan: Plan | null | undefined, locale: string): string {
  if (!plan) return ''
  return locale === 'en' ? plan.name_en : plan.name_ru
}
