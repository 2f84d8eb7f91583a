"""Celery tasks of the bots: thin, they take ids and call one service."""

from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings

from observability.prom import TICK_LAG_SECONDS

QUEUED_KEY = "setka:bot-tick-queued:{}"


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=90, time_limit=120)
def bot_tick_task(bot_id: int, urgent: bool = False, queued_at: float | None = None) -> None:
    from django.core.cache import cache

    from bots.services import bot_tick

    if queued_at is not None:
        TICK_LAG_SECONDS.observe(max(0.0, time.time() - queued_at))
    if not urgent:
        cache.delete(QUEUED_KEY.format(bot_id))  # started: beat may queue the next one
    bot_tick(bot_id=bot_id, urgent=urgent)


def tick_enqueue(bot_id: int, *, urgent: bool = False, account_id: int | None = None) -> None:
    """Queue one tick of the bot on its account's shard queue (bots.sharding)."""
    from bots.sharding import shard_count, tick_queue

    options = {}
    if shard_count() > 1:
        if account_id is None:
            from bots.models import Bot

            account_id = Bot.objects.values_list("exchange_account_id", flat=True).get(pk=bot_id)
        options["queue"] = tick_queue(account_id)
    kwargs = {"queued_at": time.time(), **({"urgent": True} if urgent else {})}
    bot_tick_task.apply_async(args=[bot_id], kwargs=kwargs, **options)


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def bot_stop_notify_task(bot_id: int, generation: int) -> None:
    """Tell the owner that the bot stopped (idempotent: a retry never sends twice)."""
    from bots.notify import bot_stop_notify

    bot_stop_notify(bot_id=bot_id, generation=generation)


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def bot_event_notify_task(event_id: int) -> None:
    """Tell the owner about a start or an error of the bot (idempotent by the log line)."""
    from bots.notify import bot_event_notify

    bot_event_notify(event_id=event_id)


@shared_task(acks_late=True, ignore_result=True, expires=3600)
def digests_send_task() -> int:
    """Beat, daily: each owner of bots gets the day's digest (once per day)."""
    from bots.notify import digests_send

    return digests_send()


@shared_task(acks_late=True, ignore_result=True, expires=3600)
def keys_expiring_notify_task() -> int:
    """Beat, daily: owners of API keys that expire within a week are told (once per key and date)."""
    from bots.notify import keys_expiring_notify

    return keys_expiring_notify()


@shared_task(acks_late=True, ignore_result=True, expires=30)
def bots_tick_all_task() -> int:
    """Beat's safety net: queue one tick for every active bot whose lease is free and that has
    no tick queued and not yet started (a slow worker never piles up ticks; two beats never
    double them)."""
    from django.core.cache import cache

    from bots.selectors import bot_ids_due_for_tick

    count = 0
    for bot_id, account_id in bot_ids_due_for_tick():
        if cache.add(QUEUED_KEY.format(bot_id), 1, timeout=max(settings.SETKA_BOT_TICK_SECONDS * 10, 30)):
            tick_enqueue(bot_id, account_id=account_id)
            count += 1
    return count


@shared_task(acks_late=True, ignore_result=True)
def bots_restart_due_task() -> int:
    from bots.services import bots_restart_due

    return bots_restart_due()


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=900, time_limit=960)
def stop_run_task(run_id: str) -> None:
    """A stop of many bots (stop all, bulk emergency stop), after the request that asked for it."""
    from bots.services import stop_run_continue

    stop_run_continue(run_id=run_id)


@shared_task(acks_late=True, ignore_result=True, expires=30)
def stopped_orders_sweep_task() -> int:
    """Cancel orders that reached an exchange after their bot stopped."""
    from bots.services import stopped_orders_sweep

    return stopped_orders_sweep()
