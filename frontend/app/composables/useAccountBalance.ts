// A fresh balance of one exchange account, read from the exchange now (POST .../balance/).
import type { components } from '~/types/schema'

export type AccountBalance = components['schemas']['AccountBalance']

export function useAccountBalance(accountId: MaybeRefOrGetter<number>) {
  const api = useApi()
  const balance = ref<AccountBalance | null>(null)
  const pending = ref(false)
  const error = ref<string | null>(null)
  async function refresh() {
    pending.value = true
    try {
      balance.value = await api<AccountBalance>(`/api/exchange-accounts/${toValue(accountId)}/balance/`, { method: 'POST' })
      error.value = null
    }
    catch (e: unknown) { error.value = errorDetail(e) }
    finally { pending.value = false }
  }
  return { balance, pending, error, refresh }
}
