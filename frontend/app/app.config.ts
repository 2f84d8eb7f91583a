export default defineAppConfig({
  ui: {
    colors: { primary: 'emerald', neutral: 'slate' },
  },
})
