import { describe, expect, it } from 'vitest'
import { errorMessage, fieldErrors, needsAcknowledgement, classifySeq, outsideText, sortWarnings, warningText } from '~/utils/report'

const dict: Record<string, string> = { 'warnings.fee_exceeds_profit': 'Комиссия {fee}% больше прибыли' }
const t = (k: string, p?: Record<string, unknown>) => dict[k]!.replace(/\{(\w+)\}/g, (_, n) => String(p?.[n] ?? ''))
const te = (k: string) => k in dict

describe('report rendering', () => {
  it('renders a known warning code in the user language with params', () => {
    expect(warningText({ code: 'fee_exceeds_profit', severity: 'danger', message: 'Fee above profit', params: { fee: '0.2000' } }, t, te))
      .toBe('Комиссия 0.2% больше прибыли')
  })
  it('falls back to the server message for an unknown code', () => {
    expect(warningText({ code: 'new_thing', severity: 'info', message: 'Something new' }, t, te)).toBe('Something new')
  })
  it('sorts danger first and keeps server order otherwise', () => {
    const ws = [{ severity: 'info', id: 1 }, { severity: 'danger', id: 2 }, { severity: 'info', id: 3 }, { severity: 'warning', id: 4 }]
    expect(sortWarnings(ws).map(w => w.id)).toEqual([2, 4, 1, 3])
    expect(needsAcknowledgement([{ severity: 'info' }])).toBe(false)
    expect(needsAcknowledgement([{ severity: 'info' }, { severity: 'warning' }])).toBe(true)
  })
  it('reads field errors from the contract shape and from DRF shape', () => {
    expect(fieldErrors({ detail: 'x', fields: { email: ['Taken.'] } })).toEqual({ email: 'Taken.' })
    expect(fieldErrors({ password: ['Too short.', 'Too common.'] })).toEqual({ password: 'Too short. Too common.' })
    expect(fieldErrors({ config: { lower_price: ['Must be positive.'] } })).toEqual({ 'config.lower_price': 'Must be positive.' })
  })
  it('gives one readable message for any error', () => {
    expect(errorMessage({ detail: 'Email not verified', code: 'email_unverified' }, 403)).toBe('Email not verified')
    expect(errorMessage({ email: ['Enter a valid email.'] }, 400)).toBe('email: Enter a valid email.')
    expect(errorMessage(null, 502)).toBe('Request failed (502)')
  })
  it('detects a gap in the live event sequence', () => {
    expect(classifySeq(null, 7)).toBe('first')
    expect(classifySeq(6, 7)).toBe('next')
    expect(classifySeq(6, 9)).toBe('gap')
    expect(classifySeq(6, 6)).toBe('duplicate')
  })
})

import { readCookie, toQuery } from '~/utils/cookies'

describe('request helpers', () => {
  it('reads the csrftoken cookie among others', () => {
    expect(readCookie('a=1; csrftoken=abc%3D; b=2', 'csrftoken')).toBe('abc=')
    expect(readCookie('a=1', 'csrftoken')).toBeNull()
  })
  it('builds filter queries without empty values', () => {
    expect(toQuery({ bot: 3, symbol: '', side: 'Buy', date_from: null })).toBe('?bot=3&side=Buy')
    expect(toQuery({})).toBe('')
  })
})

describe('outsideText', () => {
  const t = (key: string, p?: Record<string, unknown>) => `${key} ${JSON.stringify(p)}`

  it('renders the spot loss below the range from the figures, in the user language', () => {
    const below = { price: '55700.00', base_qty: '0.01754144', value: '985.91', loss: '14.09', message: 'If the price…' }
    const text = outsideText('below', below, t, { base: 'BTC', quote: 'USDT' })
    expect(text.startsWith('report.outside.spot_below')).toBe(true)
    expect(text).toContain('"qty":"0.01754144"')
    expect(text).toContain('"loss":"14.09"')
    expect(text).toContain('"base":"BTC"')
  })

  it('uses the linear sentence when the report carries a position, without its sign', () => {
    const text = outsideText('above', { price: '58000', position: '-0.012', pnl: '-3.40' }, t, { base: 'BTC' })
    expect(text.startsWith('report.outside.linear_above')).toBe(true)
    expect(text).toContain('"position":"0.012"')
  })

  it('falls back to the server message for a shape it does not know', () => {
    expect(outsideText('below', { message: 'Server text' }, t)).toBe('Server text')
    expect(outsideText('above', 'plain', t)).toBe('plain')
    expect(outsideText('above', null, t)).toBe('')
  })
})
