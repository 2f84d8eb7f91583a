import { describe, expect, it } from 'vitest'
import { dayEndIso, dayStartIso } from '~/utils/dates'

describe('trade filter days', () => {
  it('"to" a day takes in the whole of that day (local time)', () => {
    const start = new Date(dayStartIso('2026-05-19'))
    const end = new Date(dayEndIso('2026-05-19'))
    expect(end.getTime() - start.getTime()).toBe(24 * 3600 * 1000)
    expect([end.getFullYear(), end.getMonth(), end.getDate(), end.getHours()]).toEqual([2026, 4, 20, 0])
    const lateEvening = new Date(2026, 4, 19, 23, 59, 59)
    expect(lateEvening < end && lateEvening >= start).toBe(true)
  })
  it('gives nothing for an empty or broken day', () => {
    expect(dayEndIso('')).toBe('')
    expect(dayStartIso('19.05.2026')).toBe('')
  })
})
