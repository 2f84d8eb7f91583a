/** Date-time formatting in the user's language that never throws on a missing or bad value. */
export function useDt() {
  const { d } = useI18n()
  return (value: string | number | Date | null | undefined, style: 'short' | 'long' = 'long'): string => {
    if (value === null || value === undefined || value === '') return '—'
    const date = value instanceof Date ? value : new Date(value)
    return Number.isNaN(date.getTime()) ? '—' : d(date, style)
  }
}
