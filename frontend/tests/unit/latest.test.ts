import { describe, expect, it } from 'vitest'
import { latestGate } from '~/utils/latest'

describe('the newest answer for the newest inputs', () => {
  it('an answer to the newest request with no change since stands', () => {
    const gate = latestGate()
    gate.changed()
    const a = gate.ticket()
    expect(a.current()).toBe(true)
  })
  it('an answer asked before the inputs changed is stale even before the next request starts', () => {
    const gate = latestGate()
    gate.changed()
    const a = gate.ticket() // the report of the default range is on its way...
    gate.changed() // ...the user types a new range; its debounced request has not started
    expect(a.current()).toBe(false)
    const b = gate.ticket()
    expect(b.current()).toBe(true)
  })
  it('an older request answered after a newer one started is stale', () => {
    const gate = latestGate()
    const a = gate.ticket()
    const b = gate.ticket()
    expect(a.current()).toBe(false)
    expect(b.current()).toBe(true)
  })
})
