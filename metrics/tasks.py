"""Periodic metric jobs (thin: call one service, set retry and time limits only).

Schedules: bots/management/commands/setup_schedules.py writes the beat rows (snapshots run through
metrics.tasks.metrics_snapshot_task -> metrics.services.metrics_snapshot_all)."""

from __future__ import annotations

from celery import shared_task
from django.apps import apps


@shared_task(acks_late=True, time_limit=900, soft_time_limit=840)
def metrics_reconcile_task(bot_id: int | None = None) -> int:
    """Recompute figures from all trades and flag drift (BotMetrics.drift_detected_at/detail).
    One bot, or every bot with metrics. Returns how many drifted."""
    from metrics.services import metrics_reconcile, metrics_reconcile_all

    if bot_id is None:
        return metrics_reconcile_all()
    # The row by its id: metrics sits below bots (import-linter layers), so the model by name.
    bot = apps.get_model("bots", "Bot").objects.filter(pk=bot_id).first()
    return int(bool(bot and metrics_reconcile(bot=bot)))


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def metrics_snapshot_task() -> int:
    """One chart point per active bot."""
    from metrics.services import metrics_snapshot_all

    return metrics_snapshot_all()
