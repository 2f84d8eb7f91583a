// Russian by default; the user's last choice of language is remembered on this device.
const KEY = 'setka_lang'

export default defineNuxtPlugin({
  name: 'setka-locale',
  dependsOn: ['i18n:plugin'],
  async setup(nuxtApp) {
    const i18n = nuxtApp.$i18n
    const saved = localStorage.getItem(KEY)
    if ((saved === 'ru' || saved === 'en') && saved !== i18n.locale.value) await i18n.setLocale(saved)
    nuxtApp.hook('i18n:localeSwitched', ({ newLocale }) => {
      localStorage.setItem(KEY, newLocale)
    })
  },
})
