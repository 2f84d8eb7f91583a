"""Hold the private WebSocket of every exchange account with active bots (see bots.streams)."""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand

from bots.streams import StreamsSupervisor


class Command(BaseCommand):
    help = "Run the exchange streams process: order/execution events enqueue the bot's tick at once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--refresh-seconds", type=float, default=3.0, help="How often to pick up started and stopped bots."
        )

    def handle(self, *args, refresh_seconds: float = 3.0, **options):
        supervisor = StreamsSupervisor(refresh_seconds=refresh_seconds)
        signal.signal(signal.SIGTERM, lambda *_: supervisor.stop())
        signal.signal(signal.SIGINT, lambda *_: supervisor.stop())
        self.stdout.write("run_exchange_streams: ready", ending="\n")
        self.stdout.flush()
        supervisor.run_forever()
