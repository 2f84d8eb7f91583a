import type { Bot, BotEvent, BotPosition, Dashboard, Metrics, Order, Page, Report, Trade } from '~/types/api'
import { listOf } from '~/types/api'
import { toQuery } from '~/utils/cookies'

export function useDashboard() {
  return useApiGet<Dashboard>('dashboard', '/api/dashboard/')
}

export function useBots(filters: () => Record<string, string | number | null> = () => ({})) {
  const r = useApiGet<Bot[] | Page<Bot>>('bots', () => `/api/bots/${toQuery(filters())}`)
  return { ...r, bots: computed(() => listOf(r.data.value)) }
}

/** The bots page: every bot (history included) under the filters, page by page ("more"). */
export function useBotList(filters: () => Record<string, string | string[] | number | null | undefined>, pageSize = 20) {
  const api = useApi()
  const bots = ref<Bot[]>([])
  const count = ref<number | null>(null)
  const next = ref<string | null>(null)
  const pending = ref(false)
  const error = ref<string | null>(null)
  let token = 0
  function query() {
    const q = new URLSearchParams({ limit: String(pageSize) })
    for (const [k, v] of Object.entries(filters())) {
      for (const one of Array.isArray(v) ? v : [v]) if (one !== null && one !== undefined && one !== '') q.append(k, String(one))
    }
    return `?${q.toString()}`
  }
  async function load(url: string, append: boolean) {
    const mine = ++token
    pending.value = true
    try {
      const page = await api<Page<Bot>>(url)
      if (mine !== token) return
      bots.value = append ? [...bots.value, ...page.results] : page.results
      count.value = page.count ?? null
      // The server's absolute link, kept to its path (the API client adds the origin).
      next.value = page.next ? page.next.replace(/^https?:\/\/[^/]+/, '') : null
      error.value = null
    }
    catch (e: unknown) {
      if (mine === token) error.value = errorDetail(e)
    }
    finally {
      if (mine === token) pending.value = false
    }
  }
  const refresh = () => load(`/api/bots/${query()}`, false)
  const more = () => (next.value ? load(next.value, true) : Promise.resolve())
  watch(() => query(), () => { refresh() }, { immediate: true })
  return { bots, count, next, pending, error, refresh, more }
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
  const position = useState<BotPosition | null>(`bot:${key()}:position`, () => null)
  const error = ref<string | null>(null)
  const loading = ref(false)

  async function guard<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try { return await fn() }
    catch (e: unknown) { error.value = errorDetail(e); return undefined }
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
  const refreshPosition = () => guard(async () => {
    position.value = await api<BotPosition>(`${base()}/position/`)
  })
  async function refreshAll() {
    loading.value = true
    error.value = null
    await refreshBot()
    await Promise.all([refreshOrders(), refreshTrades(), refreshEvents(), refreshMetrics(), refreshPosition()])
    loading.value = false
  }
  return { bot, activeOrders, cancelledOrders, trades, events, metrics, position, error, loading, refreshAll, refreshBot, refreshOrders, refreshTrades, refreshEvents, refreshMetrics, refreshPosition }
}

export function useBotActions() {
  const api = useApi()
  const toast = useToast()
  const { t, te } = useI18n()
  // The lifecycle answers carry a code; say it in the user's language when we know it.
  const say = (e: unknown) => { const code = errorShape(e).code; return code && te(`botErrors.${code}`) ? t(`botErrors.${code}`) : (errorDetail(e)) }
  const pending = ref<string | null>(null)
  async function act(id: number, action: 'start' | 'stop' | 'emergency-stop' | 'restart', body?: Record<string, unknown>) {
    pending.value = action
    try {
      const bot = await api<Bot>(`/api/bots/${id}/${action}/`, { method: 'POST', body: body ?? {} })
      toast.add({ title: action === 'restart' ? t('botRestart.done') : t(`bot.actionDone.${action}`), color: 'success' })
      return bot
    }
    catch (e: unknown) {
      toast.add({ title: t('common.error'), description: say(e), color: 'error' })
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
    /** A fresh launch report of a stopped bot at the current price (nothing changes). */
    restartPreview: (id: number) => api<Report>(`/api/bots/${id}/restart/preview/`, { method: 'POST', body: {} }),
    /** Restart after the user confirmed the fresh report; the server refuses it otherwise. */
    restart: (id: number, warningsSeen: string[]) => act(id, 'restart', { confirm: true, warnings_seen: warningsSeen }),
    async remove(id: number) {
      try { await api(`/api/bots/${id}/`, { method: 'DELETE' }); return true }
      catch (e: unknown) { toast.add({ title: t('common.error'), description: errorDetail(e), color: 'error' }); return false }
    },
  }
}
