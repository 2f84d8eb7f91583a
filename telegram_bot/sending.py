"""Sending one message from sync code (Celery workers, the notification outbox, services):
the same aiogram client and limits as the bot process. Failures come out as `SendFailed`, so
callers need not know aiogram.

aiogram is imported when a message is sent, not when this module is: importing it builds its
~300 pydantic types (6 s of CPU on a slow core), and every process paid that at start through
the admin (announcements) and the notification channels, bot and simulator processes included."""

from __future__ import annotations

import asyncio

from telegram_bot.selectors import chat_for_user
from telegram_bot.services import chat_blocked


class SendFailed(Exception):
    """Telegram did not take the message. `blocked`: the user blocked the bot or the chat is gone
    (send nothing more there). `final`: Telegram refused this message (sending it again will not
    help). Neither: try again later (a network error, a 5xx, a 429 still after the retries)."""

    def __init__(self, message: str, *, blocked: bool = False, final: bool = False):
        super().__init__(message)
        self.blocked = blocked
        self.final = final or blocked


async def _send(chat_id: int | str, text: str) -> int:
    from telegram_bot.client import make_bot

    bot = make_bot()
    try:
        message = await bot.send_message(chat_id=chat_id, text=text)
        return message.message_id
    finally:
        await bot.session.close()


def send_to_chat(*, chat_id: int | str, text: str) -> int:
    """Send and return Telegram's message id (a 429 is retried first). Raises SendFailed."""
    from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError, TelegramNotFound

    try:
        return asyncio.run(_send(chat_id, text))
    except (TelegramForbiddenError, TelegramNotFound) as exc:
        raise SendFailed(str(exc), blocked=True) from exc
    except TelegramBadRequest as exc:
        raise SendFailed(str(exc), final=True) from exc
    except TelegramAPIError as exc:  # network errors, 5xx, a 429 past its retries
        raise SendFailed(str(exc)) from exc


def send_text(*, user_id: int, text: str) -> bool:
    chat_id = chat_for_user(user_id=user_id)
    if chat_id is None:
        return False
    try:
        send_to_chat(chat_id=chat_id, text=text)
    except SendFailed as exc:
        if not exc.blocked:
            raise
        chat_blocked(chat_id=chat_id)
        return False
    return True
