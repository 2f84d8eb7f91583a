"""Celery tasks of the bots: thin, they take ids and call one service."""

from __future__ import annotations

import logging
import random
import time

from celery import shared_task
from django.conf import settings

from bots.sharding import HOLD_KEY
from bots.sharding import TICK_QUEUED_KEY as QUEUED_KEY
from exchanges.client import Fill
from observability.prom import TICK_LAG_SECONDS

logger = logging.getLogger(__name__)

MAX_DEFERRALS = 2  # a tick held back by the rate budget this many times in a row then waits for it
SYNC_QUEUED_KEY = "setka:account-sync-queued:{}"


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=90, time_limit=120)
def bot_tick_task(
    bot_id: int,
    urgent: bool = False,
    queued_at: float | None = None,
    deferred: int = 0,
    held: bool = False,
    swept: bool = False,
    fills: list[dict] | None = None,
) -> None:
    tick_run(bot_id, urgent=urgent, queued_at=queued_at, deferred=deferred, held=held, swept=swept, fills=fills)


def tick_run(
    bot_id: int,
    *,
    urgent: bool = False,
    queued_at: float | None = None,
    deferred: int = 0,
    held: bool = False,
    swept: bool = False,
    fills: list[dict] | None = None,
) -> None:
    """One tick as a worker runs it: its own task, or a stop run's thread (stop_run_task). A
    tick the rate budget holds back is queued again. `fills`: the executions the stream pushed
    with a fill's tick (Fill.to_wire); the tick stores them instead of reading the exchange when
    they fill their orders completely. A copy it cannot read is dropped: the tick reads."""
    from django.core.cache import cache

    from bots.services import bot_tick
    from exchanges.ratelimit import budget_wait_at_most

    if held:  # the stop tick a stop run queued: the hold on the bot's ticks ends
        cache.delete(HOLD_KEY.format(bot_id))
    elif cache.get(HOLD_KEY.format(bot_id)):
        # A stop run is cancelling the bot's orders and queues its stop tick when that is done
        # (the stream ticked stopping bots once per cancelled order: 2,972 ticks to stop 1,005).
        if not urgent:
            cache.delete(QUEUED_KEY.format(bot_id))
        return
    if queued_at is not None:
        TICK_LAG_SECONDS.observe(max(0.0, time.time() - queued_at))
        if urgent and not held:  # where a fill's time goes (scripts/bench scale reads this line)
            logger.info(
                "urgent tick of bot %s: queued %.3f started %.3f%s",
                bot_id,
                queued_at,
                time.time(),
                " with the push" if fills else "",
            )
    if not urgent or held:  # held: a stop run's tick, which also ends beat's mark
        cache.delete(QUEUED_KEY.format(bot_id))  # started: beat may queue the next one
    # A process never sleeps on one account's exhausted quota: the tick stops before that request
    # and comes again when the budget has room, and the process serves other accounts meanwhile.
    # A tick held back MAX_DEFERRALS times in a row waits as before: an account whose budget the
    # passes and other ticks keep spending (a venue of a few requests per second) still moves on.
    pushed = _fills_from_wire(fills) if urgent and fills else None
    if deferred < MAX_DEFERRALS:
        with budget_wait_at_most(settings.SETKA_TICK_BUDGET_WAIT_SECONDS):
            result = bot_tick(bot_id=bot_id, urgent=urgent, swept=swept, pushed=pushed)
    else:
        result = bot_tick(bot_id=bot_id, urgent=urgent, swept=swept, pushed=pushed)
    if result.retry_after is not None:
        if not urgent or held:
            cache.set(QUEUED_KEY.format(bot_id), 1, timeout=max(settings.SETKA_BOT_TICK_SECONDS * 10, 30))
        countdown = result.retry_after + random.uniform(0.0, 0.2)
        tick_enqueue(
            bot_id, urgent=urgent, countdown=countdown, deferred=deferred + 1, held=held, swept=swept, fills=fills
        )


def _fills_from_wire(fills: list[dict]) -> list[Fill] | None:
    try:
        return [Fill.from_wire(item) for item in fills]
    except (KeyError, TypeError, ValueError, ArithmeticError):
        logger.warning("tick: a pushed execution could not be read; the tick reads the exchange")
        return None


