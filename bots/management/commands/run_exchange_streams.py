"""Hold the private WebSocket of every exchange account with active bots (see bots.streams)."""

from __future__ import annotations

import os
import signal

from django.core.management.base import BaseCommand, CommandError

from bots.sharding import shard_count
from bots.streams import StreamsSupervisor, default_enqueue_sync


class Command(BaseCommand):
    help = "Run the exchange streams process: order/execution events enqueue the bot's tick at once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--refresh-seconds", type=float, default=3.0, help="How often to pick up started and stopped bots."
        )
        parser.add_argument(
            "--shard",
            type=int,
            default=int(os.environ.get("SETKA_STREAMS_SHARD", 0)),
            help="Which shard of exchange accounts this process holds (0..SETKA_SHARDS-1).",
        )

    def handle(self, *args, refresh_seconds: float = 3.0, shard: int = 0, **options):
        if not 0 <= shard < shard_count():
            raise CommandError(f"--shard must be between 0 and {shard_count() - 1} (SETKA_SHARDS={shard_count()})")
        supervisor = StreamsSupervisor(
            refresh_seconds=refresh_seconds, shard=shard, enqueue_sync=default_enqueue_sync()
        )
        signal.signal(signal.SIGTERM, lambda *_: supervisor.stop())
        signal.signal(signal.SIGINT, lambda *_: supervisor.stop())
        self.stdout.write(f"run_exchange_streams: ready (shard {shard} of {shard_count()})", ending="\n")
        self.stdout.flush()
        supervisor.run_forever()
