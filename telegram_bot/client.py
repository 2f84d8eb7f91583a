"""The aiogram Bot, always pointed at SETKA_TELEGRAM_API_URL (the fake Bot API on 127.0.0.1 in
development and tests), with one request middleware that keeps Telegram's limits: every send
waits for its slot (telegram_bot.limits), and a 429 is retried after Telegram's retry_after.
A 403 (the user blocked the bot) is raised to the caller, which marks the chat
(services.chat_blocked) so nothing more is sent to it."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter
from asgiref.sync import sync_to_async
from django.conf import settings

from telegram_bot.limits import send_slot

logger = logging.getLogger(__name__)

SENDING_METHODS = frozenset({"sendMessage", "sendInvoice", "sendPhoto", "sendDocument", "copyMessage"})
MAX_RETRIES = 3


class LimitsMiddleware(BaseRequestMiddleware):
    async def __call__(self, make_request, bot, method):
        name = method.__api_method__
        chat_id = getattr(method, "chat_id", None)
        sending = name in SENDING_METHODS and chat_id is not None
        for attempt in range(MAX_RETRIES + 1):
            if sending:
                wait = await sync_to_async(send_slot, thread_sensitive=False)(chat_id)
                if wait:
                    await asyncio.sleep(wait)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == MAX_RETRIES:
                    raise
                logger.warning("telegram %s to %s: 429, retrying in %ss", name, chat_id, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")


def api_server() -> TelegramAPIServer:
    return TelegramAPIServer.from_base(settings.SETKA_TELEGRAM_API_URL)


def make_bot() -> Bot:
    session = AiohttpSession(api=api_server())
    session.middleware(LimitsMiddleware())
    return Bot(token=settings.SETKA_TELEGRAM_BOT_TOKEN, session=session, default=DefaultBotProperties())
