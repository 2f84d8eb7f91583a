"""Access and refresh tokens carried in httpOnly cookies.

- Access token (`setka_access`): signed with django.core.signing (HMAC-SHA256 over a key derived
  from SECRET_KEY and a salt), carries the user id, the user's token version and the session
  (refresh-token family) it belongs to, lives settings.SETKA_ACCESS_TOKEN_TTL. Checked with one
  query: the active user, and whether the session still has a live refresh token. So a session
  ended by logout, by refresh-token reuse or from the sessions list stops its access token at
  once; a password change or "log out everywhere" (token version bumped) stops all of them.
- Refresh token (`setka_refresh`): 32 random bytes; only its SHA-256 is stored (RefreshToken).
  Each use rotates it (the old row is revoked, a new one in the same family is issued); presenting
  a revoked token again revokes the whole family (somebody copied it). Exception: within
  SETKA_REFRESH_REUSE_GRACE_SECONDS of its rotation the old token is refused with code
  `refresh_race` WITHOUT revoking the family (two tabs refreshing at once; the browser already
  holds the new cookie, so the SPA just retries). Its cookie is sent only to /api/auth/.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

ACCESS_COOKIE = "setka_access"
REFRESH_COOKIE = "setka_refresh"
REFRESH_COOKIE_PATH = "/api/auth/"
_ACCESS_SALT = "setka.accounts.access-token.v1"


class TokenError(Exception):
    """The token is missing, malformed, expired or no longer valid: the caller is anonymous."""

    code = "token_invalid"

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class TokenExpired(TokenError):
    code = "token_expired"


# --- access tokens ---------------------------------------------------------------------------


def access_token_issue(*, user, family=None) -> str:
    """A signed access token. `family`: the session (refresh-token family) it belongs to; tokens
    made without one (tests, tools) live by the token version alone."""
    payload = {"u": user.pk, "v": user.token_version}
    if family is not None:
        payload["f"] = str(family)
    return signing.dumps(payload, salt=_ACCESS_SALT, compress=False)


def access_token_family(token: str) -> uuid.UUID | None:
    """The session family of a valid token (None for a token without one)."""
    return _family(_access_data(token))


def _family(data: dict) -> uuid.UUID | None:
    raw = data.get("f")
    if raw is None:
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError as exc:
        raise TokenError(_("The access token is invalid.")) from exc


def access_token_payload(token: str) -> tuple[int, int]:
    """(user id, token version) of a valid, unexpired token; raises TokenError otherwise."""
    data = _access_data(token)
    return data["u"], data["v"]


def _access_data(token: str) -> dict:
    if not token or len(token) > 512:
        raise TokenError(_("No usable access token."))
    max_age = settings.SETKA_ACCESS_TOKEN_TTL
    try:
        data = signing.loads(token, salt=_ACCESS_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise TokenExpired(_("The access token has expired.")) from exc
    except signing.BadSignature as exc:
        raise TokenError(_("The access token is invalid.")) from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("v"), int):
        raise TokenError(_("The access token is invalid."))
    return data


def access_token_user(token: str):
    """The active user the token belongs to; raises TokenError when it no longer applies
    (user gone or deactivated, password changed since: token version bumped, its session
    ended: no live refresh token left in its family). One query."""
    from django.db.models import Exists, OuterRef

    from accounts.models import RefreshToken, User

    data = _access_data(token)
    family = _family(data)
    users = User.objects.filter(pk=data["u"], is_active=True).select_related("profile")
    if family is not None:
        live = RefreshToken.objects.filter(user=OuterRef("pk"), family=family, revoked_at__isnull=True)
        users = users.annotate(session_live=Exists(live))
    user = users.first()
    # session_live exists when family is set (annotated above); django-stubs types `users` by its
    # first assignment, so the conditional annotation is invisible to it.
    if user is None or user.token_version != data["v"] or (family is not None and not user.session_live):  # type: ignore[attr-defined]
        raise TokenError(_("The access token is no longer valid."))
    user.session_family = family
    return user


# --- refresh tokens --------------------------------------------------------------------------


def _rotated_key(token_hash: str) -> str:
    return f"acc:refresh:rotated:{token_hash}"


def refresh_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedTokens:
    access: str
    refresh: str
    refresh_row_id: int


def _client_meta(request) -> tuple[str, str | None]:
    if request is None:
        return "", None
    user_agent = (request.META.get("HTTP_USER_AGENT") or "")[:300]
    from accounts.throttling import client_ip

    return user_agent, client_ip(request)


def tokens_issue(*, user, request=None, family=None) -> IssuedTokens:
    """A fresh access token and a new refresh token (a new family unless one is given)."""
    from accounts.models import RefreshToken

    raw = secrets.token_urlsafe(32)
    user_agent, ip = _client_meta(request)
    now = timezone.now()
    extra = {"family": family} if family is not None else {}
    row = RefreshToken.objects.create(
        user=user,
        token_hash=refresh_token_hash(raw),
        expires_at=now + settings.SETKA_REFRESH_TOKEN_TTL,
        last_used_at=now,
        user_agent=user_agent,
        ip_address=ip,
        **extra,
    )
    return IssuedTokens(access=access_token_issue(user=user, family=row.family), refresh=raw, refresh_row_id=row.pk)


def tokens_refresh(*, raw_refresh: str, request=None) -> tuple[object, IssuedTokens]:
    """Rotate a refresh token. Returns (user, new tokens) or raises TokenError.

    Reuse of an already rotated/revoked token revokes every token of its family: the legitimate
    holder and the thief both have to log in again."""
    from accounts.models import RefreshToken

    if not raw_refresh or len(raw_refresh) > 256:
        raise TokenError(_("No refresh token."))
    now = timezone.now()
    reused_family = None
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=refresh_token_hash(raw_refresh))
            .first()
        )
        if row is None:
            raise TokenError(_("Unknown refresh token."))
        if row.revoked_at is not None:
            rotated_at = cache.get(_rotated_key(row.token_hash))
            grace = getattr(settings, "SETKA_REFRESH_REUSE_GRACE_SECONDS", 15)
            if rotated_at is not None and time.time() - float(rotated_at) <= grace:
                # Rotated a moment ago: most likely a second tab refreshing at the same time. The
                # browser already holds the successor cookie, so refuse without burning the family.
                raise TokenError(
                    _("This refresh token was just rotated; retry with the new cookie."), code="refresh_race"
                )
            reused_family = row.family
        elif row.expires_at <= now:
            raise TokenExpired(_("The session has expired; log in again."))
        elif not row.user.is_active:
            raise TokenError(_("The account is disabled."))
        else:
            row.revoked_at = now
            row.last_used_at = now
            row.save(update_fields=["revoked_at", "last_used_at"])
            grace = getattr(settings, "SETKA_REFRESH_REUSE_GRACE_SECONDS", 15)
            if grace > 0:
                cache.set(_rotated_key(row.token_hash), time.time(), timeout=grace + 5)
            issued = tokens_issue(user=row.user, request=request, family=row.family)
            return row.user, issued
    # Outside the block above so the family revocation is committed even though we refuse.
    refresh_family_revoke(family=reused_family)
    raise TokenError(_("This refresh token was already used; every session of its family is now closed."))


def refresh_family_revoke(*, family) -> int:
    """End one session: its refresh tokens are revoked, its access tokens stop working at once
    (accounts.tokens.access_token_user) and its open WebSockets close."""
    from accounts.live import user_sockets_close
    from accounts.models import RefreshToken

    if family is None:
        return 0
    with transaction.atomic():
        user_ids = set(
            RefreshToken.objects.filter(family=family, revoked_at__isnull=True).values_list("user_id", flat=True)
        )
        count = RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=timezone.now())
        for user_id in user_ids:
            user_sockets_close(user_id=user_id, family=family, reason="session_ended")
    return count


def refresh_token_revoke_raw(*, raw_refresh: str) -> None:
    """Logout: revoke the family of the presented refresh token (unknown tokens are ignored)."""
    from accounts.models import RefreshToken

    if not raw_refresh or len(raw_refresh) > 256:
        return
    row = RefreshToken.objects.filter(token_hash=refresh_token_hash(raw_refresh)).only("family").first()
    if row is not None:
        refresh_family_revoke(family=row.family)


def user_tokens_revoke_all(*, user) -> None:
    """Every session of the user ends: refresh tokens revoked, access tokens invalidated, open
    WebSockets closed."""
    from accounts.live import user_sockets_close
    from accounts.models import RefreshToken, User

    with transaction.atomic():
        RefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
        user_sockets_close(user_id=user.pk, reason="sessions_ended")
    user.refresh_from_db(fields=["token_version"])


# --- cookies ---------------------------------------------------------------------------------


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def cookies_set(response, tokens: IssuedTokens) -> None:
    secure = settings.SETKA_AUTH_COOKIE_SECURE
    response.set_cookie(
        ACCESS_COOKIE,
        tokens.access,
        max_age=_seconds(settings.SETKA_ACCESS_TOKEN_TTL),
        path="/",
        secure=secure,
        httponly=True,
        samesite="Lax",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh,
        max_age=_seconds(settings.SETKA_REFRESH_TOKEN_TTL),
        path=REFRESH_COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="Lax",
    )


def cookies_clear(response) -> None:
    response.delete_cookie(ACCESS_COOKIE, path="/", samesite="Lax")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, samesite="Lax")
