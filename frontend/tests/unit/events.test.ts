import { describe, expect, it } from 'vitest'
import { eventText } from '~/utils/events'

const dict: Record<string, string> = {
  'events.filled_level': '{side} {qty} {symbol} исполнена по {price} (линия {level})',
  'trades.buy': 'Покупка',
}
const t = (k: string, p?: Record<string, unknown>) => dict[k]!.replace(/\{(\w+)\}/g, (_, n) => String(p?.[n] ?? ''))
const te = (k: string) => k in dict

describe('bot log in the user language', () => {
  it('renders a coded event from the locale, with the side translated and numbers trimmed', () => {
    const e = {
      kind: 'filled',
      message: 'Buy 0.0017 BTCUSDT filled at 52000 (line 3)',
      data: { code: 'filled_level', params: { side: 'Buy', qty: '0.001700', symbol: 'BTCUSDT', price: '52000.00', level: '3' } },
    }
    expect(eventText(e, t, te)).toBe('Покупка 0.0017 BTCUSDT исполнена по 52\u2009000 (линия 3)')  // thin-space grouping, as everywhere
  })

  it('shows the server message for events without a known code', () => {
    expect(eventText({ kind: 'error', message: 'Exchange down', data: {} }, t, te)).toBe('Exchange down')
    expect(eventText({ kind: 'info', message: 'x', data: { code: 'unknown_code' } }, t, te)).toBe('x')
    expect(eventText({ kind: 'stopped', data: null }, t, te)).toBe('stopped')
  })
})
