"""Periodic metric jobs (thin: ids in, one service call each, retry policy only)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="metrics.reconcile", acks_late=True, time_limit=600, soft_time_limit=540)
def metrics_reconcile_task(bot_id: int | None = None) -> int:
    """Recompute figures from all trades and flag drift. One bot, or every bot that traded."""
    from bots.models import Bot
    from metrics.services import metrics_reconcile

    bots = Bot.objects.filter(pk=bot_id) if bot_id else Bot.objects.exclude(status=Bot.Status.DRAFT)
    drifted = 0
    for bot in bots.iterator():
        if metrics_reconcile(bot=bot):
            drifted += 1
    return drifted


@shared_task(name="metrics.snapshot", acks_late=True, time_limit=300, soft_time_limit=270)
def metrics_snapshot_task() -> int:
    """One chart point per active bot."""
    from django.utils import timezone

    from bots.models import Bot
    from metrics.services import metrics_snapshot

    now = timezone.now()
    count = 0
    for bot in Bot.objects.filter(status__in=Bot.ACTIVE_STATUSES).iterator():
        if metrics_snapshot(bot=bot, now=now):
            count += 1
    return count
