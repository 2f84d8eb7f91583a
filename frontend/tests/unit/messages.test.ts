import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { errorText, fieldTexts, stopReasonText } from '~/utils/messages'
import { eventText } from '~/utils/events'
import { normalizeDecimalInput, parseDecimalInput } from '~/utils/decimal'

type Tree = { [k: string]: string | Tree }
const load = (lang: string): Tree => JSON.parse(readFileSync(fileURLToPath(new URL(`../../i18n/locales/${lang}.json`, import.meta.url)), 'utf8'))
const ru = load('ru')
const en = load('en')

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`)))
}
function lookup(tree: Tree, key: string): string | undefined {
  let node: string | Tree | undefined = tree
  for (const part of key.split('.')) node = typeof node === 'object' ? node[part] : undefined
  return typeof node === 'string' ? node : undefined
}
function i18n(tree: Tree) {
  const t = (k: string, p?: Record<string, unknown>) => (lookup(tree, k) ?? k).replace(/\{(\w+)\}/g, (_, n) => String(p?.[n] ?? ''))
  const te = (k: string) => lookup(tree, k) !== undefined
  return { t, te }
}

describe('both locales are complete', () => {
  it('have the same keys and no empty text', () => {
    const r = keys(ru).sort()
    const e = keys(en).sort()
    expect(r.filter(k => !e.includes(k))).toEqual([])
    expect(e.filter(k => !r.includes(k))).toEqual([])
    expect(r.filter(k => !lookup(ru, k)!.trim())).toEqual([])
    expect(e.filter(k => !lookup(en, k)!.trim())).toEqual([])
  })

  it('have a text for every error, stop reason and log line the server can send', () => {
    // config/codes.py is the server's registry; tests/config/test_codes.py checks it against both files
    const codes = readFileSync(fileURLToPath(new URL('../../../config/codes.py', import.meta.url)), 'utf8')
    const sections: Record<string, string> = { ERRORS: 'errors', STOP_REASONS: 'stop', EVENTS: 'events' }
    const missing: string[] = []
    for (const [name, section] of Object.entries(sections)) {
      const body = codes.split(`${name}: dict[str, str] = {`)[1]!.split('\n}\n')[0]!
      const found = [...body.matchAll(/^\s+"([a-z_]+)":/gm)].map(m => m[1])
      expect(found.length).toBeGreaterThan(5)
      for (const code of found) {
        for (const [lang, tree] of [['ru', ru], ['en', en]] as const) {
          if (lookup(tree, `${section}.${code}`) === undefined) missing.push(`${lang}:${section}.${code}`)
        }
      }
    }
    expect(missing).toEqual([])
  })
})

describe('server messages in the page language', () => {
  it('an error is said by its code, not in the server language', () => {
    const { t, te } = i18n(en)
    expect(errorText({ code: 'invalid_credentials', detail: 'Неверный email или пароль.', status: 400 }, t, te, 'en')).toBe('Wrong email or password.')
    const r = i18n(ru)
    expect(errorText({ code: 'invalid_credentials', detail: 'Wrong email or password.', status: 400 }, r.t, r.te, 'ru')).toBe('Неверный email или пароль.')
  })

  it('keeps a precise detail in the page language, and never shows another language', () => {
    const { t, te } = i18n(en)
    expect(errorText({ code: 'invalid', detail: 'password: This password is too short.', status: 400 }, t, te, 'en')).toBe('password: This password is too short.')
    expect(errorText({ code: 'invalid', detail: 'password: Пароль слишком короткий.', status: 400 }, t, te, 'en')).toBe('Check the highlighted fields.')
    expect(errorText({ code: 'something_new', detail: 'Ошибка', status: 500 }, t, te, 'en')).toBe('Something went wrong. Try again.')
    expect(errorText({ code: '', detail: '', status: 0 }, t, te, 'en')).toBe('The server cannot be reached. Check the connection.')
    expect(fieldTexts({ email: 'Введите правильный адрес.', password: 'Too short.' }, t, 'en')).toEqual({ email: 'Check the highlighted fields.', password: 'Too short.' })
  })

  it('a stopped bot says why in the user language', () => {
    const r = i18n(ru)
    expect(stopReasonText({ stop_code: 'take_profit', stop_reason: 'Take profit 60000 reached' }, r.t, r.te)).toBe('Достигнут тейк-профит')
    expect(stopReasonText({ stop_code: '', stop_reason: 'Old reason' }, r.t, r.te)).toBe('Old reason')
    const e = { kind: 'stopped', message: 'Stopped: Stopped by the user. All orders cancelled.', data: { code: 'stopped', params: { reason_code: 'user', qty: '' } } }
    expect(eventText(e, r.t, r.te)).toBe('Остановлен: Остановлен вами. Все ордера отменены')
    expect(eventText(e, i18n(en).t, i18n(en).te)).toBe('Stopped: Stopped by you. All orders cancelled')
  })
})

describe('decimal commas', () => {
  it('reads what people type', () => {
    expect(parseDecimalInput('54000,5')).toBe('54000.5')
    expect(parseDecimalInput(' 54 000,5 ')).toBe('54000.5')
    expect(parseDecimalInput('54\u00a0000,5')).toBe('54000.5')
    expect(parseDecimalInput('1,234.5')).toBe('1234.5')
    expect(parseDecimalInput('1.234,5')).toBe('1234.5')
    expect(parseDecimalInput('1,234,567')).toBe('1234567')
    expect(parseDecimalInput('0,001')).toBe('0.001')
    expect(parseDecimalInput('54000.5')).toBe('54000.5')
    expect(parseDecimalInput(',5')).toBe('.5')
    expect(normalizeDecimalInput('54000,')).toBe('54000.')
  })

  it('refuses what is not a number', () => {
    for (const bad of ['', 'abc', '5,4,3.2,1', '1..2', '12a', '--1'])
      expect(parseDecimalInput(bad)).toBeNull()
  })
})

describe('fees', () => {
  it('are rounded to the coin precision', async () => {
    const { formatFee } = await import('~/utils/decimal')
    expect(formatFee('0.509490000000000000', 'USDT')).toBe('0.5095')
    expect(formatFee('0.000010000000000000', 'BTC')).toBe('0.00001')
    expect(formatFee('0.000000123456789000', 'BTC')).toBe('0.00000012')
    expect(formatFee('0.000000000000000000', 'USDT')).toBe('0')
  })
})
