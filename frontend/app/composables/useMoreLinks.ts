// The pages beyond the everyday ones (plans, partners, help, news): one list for the header on
// wide screens and the Settings page on phones.
export function useMoreLinks() {
  const { t } = useI18n()
  return computed(() => [
    { to: '/screener', label: t('nav.screener'), icon: 'i-lucide-radar' },
    { to: '/backtests', label: t('nav.backtests'), icon: 'i-lucide-history' },
    { to: '/portfolio', label: t('nav.portfolio'), icon: 'i-lucide-pie-chart' },
    { to: '/pools', label: t('nav.pools'), icon: 'i-lucide-handshake' },
    { to: '/billing', label: t('nav.billing'), icon: 'i-lucide-credit-card' },
    { to: '/partners', label: t('nav.partners'), icon: 'i-lucide-users' },
    { to: '/help', label: t('nav.help'), icon: 'i-lucide-circle-help' },
    { to: '/news', label: t('nav.news'), icon: 'i-lucide-newspaper' },
  ])
}
