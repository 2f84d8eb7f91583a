import type { ApiFetch } from '~/plugins/api'
import type { MaybeRefOrGetter } from 'vue'

/** The shared API client (plugins/api.ts). */
export function useApi(): ApiFetch {
  return useNuxtApp().$api as ApiFetch
}

/** A reactive GET: re-runs when the url changes; `null` url means "not yet". */
export function useApiGet<T>(key: string, url: MaybeRefOrGetter<string | null>, options: { default?: () => T, immediate?: boolean } = {}) {
  const api = useApi()
  const data = useState<T | null>(`get:${key}`, () => (options.default ? options.default() : null))
  const error = ref<string | null>(null)
  const pending = ref(false)
  let token = 0
  async function refresh() {
    const u = toValue(url)
    if (!u) return
    const mine = ++token
    pending.value = true
    try {
      const res = await api<T>(u)
      if (mine === token) { data.value = res; error.value = null }
    }
    catch (e: unknown) {
      if (mine === token) error.value = errorDetail(e)
    }
    finally {
      if (mine === token) pending.value = false
    }
  }
  watch(() => toValue(url), () => { refresh() }, { immediate: options.immediate !== false })
  return { data, error, pending, refresh }
}

/** Run an action and keep its error and field errors for the form under it. */
export function useAction() {
  const pending = ref(false)
  const error = ref<string | null>(null)
  const fields = ref<Record<string, string>>({})
  const code = ref('')
  /** Resolves to the action's value, or to `false` when it failed (the error is kept). */
  async function run<T>(fn: () => Promise<T>): Promise<T | false> {
    pending.value = true
    error.value = null
    fields.value = {}
    code.value = ''
    try {
      return await fn()
    }
    catch (e: unknown) {
      error.value = errorDetail(e)
      fields.value = errorShape(e).fields ?? {}
      code.value = errorShape(e).code ?? ''
      return false
    }
    finally {
      pending.value = false
    }
  }
  return { pending, error, fields, code, run }
}
