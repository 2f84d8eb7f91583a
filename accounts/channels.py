class CookieTokenAuthMiddleware:
    """Placeholder; the accounts work fills this in (same cookie as the API)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        return await self.app(scope, receive, send)
