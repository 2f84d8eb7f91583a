"""Bot errors to the owner's linked chat, as they happen: the bot process joins the live-event
group of every linked user (the groups bots/events.py sends to after commit) and forwards each
error line of a bot's log. Superseded by the notification service's Telegram channel once that
is merged (telegram_bot.integration.TelegramSender); then this task is switched off."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from bots.models import Bot as GridBot
from live.events import GROUP_MESSAGE_TYPE, user_group
from telegram_bot.integration import bot_event_text
from telegram_bot.models import TelegramLink
from telegram_bot.services import chat_blocked

logger = logging.getLogger(__name__)
REFRESH_SECONDS = 5


def _links() -> dict[int, tuple[int, str]]:
    rows = TelegramLink.objects.filter(blocked_at__isnull=True, user__is_active=True).values_list(
        "user_id", "chat_id", "user__language"
    )
    return {user_id: (chat_id, language or settings.LANGUAGE_CODE) for user_id, chat_id, language in rows}


def _bot_name(bot_id: int) -> str:
    return GridBot.objects.filter(pk=bot_id).values_list("name", flat=True).first() or ""


async def bot_errors_forward(bot: Bot) -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("telegram.")
    joined: set[int] = set()
    links: dict[int, tuple[int, str]] = {}
    refreshed = 0.0
    seen: deque[int | None] = deque(maxlen=1000)  # live events may arrive twice (user and bot groups)
    while True:
        if time.monotonic() - refreshed > REFRESH_SECONDS:
            links = await sync_to_async(_links)()
            for user_id in links:  # re-adding keeps the membership from expiring
                await layer.group_add(user_group(user_id), channel)
            for user_id in joined - set(links):
                await layer.group_discard(user_group(user_id), channel)
            joined, refreshed = set(links), time.monotonic()
        try:
            message = await asyncio.wait_for(layer.receive(channel), REFRESH_SECONDS)
        except TimeoutError:
            continue
        if message.get("type") != GROUP_MESSAGE_TYPE or message.get("event") != "bot.event":
            continue
        data = message.get("data") or {}
        if data.get("level") != "error" or data.get("id") in seen:
            continue
        seen.append(data.get("id"))
        owner = await sync_to_async(_owner)(message["bot_id"])
        if owner not in links:
            continue
        chat_id, language = links[owner]
        name = await sync_to_async(_bot_name)(message["bot_id"])
        text = await sync_to_async(bot_event_text)(
            bot_id=message["bot_id"], bot_name=name, data=data, language=language
        )
        try:
            await bot.send_message(chat_id=chat_id, text=text)
        except TelegramForbiddenError:
            await sync_to_async(chat_blocked)(chat_id=chat_id)
        except TelegramAPIError as exc:
            logger.warning("bot error for user %s not delivered to Telegram: %s", owner, exc)


def _owner(bot_id: int) -> int | None:
    return GridBot.objects.filter(pk=bot_id).values_list("user_id", flat=True).first()
