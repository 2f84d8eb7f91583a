import { describe, expect, it } from 'vitest'
import { decimalsOf, formatMoney, formatPercent, formatPrice, formatQty, groupThousands, roundToStep, sign } from '~/utils/decimal'

describe('decimal formatting', () => {
  it('counts decimals of a tick', () => {
    expect(decimalsOf('0.10')).toBe(1)
    expect(decimalsOf('0.001')).toBe(3)
    expect(decimalsOf('1')).toBe(0)
    expect(decimalsOf('0.00000100')).toBe(6)
  })
  it('formats a price on the tick without float noise', () => {
    expect(formatPrice('95123.456', '0.1', false)).toBe('95123.5')
    expect(formatPrice('0.1', '0.01', false)).toBe('0.10')
    expect(formatPrice('0.3', '0.1', false)).toBe('0.3')
    expect(formatPrice('95123.456', '0.1')).toBe('95\u2009123.5')
    expect(formatPrice('2.675', '0.01', false)).toBe('2.68') // float would give 2.67
  })
  it('rounds to steps that are not powers of ten', () => {
    expect(roundToStep('12.3', '0.5', 'nearest')).toBe('12.5')
    expect(roundToStep('12.3', '0.5', 'down')).toBe('12.0')
    expect(roundToStep('127', '5', 'up')).toBe('130')
  })
  it('rounds quantities down to the step', () => {
    expect(formatQty('0.0019999', '0.001')).toBe('0.001')
    expect(formatQty('1.5', '1')).toBe('1')
  })
  it('shows a dash for missing values', () => {
    expect(formatPrice(null, '0.1')).toBe('—')
    expect(formatQty(undefined, '0.1')).toBe('—')
    expect(formatMoney('abc')).toBe('—')
  })
  it('formats money and percentages with sign', () => {
    expect(formatMoney('1234567.891')).toBe('1\u2009234\u2009567.89')
    expect(formatMoney('-0.005')).toBe('-0.01')
    expect(formatMoney('5', 2, true)).toBe('+5.00')
    expect(formatPercent('12.345')).toBe('12.35%')
    expect(groupThousands('-1000.5', ',')).toBe('-1,000.5')
    expect(sign('-0.01')).toBe(-1)
    expect(sign('0.00')).toBe(0)
    expect(sign('3')).toBe(1)
  })
})

import { formatPlain } from '~/utils/decimal'
describe('plain decimals', () => {
  it('drops trailing zeros without floats', () => {
    expect(formatPlain('95000.500')).toBe('95\u2009000.5')
    expect(formatPlain('0.00010000')).toBe('0.0001')
    expect(formatPlain(null)).toBe('—')
  })
})
