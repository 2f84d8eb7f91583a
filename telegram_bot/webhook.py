"""Webhook mode: one Bot and Dispatcher per event loop of the web process (daphne runs one),
fed the updates Telegram posts. aiogram is imported with the first update, not with the URLs
(telegram_bot.sending says why)."""

from __future__ import annotations

import asyncio

_per_loop: dict = {}


async def feed(payload: dict) -> None:
    from aiogram.types import Update

    from telegram_bot.client import make_bot
    from telegram_bot.handlers import make_dispatcher

    loop = asyncio.get_running_loop()
    if loop not in _per_loop:
        for old in [key for key in _per_loop if key.is_closed()]:
            _per_loop.pop(old)
        _per_loop[loop] = (make_bot(), make_dispatcher())
    bot, dispatcher = _per_loop[loop]
    update = Update.model_validate(payload, context={"bot": bot})
    await dispatcher.feed_update(bot, update)
