// Anonymous users may only see the auth pages; signed-in users skip them.
const PUBLIC = ['/login', '/register', '/verify-email', '/reset-password', '/pricing']

export default defineNuxtRouteMiddleware(async (to) => {
  const { load, user } = useAuth()
  await load()
  const isPublic = PUBLIC.includes(to.path)
  if (!user.value && !isPublic) return navigateTo({ path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} })
  if (user.value && (to.path === '/login' || to.path === '/register')) return navigateTo('/dashboard')
  if (to.path === '/') return navigateTo(user.value ? '/dashboard' : '/login')
})
