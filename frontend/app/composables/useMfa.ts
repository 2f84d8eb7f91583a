// Two-factor authentication: TOTP set-up and recovery codes (/api/auth/mfa/...).
import type { MfaRecoveryCodes, MfaSetup, MfaState } from '~/types/api'

export function useMfa() {
  const api = useApi()
  const state = useApiGet<MfaState>('mfa-state', '/api/auth/mfa/totp/')
  return {
    state,
    begin: () => api<MfaSetup>('/api/auth/mfa/totp/', { method: 'POST' }),
    confirm: async (code: string) => {
      const answer = await api<MfaRecoveryCodes>('/api/auth/mfa/totp/', { method: 'PUT', body: { code } })
      await state.refresh()
      return answer
    },
    disable: async (code: string) => {
      await api<MfaState>('/api/auth/mfa/totp/', { method: 'DELETE', body: { code } })
      await state.refresh()
    },
    regenerate: async (code: string) => {
      const answer = await api<MfaRecoveryCodes>('/api/auth/mfa/recovery-codes/', { method: 'POST', body: { code } })
      await state.refresh()
      return answer
    },
  }
}
