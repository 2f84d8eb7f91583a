"""Housekeeping: drop auth records nobody needs any more (run daily: `manage.py prune_auth_records`)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import OutboxMessage, RefreshToken, VerificationCode


def auth_records_prune(*, keep_days: int = 30, outbox_keep_days: int = 90, now=None) -> dict[str, int]:
    """Delete refresh tokens expired or revoked more than keep_days ago, verification codes
    older than a day (they live 15 minutes), and outbox messages older than outbox_keep_days.
    Live sessions and their rotation history within keep_days stay (reuse detection needs it)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=keep_days)
    tokens, _ = RefreshToken.objects.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)).delete()
    codes, _ = VerificationCode.objects.filter(created_at__lt=now - timedelta(days=1)).delete()
    outbox, _ = OutboxMessage.objects.filter(created_at__lt=now - timedelta(days=outbox_keep_days)).delete()
    return {"refresh_tokens": tokens, "verification_codes": codes, "outbox_messages": outbox}
