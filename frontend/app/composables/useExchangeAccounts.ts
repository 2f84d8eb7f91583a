import type { ExchangeAccount, Kline, Page, SymbolInfo, Ticker } from '~/types/api'
import { listOf } from '~/types/api'
import { toQuery } from '~/utils/cookies'

/** One exchange the registry offers (GET /api/exchanges/, exchanges/venues.py). */
export interface Venue {
  code: string
  name: string
  categories: string[]
  futures_note: string
  order_types: string[]
  passphrase_required: boolean
  environments: string[]
  fee_coin: string
  min_notional: string
  client_id_max_len: number
  batch_create: number
}

export function useExchanges() {
  const r = useApiGet<Venue[]>('exchanges', '/api/exchanges/')
  const venues = computed(() => r.data.value ?? [])
  const nameOf = (code: string) => venues.value.find(v => v.code === code)?.name ?? code
  return { ...r, venues, nameOf }
}

export function useExchangeAccounts() {
  const api = useApi()
  const r = useApiGet<ExchangeAccount[] | Page<ExchangeAccount>>('exchange-accounts', '/api/exchange-accounts/')
  const accounts = computed(() => listOf(r.data.value))
  return {
    ...r,
    accounts,
    async bind(body: { label: string, exchange?: string, environment: string, api_key: string, api_secret: string, api_passphrase?: string }) {
      const acc = await api<ExchangeAccount>('/api/exchange-accounts/', { method: 'POST', body })
      await r.refresh()
      return acc
    },
    async createPaper(label?: string, exchange = 'bybit') {
      const acc = await api<ExchangeAccount>('/api/exchange-accounts/paper/', { method: 'POST', body: { ...(label ? { label } : {}), exchange } })
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

/** The venues the user has exchange accounts on, as select items after an "all" item (value 'all'). */
export function useVenueItems(allLabel: () => string) {
  const { accounts } = useExchangeAccounts()
  const { nameOf } = useExchanges()
  return computed(() => {
    const codes = [...new Set(accounts.value.map(a => a.exchange))]
    const items = codes.map(code => ({ label: nameOf(code), value: code })).sort((a, b) => a.label.localeCompare(b.label))
    return [{ label: allLabel(), value: 'all' }, ...items]
  })
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
