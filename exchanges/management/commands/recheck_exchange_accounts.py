"""Re-check stored exchange keys now (the periodic task does it every 6 hours)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from exchanges.models import ExchangeAccount
from exchanges.services import exchange_account_recheck, exchange_accounts_recheck_all


class Command(BaseCommand):
    help = "Re-check exchange API keys with the exchange; flag expired, revoked or over-privileged keys."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Account ids (default: every account)")

    def handle(self, *args, ids=None, **options):
        if not ids:
            counts = exchange_accounts_recheck_all()
            self.stdout.write(", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "no accounts")
            return
        for account in ExchangeAccount.objects.filter(pk__in=ids).order_by("pk"):
            account = exchange_account_recheck(account=account)
            reason = f" ({account.status_reason})" if account.status_reason else ""
            self.stdout.write(f"#{account.pk} {account.label}: {account.status}{reason}")
