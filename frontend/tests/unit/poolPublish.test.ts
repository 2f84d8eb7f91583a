import { describe, expect, it } from 'vitest'
import { publishBody, publishProblems, type PoolPublishForm } from '~/utils/poolPublish'

const form = (over: Partial<PoolPublishForm> = {}): PoolPublishForm => ({
  bot: 7,
  name: ' BTC range ',
  description: 'A calm grid.',
  risk_level: 'low',
  min_investment: '20',
  max_investment: '3 000,50',
  performance_fee_percent: '15',
  management_fee_percent: '0,5',
  ...over,
})

describe('publishing a pool', () => {
  it('turns the form into the POST /api/pools/ body with decimal strings', () => {
    expect(publishProblems(form())).toEqual({})
    expect(publishBody(form())).toEqual({
      bot: 7,
      name: 'BTC range',
      description: 'A calm grid.',
      risk_level: 'low',
      min_investment: '20',
      max_investment: '3000.50',
      performance_fee_percent: '15',
      management_fee_percent: '0.5',
    })
  })
  it('names what is missing or wrong before sending', () => {
    expect(publishProblems(form({ bot: undefined, name: ' ', performance_fee_percent: 'abc' }))).toEqual({
      bot: 'pools.publish.needBot',
      name: 'pools.publish.needText',
      performance_fee_percent: 'pools.publish.needNumber',
    })
    expect(publishProblems(form({ min_investment: '500', max_investment: '100' }))).toEqual({ max_investment: 'pools.publish.maxBelowMin' })
  })
})
