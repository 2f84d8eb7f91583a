import type { Bot, BotEvent, Dashboard, Metrics, Order, Page, Trade } from '~/types/api'
import { listOf } from '~/types/api'
import { toQuery } from '~/utils/cookies'

export function useDashboard() {
  return useApiGet<Dashboard>('dashboard', '/api/dashboard/')
}

export function useBots(filters: () => Record<string, string | number | null> = () => ({})) {
  const r = useApiGet<Bot[] | Page<Bot>>('bots', () => `/api/bots/${toQuery(filters())}`)
  return { ...r, bots: computed(() => listOf(r.data.value)) }
}

/** Everything the bot page shows, each part refetchable on its own (live events call these). */
export function useBot(id: MaybeRefOrGetter<number | string>) {
  const api = useApi()
  const key = () => String(toValue(id))
  const bot = useState<Bot | null>(`bot:${key()}`, () => null)
  const activeOrders = useState<Order[]>(`bot:${key()}:orders`, () => [])
  const cancelledOrders = useState<Order[]>(`bot:${key()}:cancelled`, () => [])
  const trades = useState<Trade[]>(`bot:${key()}:trades`, () => [])
  const events = useState<BotEvent[]>(`bot:${key()}:events`, () => [])
  const metrics = useState<Metrics | null>(`bot:${key()}:metrics`, () => null)
  const error = ref<string | null>(null)
  const loading = ref(false)

  async function guard<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try { return await fn() }
    catch (e: any) { error.value = e?.detail ?? String(e); return undefined }
  }
  const base = () => `/api/bots/${key()}`
  const refreshBot = () => guard(async () => {
    bot.value = await api<Bot>(`${base()}/`)
    if (bot.value?.metrics) metrics.value = bot.value.metrics
  })
  const refreshOrders = () => guard(async () => {
    const [a, c] = await Promise.all([
      api<Order[] | Page<Order>>(`${base()}/orders/?state=active`),
      api<Order[] | Page<Order>>(`${base()}/orders/?state=cancelled`),
    ])
    activeOrders.value = listOf(a)
    cancelledOrders.value = listOf(c)
  })
  const refreshTrades = () => guard(async () => {
    trades.value = listOf(await api<Trade[] | Page<Trade>>(`/api/trades/?bot=${key()}`))
  })
  const refreshEvents = () => guard(async () => {
    events.value = listOf(await api<BotEvent[] | Page<BotEvent>>(`${base()}/events/`))
  })
  const refreshMetrics = () => guard(async () => {
    metrics.value = await api<Metrics>(`${base()}/metrics/`)
  })
  async function refreshAll() {
    loading.value = true
    error.value = null
    await refreshBot()
    await Promise.all([refreshOrders(), refreshTrades(), refreshEvents(), refreshMetrics()])
    loading.value = false
  }
  return { bot, activeOrders, cancelledOrders, trades, events, metrics, error, loading, refreshAll, refreshBot, refreshOrders, refreshTrades, refreshEvents, refreshMetrics }
}

export function useBotActions() {
  const api = useApi()
  const toast = useToast()
  const { t } = useI18n()
  const pending = ref<string | null>(null)
  async function act(id: number, action: 'start' | 'stop' | 'emergency-stop', body?: Record<string, unknown>) {
    pending.value = action
    try {
      const bot = await api<Bot>(`/api/bots/${id}/${action}/`, { method: 'POST', body: body ?? {} })
      toast.add({ title: t(`bot.actionDone.${action}`), color: 'success' })
      return bot
    }
    catch (e: any) {
      toast.add({ title: t('common.error'), description: e?.detail ?? String(e), color: 'error' })
      return undefined
    }
    finally {
      pending.value = null
    }
  }
  return {
    pending,
    start: (id: number) => act(id, 'start'),
    stop: (id: number, closeAction?: string) => act(id, 'stop', closeAction ? { close_action: closeAction } : {}),
    emergencyStop: (id: number) => act(id, 'emergency-stop'),
    async remove(id: number) {
      try { await api(`/api/bots/${id}/`, { method: 'DELETE' }); return true }
      catch (e: any) { toast.add({ title: t('common.error'), description: e?.detail ?? String(e), color: 'error' }); return false }
    },
  }
}
