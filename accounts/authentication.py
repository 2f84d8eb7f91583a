"""DRF authentication from the `setka_access` cookie, with CSRF enforced for unsafe methods
(a cookie is sent by the browser on cross-site requests too, exactly like a session cookie)."""

from __future__ import annotations

from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.tokens import ACCESS_COOKIE, TokenError, TokenExpired, access_token_user


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def enforce_csrf(request) -> None:
    """Raise PermissionDenied (403) when an unsafe request lacks a valid X-CSRFToken."""

    def dummy_get_response(request):  # pragma: no cover - never called
        return None

    check = _CSRFCheck(dummy_get_response)
    check.process_request(request)
    # Django accepts callback=None (DRF does the same); the stub demands a view callable.
    reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
    if reason:
        raise exceptions.PermissionDenied(_("CSRF failed: %(reason)s") % {"reason": reason}, code="csrf_failed")


class CookieTokenAuthentication(BaseAuthentication):
    """The user from a valid access cookie. An expired or invalid cookie answers 401 (code
    token_expired / token_invalid): the SPA then calls POST /api/auth/refresh/."""

    def authenticate(self, request):
        raw = request.COOKIES.get(ACCESS_COOKIE)
        if not raw:
            return None
        try:
            user = access_token_user(raw)
        except TokenExpired as exc:
            raise exceptions.AuthenticationFailed(
                _("Your session has expired. Refresh it or log in again."), code="token_expired"
            ) from exc
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(
                _("You are not logged in. Log in again."), code="token_invalid"
            ) from exc
        enforce_csrf(request)
        return (user, None)

    def authenticate_header(self, request):
        # Any value makes DRF answer 401 (not 403) to anonymous requests on protected views.
        return 'Cookie realm="api"'


class LenientCookieTokenAuthentication(CookieTokenAuthentication):
    """For the auth endpoints themselves (login, refresh, logout...): a stale cookie must not
    stop someone from logging in again, so an unusable token means anonymous."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            return None
