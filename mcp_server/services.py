"""Personal access tokens, confirmation tokens and the audit log of the MCP server.

A personal access token is shown once (`stk_` + 256 random bits) and stored only as its
SHA-256; it carries one scope (read, or trade which includes read), an expiry, and can be
revoked. A money-moving tool (create, start, stop a bot) needs the trade scope AND a
confirmation token that a preview tool issued for the exact same action and parameters: it
lives CONFIRM_TTL seconds and is spent once."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import DomainError
from mcp_server.models import AuditEntry, ConfirmationToken, PersonalAccessToken

TOKEN_PREFIX = "stk_"
MAX_TOKEN_DAYS = 365
MONEY_ACTIONS = ("create_bot", "start_bot", "stop_bot")


class ToolRefused(Exception):
    """A tool call refused with a code the agent (and the user) can act on."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Principal:
    """Who is calling a tool: the user, the token (None for an OAuth token) and its scopes."""

    user_id: int
    scopes: tuple[str, ...]
    token_id: int | None = None

    @property
    def can_trade(self) -> bool:
        return "trade" in self.scopes


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def access_token_create(*, user, name: str, scope: str, days: int) -> tuple[PersonalAccessToken, str]:
    """Create a token; returns (row, the token text), the text is never shown again."""
    from billing.services.entitlements import entitlement_check

    if scope not in PersonalAccessToken.Scope.values:
        raise DomainError("Choose the scope: read or trade.", code="invalid", fields={"scope": ["read or trade"]})
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise DomainError(
            f"A token lives from 1 to {MAX_TOKEN_DAYS} days.", code="invalid", fields={"days": ["1..365"]}
        )
    name = (name or "").strip()[:100]
    if not name:
        raise DomainError("Give the token a name.", code="invalid", fields={"name": ["required"]})
    entitlement_check(user=user, action="api_access")
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = PersonalAccessToken.objects.create(
        user=user,
        name=name,
        prefix=text[: len(TOKEN_PREFIX) + 6],
        token_hash=_digest(text),
        scope=scope,
        expires_at=timezone.now() + timedelta(days=days),
    )
    return row, text


def access_token_revoke(*, user, token_id: int) -> PersonalAccessToken:
    row = PersonalAccessToken.objects.filter(user=user, pk=token_id).first()
    if row is None:
        raise DomainError("No such token.", code="not_found", status_code=404)
    PersonalAccessToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    row.refresh_from_db()
    return row


def access_token_verify(*, text: str) -> Principal | None:
    """The principal of a bearer token, or None (unknown, expired, revoked, inactive user,
    or a plan without API access). Marks the token used (at most once a minute)."""
    if not text or len(text) > 255:
        return None
    if not text.startswith(TOKEN_PREFIX):
        return oauth_token_verify(text=text)
    now = timezone.now()
    row = (
        PersonalAccessToken.objects.filter(token_hash=_digest(text), revoked_at__isnull=True, expires_at__gt=now)
        .select_related("user")
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    from billing.services.entitlements import entitlement_check

    try:
        entitlement_check(user=row.user, action="api_access")
    except DomainError:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        PersonalAccessToken.objects.filter(pk=row.pk).update(last_used_at=now)
    scopes = ("read", "trade") if row.scope == PersonalAccessToken.Scope.TRADE else ("read",)
    return Principal(user_id=row.user_id, scopes=scopes, token_id=row.pk)


def oauth_token_verify(*, text: str) -> Principal | None:
    """The principal of an OAuth access token issued by the authorization server at /o/
    (django-oauth-toolkit, stored as its SHA-256): valid, not expired, an active user whose
    plan includes API access. The scope "trade" includes "read"."""
    from oauth2_provider.models import get_access_token_model

    row = get_access_token_model().objects.filter(token_checksum=_digest(text)).select_related("user").first()
    if row is None or row.user is None or not row.is_valid() or not row.user.is_active:
        return None
    from billing.services.entitlements import entitlement_check

    try:
        entitlement_check(user=row.user, action="api_access")
    except DomainError:
        return None
    granted = set(row.scope.split())
    scopes = ("read", "trade") if "trade" in granted else ("read",) if "read" in granted else ()
    return Principal(user_id=row.user_id, scopes=scopes, token_id=None) if scopes else None


def params_hash(*, action: str, params: dict) -> str:
    """The fingerprint a confirmation is bound to: the action and its parameters, canonical JSON."""
    return _digest(json.dumps({"action": action, "params": params}, sort_keys=True, separators=(",", ":"), default=str))


def confirmation_issue(*, user_id: int, action: str, params: dict) -> tuple[str, int]:
    """A fresh confirmation token for exactly this action and these parameters; (text, seconds)."""
    ttl = int(getattr(settings, "MCP_CONFIRM_TTL", 120))
    text = "cfm_" + secrets.token_urlsafe(24)
    ConfirmationToken.objects.create(
        user_id=user_id,
        token_hash=_digest(text),
        action=action,
        params_hash=params_hash(action=action, params=params),
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    return text, ttl


def confirmation_spend(*, user_id: int, text: str, action: str, params: dict) -> None:
    """Spend a confirmation token or refuse: missing, unknown, someone else's, expired, used,
    or issued for another action or other parameters. Spent atomically: two concurrent calls
    with one token cannot both pass."""
    if not text:
        raise ToolRefused(f"Call preview_{action} first and pass its confirmation_token.", code="confirmation_required")
    now = timezone.now()
    with transaction.atomic():
        row = (
            ConfirmationToken.objects.select_for_update().filter(token_hash=_digest(str(text)), user_id=user_id).first()
        )
        if row is None:
            raise ToolRefused("This confirmation token is not valid.", code="confirmation_invalid")
        if row.used_at is not None:
            raise ToolRefused("This confirmation token was already used; preview again.", code="confirmation_used")
        if row.expires_at <= now:
            raise ToolRefused("This confirmation token expired; preview again.", code="confirmation_expired")
        if row.action != action or row.params_hash != params_hash(action=action, params=params):
            raise ToolRefused(
                "This confirmation token was issued for a different change; preview this exact change.",
                code="confirmation_mismatch",
            )
        ConfirmationToken.objects.filter(pk=row.pk).update(used_at=now)


def rate_limit_check(*, user_id: int) -> None:
    """At most MCP_MONEY_ACTIONS_PER_MINUTE money-moving calls (done or refused) a minute."""
    limit = int(getattr(settings, "MCP_MONEY_ACTIONS_PER_MINUTE", 10))
    since = timezone.now() - timedelta(minutes=1)
    count = AuditEntry.objects.filter(user_id=user_id, tool__in=MONEY_ACTIONS, created_at__gte=since).count()
    if count >= limit:
        raise ToolRefused(f"Too many trading actions: at most {limit} a minute.", code="rate_limited")


def audit_record(
    *,
    principal: Principal,
    tool: str,
    params: dict,
    outcome: str,
    code: str = "",
    message: str = "",
    bot_id: int | None = None,
) -> AuditEntry:
    safe = {k: v for k, v in params.items() if k != "confirmation_token"}
    return AuditEntry.objects.create(
        user_id=principal.user_id,
        token_id=principal.token_id,
        tool=tool,
        params=json.loads(json.dumps(safe, default=str)),
        outcome=outcome,
        code=code[:64],
        message=message[:500],
        bot_id=bot_id,
    )
