"""Channels middleware: the WebSocket handshake carries the same `setka_access` cookie as the
API; a valid one sets scope["user"] (and scope["session_family"], the session the cookie belongs
to, so ending that session closes this socket: accounts.live), anything else leaves
AnonymousUser (the consumer closes)."""

from __future__ import annotations

from http.cookies import SimpleCookie

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from accounts.tokens import ACCESS_COOKIE, TokenError, access_token_user


def _cookie_from_headers(headers) -> str | None:
    for name, value in headers or ():
        if name.lower() == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed header means no usable cookie
                continue
            morsel = jar.get(ACCESS_COOKIE)
            if morsel is not None and morsel.value:
                return morsel.value
    return None


@database_sync_to_async
def _user_from_token(raw: str):
    try:
        return access_token_user(raw)
    except TokenError:
        return AnonymousUser()


class CookieTokenAuthMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        raw = _cookie_from_headers(scope.get("headers"))
        scope["user"] = await _user_from_token(raw) if raw else AnonymousUser()
        scope["session_family"] = getattr(scope["user"], "session_family", None)
        return await self.app(scope, receive, send)
