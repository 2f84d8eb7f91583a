import type { Session, User } from '~/types/api'

export function useAuth() {
  const api = useApi()
  const user = useState<User | null>('auth.user', () => null)
  const loaded = useState<boolean>('auth.loaded', () => false)
  // Not useI18n(): this also runs in route middleware, outside a component's setup.
  const i18n = useNuxtApp().$i18n
  const locale = i18n.locale
  const setLocale = (l: 'ru' | 'en') => i18n.setLocale(l)
  const colorMode = useColorMode()

  function applyPreferences(u: User | null) {
    if (!u) return
    if (u.language && ['ru', 'en'].includes(u.language) && u.language !== locale.value) setLocale(u.language as 'ru' | 'en')
    if (u.theme && ['light', 'dark', 'system'].includes(u.theme)) colorMode.preference = u.theme
  }

  function setUser(u: User | null) {
    user.value = u
    applyPreferences(u)
    return u
  }

  async function load(force = false) {
    if (loaded.value && !force) return user.value
    try {
      const s = await api<Session>('/api/auth/session/')
      setUser(s.authenticated ? s.user : null)
    }
    catch {
      user.value = null
    }
    loaded.value = true
    return user.value
  }

  // Some endpoints answer `{ user }`, others the user itself.
  const pick = (r: unknown): User => ((r && typeof r === 'object' && 'user' in r && r.user) ? r.user : r) as User

  return {
    user,
    loaded,
    load,
    isLoggedIn: computed(() => !!user.value),
    async login(email: string, password: string, otp = '') {
      const body = otp ? { email, password, otp } : { email, password }
      return setUser(pick(await api('/api/auth/login/', { method: 'POST', body })))
    },
    async logoutEverywhere() {
      try { await api('/api/auth/sessions/end-all/', { method: 'POST' }) }
      finally {
        user.value = null
        await navigateTo('/login')
      }
    },
    async signup(body: { email: string, password: string, access_code?: string }) {
      return pick(await api('/api/auth/signup/', { method: 'POST', body: { ...body, language: locale.value } }))
    },
    async verifyEmail(email: string, code: string) {
      return pick(await api('/api/auth/email/verify/', { method: 'POST', body: { email, code } }))
    },
    resendEmail: (email: string) => api('/api/auth/email/resend/', { method: 'POST', body: { email } }),
    resetPassword: (email: string) => api('/api/auth/password/reset/', { method: 'POST', body: { email } }),
    resetConfirm: (email: string, code: string, password: string) =>
      api('/api/auth/password/reset/confirm/', { method: 'POST', body: { email, code, password } }),
    sendPhoneCode: (phone: string) => api('/api/auth/phone/', { method: 'POST', body: { phone } }),
    async verifyPhone(code: string) {
      return setUser(pick(await api('/api/auth/phone/verify/', { method: 'POST', body: { code } })))
    },
    async redeem(code: string) {
      return setUser(pick(await api('/api/auth/access/redeem/', { method: 'POST', body: { code } })))
    },
    async updateMe(body: Partial<Pick<User, 'language' | 'theme' | 'notify_email'>>) {
      return setUser(pick(await api('/api/auth/me/', { method: 'PATCH', body })))
    },
    async logout() {
      try { await api('/api/auth/logout/', { method: 'POST' }) }
      finally {
        user.value = null
        await navigateTo('/login')
      }
    },
  }
}
