"""Sending one message from sync code (Celery workers, the notification outbox, services):
the same aiogram client and limits as the bot process."""

from __future__ import annotations

import asyncio

from aiogram.exceptions import TelegramForbiddenError

from telegram_bot.client import make_bot
from telegram_bot.selectors import chat_for_user
from telegram_bot.services import chat_blocked


async def _send(chat_id: int | str, text: str) -> int:
    bot = make_bot()
    try:
        message = await bot.send_message(chat_id=chat_id, text=text)
        return message.message_id
    finally:
        await bot.session.close()


def send_to_chat(*, chat_id: int | str, text: str) -> int:
    """Send and return Telegram's message id. Raises aiogram's errors (a 429 is retried first)."""
    return asyncio.run(_send(chat_id, text))


def send_text(*, user_id: int, text: str) -> bool:
    chat_id = chat_for_user(user_id=user_id)
    if chat_id is None:
        return False
    try:
        send_to_chat(chat_id=chat_id, text=text)
    except TelegramForbiddenError:
        chat_blocked(chat_id=chat_id)
        return False
    return True
