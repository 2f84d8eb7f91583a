// Referrals: the partner's dashboard, custom codes and payouts (/api/referrals/).
export interface PartnerDashboard {
  codes: { code: string, custom: boolean, link: string, telegram: string }[]
  approved: boolean
  tier: { name: string, level1_rate: string, level2_rate: string, referee_discount_rate: string, min_payout_rub: string, min_payout_usdt: string }
  promo: { ru: string, en: string }[]
  clicks: number
  signups: number
  paying_users: number
  revenue: Record<string, string>
  balances: Record<string, { accrued: string, available: string, pending: string, paid: string }>
  months: { month: string, earned: Record<string, string>, reversed: Record<string, string> }[]
}
export interface ReferralPayout { id: number, kind: 'plan_credit' | 'transfer', rail: string, destination: string, amount: string, currency: string, status: string, note: string, created_at: string, decided_at: string | null }

export function useReferrals() {
  const api = useApi()
  const dashboard = useApiGet<PartnerDashboard>('referrals-me', '/api/referrals/me/')
  const payouts = useApiGet<ReferralPayout[]>('referrals-payouts', '/api/referrals/payouts/', { default: () => [] })
  return {
    dashboard,
    payouts,
    async createCode(code: string) {
      await api('/api/referrals/codes/', { method: 'POST', body: { code } })
      await dashboard.refresh()
    },
    async requestPayout(body: { kind: string, currency: string, amount?: string, rail?: string, destination?: string }) {
      await api('/api/referrals/payouts/', { method: 'POST', body })
      await Promise.all([dashboard.refresh(), payouts.refresh()])
    },
    checkCode: (code: string) => api<{ valid: boolean, code: string | null }>(`/api/referrals/codes/${encodeURIComponent(code)}/`),
  }
}

/** Keep a referral code from `?ref=` until the new account first logs in (the server reads it). */
export function keepReferralCode(code: string) {
  const cookie = useCookie('setka_ref', { maxAge: 30 * 24 * 3600, sameSite: 'lax', path: '/' })
  cookie.value = code
}
