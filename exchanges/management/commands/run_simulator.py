"""Start the exchange simulator for one venue (thin wrapper: the simulator itself has no Django).

Outside development (DJANGO_ENV=production) it refuses to start with a missing, short,
well-known or predictable control token: anyone who knows the token can mint money on every
paper account and read their keys."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from exchanges.simulator.controlchecks import is_production, require_strong_token
from exchanges.simulator.server import add_arguments, run_from_args


class Command(BaseCommand):
    help = (
        "Run the exchange simulator: one venue dialect (--venue, default bybit) on the one matching engine; "
        "REST + WebSocket on one port, control API at /control/."
    )

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, **options):
        class Args:
            pass

        a = Args()
        a.host, a.port, a.state = options["host"], options["port"], options["state"]
        a.control_token = options["control_token"] or getattr(settings, "SETKA_SIMULATOR_CONTROL_TOKEN", "")
        a.replay, a.speed, a.ip_limit = options["replay"], options["speed"], options["ip_limit"]
        a.venue = options["venue"]
        production = bool(getattr(settings, "PRODUCTION", False)) or is_production()
        try:
            require_strong_token(a.control_token, production=production)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        run_from_args(a)
