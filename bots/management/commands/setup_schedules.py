"""Write the periodic schedules into django-celery-beat's tables (idempotent)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask


def _every(seconds: int) -> IntervalSchedule:
    schedule, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    return schedule


class Command(BaseCommand):
    help = "Create or update the periodic tasks (bot ticks, restarts, metric snapshots, key rechecks)."

    def add_arguments(self, parser):
        parser.add_argument("--tick-seconds", type=int, default=None)

    def handle(self, *args, tick_seconds=None, **options):
        tick = tick_seconds or settings.SETKA_BOT_TICK_SECONDS
        tasks = {
            "bots: tick every running bot": ("bots.tasks.bots_tick_all_task", tick),
            # the per-account safety net: which accounts are due is decided each beat interval
            # (quiet or reconnected streams at once; every account once per SETKA_SAFETY_SECONDS)
            "bots: pass exchange accounts whose stream was quiet or reconnected": (
                "bots.tasks.accounts_sync_due_task",
                tick,
            ),
            "bots: sweep orders that reached the exchange after their bot stopped": (
                "bots.tasks.stopped_orders_sweep_task",
                max(tick * 6, 30),
            ),
            "bots: restart failed bots after back-off": ("bots.tasks.bots_restart_due_task", max(tick, 5)),
            "metrics: snapshots": ("metrics.tasks.metrics_snapshot_task", settings.SETKA_METRICS_SNAPSHOT_SECONDS),
            "metrics: recompute and flag drift": ("metrics.tasks.metrics_reconcile_task", 3600),
            "exchanges: recheck API keys": ("exchanges.tasks.exchange_accounts_recheck_task", 6 * 3600),
            "billing: reconcile payments with the providers": (
                "billing.tasks.billing_reconcile_task",
                settings.SETKA_BILLING_RECONCILE_SECONDS,
            ),
            "billing: subscriptions past due, grace, expiry": ("billing.tasks.billing_subscriptions_advance_task", 600),
            "billing: accrue the pay-from-profit fee": ("billing.tasks.billing_profit_share_accrue_task", 3600),
            "referrals: rewards past the refund window become available": (
                "referrals.tasks.referral_rewards_mature_task",
                3600,
            ),
            "pools: followers catch up with their manager (safety net of the on-commit task)": (
                "pools.tasks.pools_follow_all_task",
                60,
            ),
            "pools: NAV, high-water marks and fees": ("pools.tasks.pools_value_all_task", 3600),
            "notifications: send due and retried deliveries": ("notifications.tasks.deliveries_send_due_task", 60),
            "notifications: daily digest (once a day per user)": ("bots.tasks.digests_send_task", 24 * 3600),
            "notifications: API keys expiring within a week": ("bots.tasks.keys_expiring_notify_task", 12 * 3600),
            "analytics: new 1-minute candles, then the screener": ("analytics.tasks.candles_refresh_task", 300),
            "mcp: market regime of running bots' pairs, an alert when one turns into a trend": (
                "mcp_server.tasks.regime_watch_task",
                900,
            ),
        }
        for name, (task, seconds) in tasks.items():
            PeriodicTask.objects.update_or_create(
                name=name, defaults={"task": task, "interval": _every(seconds), "enabled": True, "crontab": None}
            )
            self.stdout.write(f"{name}: {task} every {seconds}s")
