"""Access grants: single-use codes issued by operators, redemption, activation, revocation."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TypeGuard

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import throttling
from accounts.mail import send_templated_email
from accounts.models import AccessGrant, User
from accounts.services.access import AccessEndReason, user_access_end
from accounts.services.common import RateLimited, email_normalize, field_error
from config.errors import DomainError

ACCESS_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or retyped
ACCESS_CODE_LENGTH = 16
REDEEM_MAX_FAILURES = 10
REDEEM_WINDOW_SECONDS = 3600


def access_code_generate() -> str:
    raw = "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, ACCESS_CODE_LENGTH, 4))


def access_code_normalize(code: str) -> str:
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if len(raw) != ACCESS_CODE_LENGTH:
        return raw
    return "-".join(raw[i : i + 4] for i in range(0, ACCESS_CODE_LENGTH, 4))


def access_grant_issue(
    *, operator: User, issued_to_email: str = "", expires_at: datetime | None = None, note: str = ""
) -> AccessGrant:
    """A new single-use access code (unique; retried on the astronomically unlikely clash)."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return AccessGrant.objects.create(
                    code=access_code_generate(),
                    issued_by=operator,
                    issued_to_email=email_normalize(issued_to_email),
                    expires_at=expires_at,
                    note=note[:200],
                )
        except IntegrityError:
            continue
    raise RuntimeError("Could not generate a unique access code.")


def access_grant_send(*, grant: AccessGrant, language: str | None = None) -> None:
    """Email the code to the address it is bound to (in that user's language when known)."""
    if not grant.issued_to_email:
        raise field_error("issued_to_email", _("This grant is not bound to an email address."), code="no_email")
    if language is None:
        known = User.objects.filter(email__iexact=grant.issued_to_email).only("language").first()
        language = known.language if known else None
    send_templated_email(
        to=grant.issued_to_email,
        name="access_code",
        language=language,
        context={"code": grant.code, "expires_at": grant.expires_at},
    )


def _user_access_set(*, user: User, now) -> None:
    User.objects.filter(pk=user.pk).update(access_granted_at=now, access_revoked_at=None)
    user.access_granted_at, user.access_revoked_at = now, None


def _redeem_budget(subject: str) -> None:
    """Wrong access codes per user (or per IP at sign-up): reserved before the check, so
    concurrent guesses cannot exceed the budget; a right code gives the budget back."""
    budget = throttling.attempt_reserve(
        kind="redeem", subject=subject, limit=REDEEM_MAX_FAILURES, window=REDEEM_WINDOW_SECONDS
    )
    if not budget.allowed:
        raise RateLimited(
            _("Too many wrong access codes. Try again later."), retry_after=budget.retry_after, code="too_many_attempts"
        )


def _invalid_code(throttle_subject: str | None) -> DomainError:
    return field_error(
        "access_code" if throttle_subject else "code",
        _("This access code is invalid, expired or already used."),
        code="invalid_access_code",
    )


def _usable_for(grant: AccessGrant | None, *, email: str, now) -> TypeGuard[AccessGrant]:
    if grant is None or not grant.is_usable(now=now):
        return False
    if grant.issued_to_email and grant.issued_to_email.lower() != email.lower():
        return False
    return True


def access_code_check(*, code: str, email: str, throttle_subject: str | None) -> None:
    """Refuse a code that could not be redeemed by `email`, exactly as redeeming would, without
    using it (sign-up with an address that already has an account must answer the same)."""
    subject = throttle_subject or f"email:{email}"
    _redeem_budget(subject)
    grant = AccessGrant.objects.filter(code=access_code_normalize(code)).first()
    if not _usable_for(grant, email=email, now=timezone.now()):
        raise _invalid_code(throttle_subject)
    throttling.budget_reset(kind="redeem", subject=subject)


def access_grant_redeem(*, user: User, code: str, throttle_subject: str | None = None) -> User:
    """Redeem an access code: the user may bind keys and run bots from now on."""
    if user.has_trading_access:
        raise field_error("code", _("You already have access."), code="already_granted")
    subject = throttle_subject or f"user:{user.pk}"
    _redeem_budget(subject)
    now = timezone.now()
    with transaction.atomic():
        grant = AccessGrant.objects.select_for_update().filter(code=access_code_normalize(code)).first()
        if _usable_for(grant, email=user.email, now=now):
            grant.redeemed_by, grant.redeemed_at = user, now
            grant.save(update_fields=["redeemed_by", "redeemed_at"])
            _user_access_set(user=user, now=now)
            throttling.budget_reset(kind="redeem", subject=subject)
            return user
    raise _invalid_code(throttle_subject)


def access_grant_revoke(*, grant: AccessGrant, operator: User) -> int:
    """Revoke a grant. If it was already redeemed, the user who redeemed it loses access too:
    their bots stop and their live sockets close (accounts.services.access.user_access_end).
    Returns how many bots were asked to stop."""
    now = timezone.now()
    stopped = 0
    with transaction.atomic():
        grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
        if grant.revoked_at is None:
            grant.revoked_at, grant.revoked_by = now, operator
            grant.save(update_fields=["revoked_at", "revoked_by"])
            if grant.redeemed_by_id:
                User.objects.filter(pk=grant.redeemed_by_id, access_revoked_at__isnull=True).update(
                    access_revoked_at=now
                )
                assert grant.redeemed_by is not None  # redeemed_by_id is set
                stopped = user_access_end(user=grant.redeemed_by, reason=AccessEndReason.GRANT_REVOKED)
    return stopped


def user_access_grant(*, user: User, operator: User, note: str = "Activated by an operator") -> AccessGrant:
    """Direct activation (admin): recorded as a grant issued to and redeemed by the user."""
    now = timezone.now()
    with transaction.atomic():
        grant = access_grant_issue(operator=operator, issued_to_email=user.email, note=note)
        grant.redeemed_by, grant.redeemed_at = user, now
        grant.save(update_fields=["redeemed_by", "redeemed_at"])
        _user_access_set(user=user, now=now)
    return grant


def user_access_revoke(*, user: User, operator: User) -> int:
    """Take access away: the user's bots stop and live sockets close (user_access_end).
    Returns how many bots were asked to stop."""
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(access_revoked_at=now)
        AccessGrant.objects.filter(redeemed_by=user, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=operator
        )
        user.access_revoked_at = now
        return user_access_end(user=user, reason=AccessEndReason.ACCESS_REVOKED)
