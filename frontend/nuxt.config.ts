// Setka web app: a static single-page app served by Django on the same origin as /api and /ws.
const uiIcons = [
  'arrow-down', 'arrow-left', 'arrow-right', 'arrow-up', 'arrow-up-right', 'check', 'chevron-down',
  'chevron-left', 'chevron-right', 'chevron-up', 'chevrons-left', 'chevrons-right', 'circle-alert',
  'circle-check', 'circle-x', 'copy', 'copy-check', 'ellipsis', 'eye', 'eye-off', 'file', 'folder',
  'folder-open', 'grip-vertical', 'hash', 'info', 'lightbulb', 'loader-circle', 'menu', 'minus',
  'monitor', 'moon', 'panel-left-close', 'panel-left-open', 'plus', 'rotate-ccw', 'search', 'square',
  'star', 'sun', 'terminal', 'triangle-alert', 'upload', 'x', 'circle-help', 'credit-card', 'newspaper', 'users', 'radar', 'history', 'pie-chart',
].map(name => `lucide:${name}`)

export default defineNuxtConfig({
  compatibilityDate: '2026-01-01',
  ssr: false,
  devtools: { enabled: false },
  telemetry: false,
  modules: ['@nuxt/ui', '@nuxtjs/i18n', '@vueuse/nuxt', '@pinia/nuxt'],
  css: ['~/assets/css/main.css'],
  app: {
    head: {
      title: 'Setka',
      htmlAttrs: { lang: 'ru' },
      meta: [
        { name: 'viewport', content: 'width=device-width, initial-scale=1, viewport-fit=cover' },
        { name: 'description', content: 'Setka — grid trading bots for Bybit' },
      ],
      link: [{ rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }],
    },
  },
  // Offline build: no font downloads, icons bundled from @iconify-json/lucide.
  ui: { fonts: false, colorMode: true },
  icon: {
    provider: 'none',
    serverBundle: false,
    clientBundle: { scan: true, icons: uiIcons, sizeLimitKb: 256 },
  },
  colorMode: { preference: 'system', fallback: 'dark', storageKey: 'setka-color-mode' },
  i18n: {
    strategy: 'no_prefix',
    defaultLocale: 'ru',
    langDir: 'locales',
    locales: [
      { code: 'ru', language: 'ru-RU', name: 'Русский', file: 'ru.json' },
      { code: 'en', language: 'en-US', name: 'English', file: 'en.json' },
    ],
    // Russian unless the user chose otherwise (plugins/locale.client.ts remembers the choice).
    detectBrowserLanguage: false,
  },
  nitro: {
    devProxy: {
      '/api': { target: 'http://127.0.0.1:8000/api', changeOrigin: true },
      '/ws': { target: 'ws://127.0.0.1:8000/ws', ws: true, changeOrigin: true },
    },
  },
  experimental: {
    // Phones on metered data: fetch another page's code when the user reaches for its link,
    // not as soon as the link is on screen (the charts library alone is ~54 KB gzipped).
    defaults: { nuxtLink: { prefetchOn: { visibility: false, interaction: true } } },
  },
  typescript: { typeCheck: false },
})
