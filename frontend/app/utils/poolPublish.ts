// The "publish a pool" form (POST /api/pools/): what a manager types becomes the request body.
// Amounts and fee percents stay decimal strings (a comma is accepted as the decimal point); the
// server validates everything again and answers in the user's language.

export interface PoolPublishForm {
  bot: number | undefined
  name: string
  description: string
  risk_level: 'low' | 'medium' | 'high'
  min_investment: string
  max_investment: string
  performance_fee_percent: string
  management_fee_percent: string
}

export interface PoolPublishBody {
  bot: number
  name: string
  description: string
  risk_level: 'low' | 'medium' | 'high'
  min_investment: string
  max_investment: string
  performance_fee_percent: string
  management_fee_percent: string
}

const DECIMAL = /^\d+(\.\d+)?$/

export function decimalInput(value: string): string {
  return (value ?? '').replace(',', '.').replace(/\s+/g, '')
}

/** Field -> i18n key of what is wrong before anything is sent (empty: ready to send). */
export function publishProblems(form: PoolPublishForm): Record<string, string> {
  const out: Record<string, string> = {}
  if (!form.bot) out.bot = 'pools.publish.needBot'
  if (!form.name.trim()) out.name = 'pools.publish.needText'
  if (!form.description.trim()) out.description = 'pools.publish.needText'
  for (const key of ['min_investment', 'max_investment', 'performance_fee_percent', 'management_fee_percent'] as const) {
    if (!DECIMAL.test(decimalInput(form[key]))) out[key] = 'pools.publish.needNumber'
  }
  if (!out.min_investment && !out.max_investment
    && Number(decimalInput(form.max_investment)) < Number(decimalInput(form.min_investment))) {
    out.max_investment = 'pools.publish.maxBelowMin'
  }
  return out
}

export function publishBody(form: PoolPublishForm): PoolPublishBody {
  return {
    bot: form.bot as number,
    name: form.name.trim(),
    description: form.description.trim(),
    risk_level: form.risk_level,
    min_investment: decimalInput(form.min_investment),
    max_investment: decimalInput(form.max_investment),
    performance_fee_percent: decimalInput(form.performance_fee_percent),
    management_fee_percent: decimalInput(form.management_fee_percent) || '0',
  }
}
