"""The operators' switch from a shell: stop every bot and block starts, or allow trading again."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Halt all trading (emergency-stop every bot, refuse starts) or, with --resume, allow it again."

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="All trading halted by an operator (shell)")
        parser.add_argument("--resume", action="store_true", help="Turn the switch off (bots stay stopped).")

    def handle(self, *args, reason: str, resume: bool, **options):
        from bots.services import bots_stop_all, trading_resume

        if resume:
            trading_resume(actor=None)
            self.stdout.write("Trading allowed again; stopped bots stay stopped until their owners start them.")
            return
        count = bots_stop_all(actor=None, reason=reason, background=False)  # no worker needed
        self.stdout.write(f"Trading halted; {count} bot(s) stopping.")
