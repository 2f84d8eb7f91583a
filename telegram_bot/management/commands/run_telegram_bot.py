"""Run the Telegram bot by long polling (development and the quick start; production uses the
webhook at /api/telegram/webhook/). It also forwards bot errors to linked chats as they happen
(telegram_bot.bridge) until the notification service takes that over."""

from __future__ import annotations

import asyncio
import logging

from django.core.management.base import BaseCommand

from telegram_bot.bridge import bot_errors_forward
from telegram_bot.client import make_bot
from telegram_bot.handlers import make_dispatcher
from telegram_bot.integration import errors_bridge_needed

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the Telegram bot (long polling against SETKA_TELEGRAM_API_URL)"

    def add_arguments(self, parser):
        parser.add_argument("--no-bridge", action="store_true", help="do not forward bot errors to chats")

    def handle(self, *args, **options):
        asyncio.run(self._run(bridge=not options["no_bridge"]))

    async def _run(self, *, bridge: bool) -> None:
        bot = make_bot()
        dispatcher = make_dispatcher()
        await bot.delete_webhook(drop_pending_updates=False)
        me = await bot.get_me()
        self.stdout.write(f"telegram bot @{me.username} polling", ending="\n")
        self.stdout.flush()
        bridge = bridge and errors_bridge_needed()
        tasks = [asyncio.create_task(bot_errors_forward(bot))] if bridge else []
        try:
            await dispatcher.start_polling(bot, polling_timeout=10, handle_signals=True, close_bot_session=True)
        finally:
            for task in tasks:
                task.cancel()
