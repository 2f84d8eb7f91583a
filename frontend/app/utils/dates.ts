// Day filters in the user's own time zone: "from 19 May to 19 May" is the whole of 19 May there.

function parts(day: string): [number, number, number] | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day.trim())
  return m ? [Number(m[1]), Number(m[2]) - 1, Number(m[3])] : null
}

/** The first instant of `day` (YYYY-MM-DD) in the local time zone, as ISO 8601 UTC; '' if none. */
export function dayStartIso(day: string): string {
  const p = parts(day)
  return p ? new Date(p[0], p[1], p[2]).toISOString() : ''
}

/** The first instant after `day` (exclusive end, so the whole day is in), as ISO 8601 UTC. */
export function dayEndIso(day: string): string {
  const p = parts(day)
  return p ? new Date(p[0], p[1], p[2] + 1).toISOString() : ''
}
