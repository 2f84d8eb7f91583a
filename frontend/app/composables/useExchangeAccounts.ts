import type { ExchangeAccount, Kline, Page, SymbolInfo, Ticker } from '~/types/api'
import { listOf } from '~/types/api'
import { toQuery } from '~/utils/cookies'

export function useExchangeAccounts() {
  const api = useApi()
  const r = useApiGet<ExchangeAccount[] | Page<ExchangeAccount>>('exchange-accounts', '/api/exchange-accounts/')
  const accounts = computed(() => listOf(r.data.value))
  return {
    ...r,
    accounts,
    async bind(body: { label: string, environment: string, api_key: string, api_secret: string }) {
      const acc = await api<ExchangeAccount>('/api/exchange-accounts/', { method: 'POST', body })
      await r.refresh()
      return acc
    },
    async createPaper(label?: string) {
      const acc = await api<ExchangeAccount>('/api/exchange-accounts/paper/', { method: 'POST', body: label ? { label } : {} })
      await r.refresh()
      return acc
    },
    async revalidate(id: number) {
      const acc = await api<ExchangeAccount>(`/api/exchange-accounts/${id}/revalidate/`, { method: 'POST' })
      await r.refresh()
      return acc
    },
    async remove(id: number) {
      await api(`/api/exchange-accounts/${id}/`, { method: 'DELETE' })
      await r.refresh()
    },
  }
}

export function useMarket() {
  const api = useApi()
  return {
    symbols: (account: number, category: string) =>
      api<SymbolInfo[] | Page<SymbolInfo>>(`/api/market/symbols/${toQuery({ account, category })}`).then(listOf),
    ticker: (account: number, category: string, symbol: string) =>
      api<Ticker>(`/api/market/ticker/${toQuery({ account, category, symbol })}`),
    klines: (account: number, category: string, symbol: string, interval = '1', limit = 200) =>
      api<Kline[] | Page<Kline>>(`/api/market/klines/${toQuery({ account, category, symbol, interval, limit })}`).then(listOf),
  }
}
