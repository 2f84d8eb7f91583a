"""Short numeric codes sent by email or SMS (email verification, password reset, phone)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from accounts.models import User, VerificationCode
from accounts.services.common import field_error

_T = TypeVar("_T")

CODE_TTL = timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5


def _code_hash(*, user_id: int, purpose: str, target: str, code: str) -> str:
    return salted_hmac("setka.accounts.code", f"{purpose}:{user_id}:{target}:{code}", algorithm="sha256").hexdigest()


def code_issue(*, user: User, purpose: str, target: str) -> str:
    """A new 6-digit code; every older live code of the same purpose dies."""
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        VerificationCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
        VerificationCode.objects.create(
            user=user,
            purpose=purpose,
            target=target,
            code_hash=_code_hash(user_id=user.pk, purpose=purpose, target=target, code=code),
            expires_at=now + CODE_TTL,
        )
    return code


def code_consume(*, user: User | None, purpose: str, code: str, apply: Callable[[VerificationCode], _T]) -> _T:
    """Check the user's live code of this purpose; on success mark it used and run
    apply(row) in the same transaction. Wrong guesses are counted (and committed); the
    code dies after CODE_MAX_ATTEMPTS of them."""
    code = (code or "").strip()
    now = timezone.now()
    failure = _("The code is wrong or has expired. Check it or ask for a new one.")
    with transaction.atomic():
        row = None
        if user is not None:
            row = (
                VerificationCode.objects.select_for_update()
                .filter(user=user, purpose=purpose, used_at__isnull=True)
                .order_by("-created_at", "-id")
                .first()
            )
        if user is not None and row is not None and row.expires_at > now and row.attempts < CODE_MAX_ATTEMPTS:
            expected = _code_hash(user_id=user.pk, purpose=purpose, target=row.target, code=code)
            if constant_time_compare(row.code_hash, expected):
                row.used_at = now
                row.save(update_fields=["used_at"])
                return apply(row)
            row.attempts += 1
            row.save(update_fields=["attempts"])
            if row.attempts >= CODE_MAX_ATTEMPTS:
                failure = _("Too many wrong codes. Ask for a new code.")
        elif row is not None and row.attempts >= CODE_MAX_ATTEMPTS:
            failure = _("Too many wrong codes. Ask for a new code.")
    raise field_error("code", failure, code="invalid_code")
