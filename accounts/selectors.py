"""Reads for the accounts app (every query filtered by the user it is for)."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.models import AccessGrant, RefreshToken, User
from accounts.tokens import refresh_token_hash


def user_email_verified(*, user: User) -> bool:
    """False only while the address has an unconfirmed allauth EmailAddress: sign-up always
    creates one, so self-registered users must confirm. Accounts made by operators, seeds or
    createsuperuser (no EmailAddress row) are trusted as they are."""
    return not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=False).exists()


def user_sessions_list(*, user: User) -> QuerySet[RefreshToken]:
    """The user's live sessions: one live refresh token per family (rotation revokes the rest)."""
    started = RefreshToken.objects.filter(family=OuterRef("family")).order_by("created_at").values("created_at")[:1]
    return (
        RefreshToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .annotate(session_started_at=Subquery(started))
        .order_by("-last_used_at", "-id")
    )


def user_session_get(*, user: User, session_id: int) -> RefreshToken | None:
    return user_sessions_list(user=user).filter(pk=session_id).first()


def refresh_family_of(*, raw_refresh: str | None):
    if not raw_refresh or len(raw_refresh) > 256:
        return None
    return (
        RefreshToken.objects.filter(token_hash=refresh_token_hash(raw_refresh)).values_list("family", flat=True).first()
    )


def access_grants_list(*, issued_by: User | None = None) -> QuerySet[AccessGrant]:
    qs = AccessGrant.objects.select_related("issued_by", "redeemed_by", "revoked_by")
    return qs.filter(issued_by=issued_by) if issued_by is not None else qs
