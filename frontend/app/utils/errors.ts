// What a caught value says. `catch (e)` gives `unknown`: the API client throws ApiError
// (plugins/api.ts) with detail, code and fields; anything else is shown as its text.

export interface ErrorShape { detail?: string, code?: string, fields?: Record<string, string> }

/** The ApiError fields a caught value carries (each absent when it has none). */
export function errorShape(e: unknown): ErrorShape {
  if (!e || typeof e !== 'object') return {}
  const o = e as Record<string, unknown>
  return {
    detail: typeof o.detail === 'string' ? o.detail : undefined,
    code: typeof o.code === 'string' ? o.code : undefined,
    fields: o.fields && typeof o.fields === 'object' ? o.fields as Record<string, string> : undefined,
  }
}

/** The text to show for a caught value: the API's detail, else the value itself. */
export function errorDetail(e: unknown): string {
  return errorShape(e).detail ?? String(e)
}
