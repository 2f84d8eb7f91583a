from __future__ import annotations

from telegram_bot.models import TelegramLink


def link_get(*, user) -> TelegramLink | None:
    return TelegramLink.objects.filter(user=user).first()


def link_for_chat(*, chat_id: int) -> TelegramLink | None:
    """The link of a private chat, or None for a stranger (or an inactive account)."""
    return TelegramLink.objects.select_related("user").filter(chat_id=chat_id, user__is_active=True).first()


def chat_for_user(*, user_id: int) -> int | None:
    return (
        TelegramLink.objects.filter(user_id=user_id, blocked_at__isnull=True).values_list("chat_id", flat=True).first()
    )


def linked_user_ids() -> list[int]:
    return list(TelegramLink.objects.filter(blocked_at__isnull=True).values_list("user_id", flat=True))
