"""Point Telegram at the webhook (production): setWebhook with the secret token."""

from __future__ import annotations

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telegram_bot.client import make_bot


class Command(BaseCommand):
    help = "setWebhook to <SETKA_PUBLIC_URL>/api/telegram/webhook/ with SETKA_TELEGRAM_WEBHOOK_SECRET"

    def add_arguments(self, parser):
        parser.add_argument("--url", default="")

    def handle(self, *args, **options):
        if not settings.SETKA_TELEGRAM_WEBHOOK_SECRET:
            raise CommandError("set SETKA_TELEGRAM_WEBHOOK_SECRET first")
        url = options["url"] or f"{settings.SETKA_PUBLIC_URL.rstrip('/')}/api/telegram/webhook/"

        async def run():
            bot = make_bot()
            try:
                await bot.set_webhook(url=url, secret_token=settings.SETKA_TELEGRAM_WEBHOOK_SECRET)
            finally:
                await bot.session.close()

        asyncio.run(run())
        self.stdout.write(f"webhook set to {url}")
