"""Linking a Telegram chat to an account by a one-time deep link, and unlinking it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from telegram_bot.models import LinkToken, TelegramLink

LINK_PREFIX = "link_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def deep_link(*, token: str) -> str:
    return f"https://t.me/{settings.SETKA_TELEGRAM_BOT_USERNAME}?start={LINK_PREFIX}{token}"


def link_token_create(*, user, now=None) -> tuple[str, str, object]:
    """A fresh one-time token for the profile's "Link Telegram" button. Earlier unused tokens of
    the user stop working. Returns (token, deep link, expires_at)."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]: fits Telegram's 64
    expires_at = now + timedelta(seconds=settings.SETKA_TELEGRAM_LINK_TTL_SECONDS)
    with transaction.atomic():
        LinkToken.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        LinkToken.objects.create(user=user, token_hash=_hash(token), expires_at=expires_at)
    return token, deep_link(token=token), expires_at


def link_redeem(*, token: str, chat_id: int, username: str = "", now=None) -> TelegramLink | None:
    """Link the chat to the token's user. The token works once, before it expires; anything
    else (unknown, used, expired, a chat already linked to someone else) links nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        row = LinkToken.objects.select_for_update().filter(token_hash=_hash(token)).select_related("user").first()
        if row is None or row.used_at is not None or row.expires_at <= now or not row.user.is_active:
            return None
        row.used_at = now
        row.save(update_fields=["used_at"])
        other = TelegramLink.objects.filter(chat_id=chat_id).exclude(user=row.user).first()
        if other is not None:
            return None
        try:
            with transaction.atomic():
                link, _ = TelegramLink.objects.update_or_create(
                    user=row.user, defaults={"chat_id": chat_id, "username": username[:64], "blocked_at": None}
                )
        except IntegrityError:
            return None
    return link


def link_delete(*, user) -> bool:
    return TelegramLink.objects.filter(user=user).delete()[0] > 0


def chat_blocked(*, chat_id: int, now=None) -> None:
    """Telegram answered 403: stop sending to this chat until the user links again."""
    TelegramLink.objects.filter(chat_id=chat_id, blocked_at__isnull=True).update(blocked_at=now or timezone.now())
