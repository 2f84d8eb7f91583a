"""Webhook mode: one Bot and Dispatcher per web process, fed the updates Telegram posts."""

from __future__ import annotations

from aiogram.types import Update

from telegram_bot.client import make_bot
from telegram_bot.handlers import make_dispatcher

_state: dict = {}


async def feed(payload: dict) -> None:
    if "bot" not in _state:
        _state["bot"], _state["dispatcher"] = make_bot(), make_dispatcher()
    update = Update.model_validate(payload, context={"bot": _state["bot"]})
    await _state["dispatcher"].feed_update(_state["bot"], update)