def tick_enqueue(
    bot_id: int,
    *,
    urgent: bool = False,
    account_id: int | None = None,
    countdown: float | None = None,
    deferred: int = 0,
    held: bool = False,
    swept: bool = False,
    fills: list[dict] | None = None,
) -> None:
    """Queue one tick of the bot on its account's shard queue; a fill's (urgent) tick on the
    urgent queue that workers serve ahead of the backlog (bots.sharding), with the executions
    the stream pushed (`fills`, Fill.to_wire) when it has them."""
    from django.core.cache import cache

    from bots.sharding import shard_count, tick_queue

    if not held and cache.get(HOLD_KEY.format(bot_id)):
        # a stop run queues this bot's stop tick itself: the stream's tick for each order it
        # cancelled would only be dropped by the worker (2,000 such tasks at stop all of 1,000 bots)
        return
    options: dict[str, object] = {}
    if shard_count() > 1 and account_id is None:
        from bots.models import Bot

        account_id = Bot.objects.values_list("exchange_account_id", flat=True).get(pk=bot_id)
    queue = tick_queue(account_id or 0, urgent=urgent)
    if queue:
        options["queue"] = queue
    if countdown:
        options["countdown"] = countdown
    kwargs = {
        "queued_at": time.time() + (countdown or 0),
        **({"urgent": True} if urgent else {}),
        **({"deferred": deferred} if deferred else {}),
        **({"held": True} if held else {}),
        **({"swept": True} if swept else {}),
        **({"fills": fills} if urgent and fills else {}),
    }
    bot_tick_task.apply_async(args=[bot_id], kwargs=kwargs, **options)


def tick_enqueue_once(bot_id: int, account_id: int | None = None) -> bool:
    """Queue the bot's tick unless one is queued and not started yet (beat's and the account
    pass's ticks share the mark; urgent stream ticks do not use it)."""
    from django.core.cache import cache

    if cache.get(HOLD_KEY.format(bot_id)):  # a stop run queues this bot's tick itself
        return False
    if not cache.add(QUEUED_KEY.format(bot_id), 1, timeout=max(settings.SETKA_BOT_TICK_SECONDS * 10, 30)):
        return False
    tick_enqueue(bot_id, account_id=account_id)
    return True


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=90, time_limit=120)
def account_sync_task(account_id: int) -> None:
    """One account pass (bots.services.account_sync) on the account's shard queue."""
    from django.core.cache import cache

    from bots.services.account_sync import account_sync

    cache.delete(SYNC_QUEUED_KEY.format(account_id))  # started: beat may queue the next one
    account_sync(account_id=account_id)


def account_sync_enqueue(account_id: int) -> bool:
    """Queue one pass of the account (at most one queued and not started)."""
    from django.core.cache import cache

    from bots.sharding import tick_queue

    if not cache.add(SYNC_QUEUED_KEY.format(account_id), 1, timeout=max(settings.SETKA_SAFETY_SECONDS * 2, 30)):
        return False
    queue = tick_queue(account_id)
    account_sync_task.apply_async(args=[account_id], **({"queue": queue} if queue else {}))
    return True


@shared_task(acks_late=True, ignore_result=True, expires=30)
def accounts_sync_due_task() -> int:
    """Beat's safety net, per exchange account: a pass of every account whose stream was quiet,
    reconnected or absent, and of every account once per SETKA_SAFETY_SECONDS."""
    if not settings.SETKA_ACCOUNT_SYNC:
        return 0
    from bots.services.account_sync import accounts_due_for_sync

    return sum(account_sync_enqueue(account_id) for account_id in accounts_due_for_sync())


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
    """Beat's per-bot ticks: queue one tick for every bot that needs its own (whose lease is free
    and that has no tick queued and not yet started: a slow worker never piles up ticks; two
    beats never double them). With SETKA_ACCOUNT_SYNC the account passes reconcile running bots
    and only these tick by themselves: starting and stopping bots, bots with a price or profit
    target, bots due for their periodic full tick, and bots no pass has reconciled for three
    safety intervals (its pass fails); without it, every active bot."""
    from django.core.cache import cache

    from bots.selectors import bot_ids_due_for_fallback_tick, bot_ids_due_for_tick

    due = list(bot_ids_due_for_fallback_tick() if settings.SETKA_ACCOUNT_SYNC else bot_ids_due_for_tick())
    # The bots a stop run holds are left to it, asked in one round trip: at stop all every bot is
    # stopping, and asking each (1,000 Redis calls) made this task take 1 s of a process every 5 s.
    held = cache.get_many([HOLD_KEY.format(bot_id) for bot_id, _ in due])
    return sum(
        tick_enqueue_once(bot_id, account_id) for bot_id, account_id in due if HOLD_KEY.format(bot_id) not in held
    )


@shared_task(acks_late=True, ignore_result=True)
def bots_restart_due_task() -> int:
    from bots.services import bots_restart_due

    return bots_restart_due()


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=900, time_limit=960)
def stop_run_task(run_id: str) -> None:
    """A stop of many bots (stop all, bulk emergency stop), after the request that asked for it;
    the run ticks the bots' stop ticks itself (bots.services.stop_run)."""
    from bots.services import stop_run_continue

    stop_run_continue(run_id=run_id, tick=tick_run)


@shared_task(acks_late=True, ignore_result=True, expires=30)
def stopped_orders_sweep_task() -> int:
    """Cancel orders that reached an exchange after their bot stopped."""
    from bots.services import stopped_orders_sweep

    return stopped_orders_sweep()
