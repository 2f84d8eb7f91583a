// The one API client: same-origin cookies, CSRF header on unsafe methods, and on 401 one
// refresh of the access cookie then a retry; if that fails too, the user goes to /login.
import type { FetchOptions } from 'ofetch'
import { readCookie } from '~/utils/cookies'
import { errorMessage, fieldErrors, type ApiErrorBody } from '~/utils/report'
import { errorText, fieldTexts } from '~/utils/messages'

export class ApiError extends Error {
  status: number
  code: string
  detail: string
  fields: Record<string, string>
  constructor(status: number, body: ApiErrorBody | null, fallback: string) {
    const detail = errorMessage(body, status, fallback)
    super(detail)
    this.status = status
    this.code = (body && typeof body.code === 'string') ? body.code : ''
    this.detail = detail
    this.fields = fieldErrors(body)
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])
const NO_REFRESH = ['/api/auth/refresh/', '/api/auth/login/', '/api/auth/csrf/', '/api/auth/logout/']

type ApiOptions = FetchOptions<'json'> & { method?: string }
export type ApiFetch = <T = unknown>(url: string, options?: ApiOptions) => Promise<T>
/** What ofetch's FetchError carries that we read (a network error has none of it). */
interface FetchFailure { response?: { status?: number }, status?: number, data?: unknown }

export default defineNuxtPlugin((nuxtApp) => {
  const i18n = nuxtApp.$i18n as { locale: { value: string }, t: (k: string, p?: Record<string, unknown>) => string, te: (k: string) => boolean }

  let csrfInFlight: Promise<unknown> | null = null
  let refreshInFlight: Promise<boolean> | null = null

  const token = () => readCookie(document.cookie, 'csrftoken')

  async function ensureCsrf() {
    if (token()) return
    csrfInFlight ??= $fetch('/api/auth/csrf/', { credentials: 'include' }).finally(() => { csrfInFlight = null })
    await csrfInFlight
  }

  const raw = $fetch.create({
    credentials: 'include',
    retry: 0,
    async onRequest({ options }) {
      // The server's texts follow the page's language (the profile's once signed in).
      const withLanguage = new Headers(options.headers as HeadersInit | undefined)
      withLanguage.set('Accept-Language', i18n.locale.value)
      options.headers = withLanguage
      const method = String(options.method || 'GET').toUpperCase()
      if (!SAFE.has(method)) {
        await ensureCsrf()
        const headers = new Headers(options.headers as HeadersInit | undefined)
        const t = token()
        if (t) headers.set('X-CSRFToken', t)
        options.headers = headers
      }
    },
  })

  type RawOptions = Parameters<typeof raw>[1]

  function refresh(): Promise<boolean> {
    refreshInFlight ??= raw('/api/auth/refresh/', { method: 'POST' })
      .then(() => true, () => false)
      .finally(() => { refreshInFlight = null })
    return refreshInFlight
  }

  function toError(e: unknown): ApiError {
    const failure = (e && typeof e === 'object' ? e : {}) as FetchFailure
    const status = failure.response?.status ?? failure.status ?? 0
    const body = failure.data ?? null
    const error = new ApiError(status, typeof body === 'object' ? body as ApiErrorBody | null : null, status ? 'Request failed' : 'Network error: the server cannot be reached')
    // What the user reads is said by code in the page's language (utils/messages.ts).
    const locale = i18n.locale.value
    error.detail = errorText(error, i18n.t, i18n.te, locale)
    error.message = error.detail
    error.fields = fieldTexts(error.fields, i18n.t, locale)
    return error
  }

  const api: ApiFetch = async <T>(url: string, options: ApiOptions = {}): Promise<T> => {
    try {
      return await raw<T>(url, options as RawOptions)
    }
    catch (e: unknown) {
      const status = (e && typeof e === 'object' ? e as FetchFailure : {}).response?.status
      if (status === 401 && !NO_REFRESH.some(p => url.startsWith(p))) {
        if (await refresh()) {
          try { return await raw<T>(url, options as RawOptions) }
          catch (e2) { throw toError(e2) }
        }
        useState<unknown>('auth.user').value = null
        const route = useRoute()
        if (!['/login', '/register'].includes(route.path)) {
          await navigateTo({ path: '/login', query: { next: route.fullPath } })
        }
      }
      throw toError(e)
    }
  }

  return { provide: { api } }
})
