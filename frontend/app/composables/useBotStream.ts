// Live events over /ws/: subscribe to a bot, notice a gap in `seq` or a reconnect, and ask the
// page to refetch over REST then. The connection state is shared so the header can show a badge.
import { useWebSocket } from '@vueuse/core'
import type { LiveMessage } from '~/types/api'
import { classifySeq } from '~/utils/report'

export type LiveStatus = 'idle' | 'connecting' | 'open' | 'closed'

export function useLiveStatus() {
  return useState<LiveStatus>('live.status', () => 'idle')
}

export function useBotStream(botId: MaybeRefOrGetter<number | null>, handlers: {
  onEvent?: (msg: LiveMessage) => void
  onResync?: () => void
}) {
  const status = useLiveStatus()
  const lastSeq = useState<number | null>('live.seq', () => null)
  let opens = 0
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/`
  const ws = useWebSocket(url, {
    autoReconnect: { retries: () => true, delay: 1500 },
    heartbeat: false,
    onConnected(socket) {
      opens++
      status.value = 'open'
      const id = toValue(botId)
      if (id) socket.send(JSON.stringify({ action: 'subscribe_bot', bot_id: id }))
      // Anything sent while we were away is lost: refetch after a reconnect.
      if (opens > 1) handlers.onResync?.()
    },
    onDisconnected(_socket, event) {
      status.value = 'closed'
      // 4401: the server ended this session (logout elsewhere, password change, revoked): stop
      // reconnecting and sign in again. 4403 (trading access ended) reconnects, read-only.
      if (event?.code === 4401) {
        ws.close()
        const next = location.pathname + location.search
        navigateTo({ path: '/login', query: { next } })
      }
    },
    onError() { status.value = 'closed' },
    onMessage(_socket, ev) {
      let msg: LiveMessage
      try { msg = JSON.parse(ev.data) }
      catch { return }
      if (typeof msg.seq !== 'number') return
      if (msg.type !== 'event') {
        // hello / subscribed / pong carry the server's current seq: a higher one means we missed events.
        if (lastSeq.value !== null && msg.seq > lastSeq.value) handlers.onResync?.()
        lastSeq.value = Math.max(lastSeq.value ?? msg.seq, msg.seq)
        return
      }
      const where = classifySeq(lastSeq.value, msg.seq)
      if (where === 'duplicate') return
      lastSeq.value = msg.seq
      const id = toValue(botId)
      if (where === 'gap') { handlers.onResync?.(); return }
      if (id && msg.bot_id !== Number(id)) return
      handlers.onEvent?.(msg)
    },
  })
  status.value = 'connecting'
  onBeforeUnmount(() => {
    const id = toValue(botId)
    if (id && ws.status.value === 'OPEN') ws.send(JSON.stringify({ action: 'unsubscribe_bot', bot_id: id }))
    ws.close()
    status.value = 'idle'
  })
  return { status: ws.status }
}
