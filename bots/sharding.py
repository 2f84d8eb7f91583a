"""Partitioning the runtime by exchange account, so more worker and streams processes (on more
machines) carry more bots.

With SETKA_SHARDS = N > 1, every tick of a bot goes to the Celery queue `ticks.<k>` where
k = exchange_account_id mod N, and streams process k holds only the streams of accounts of
shard k. All bots of one account therefore tick in one place, next to its stream, and one
account's rate budget is spent by one shard. With N = 1 (the default) ticks use the default
queue and one streams process holds every account.

Ticks that a fill asked for (urgent: the stream saw an execution, a counter order is due) go to
their own queue, `urgent` (`urgent.<k>` when sharded), which every worker consumes first: on
Redis a worker takes from its queues in their order (queue_order_strategy "priority",
config/settings.py), so a fill's tick waits only for a process to come free, never behind the
backlog of safety ticks and passes (taken in turn, every other task was the backlog's)."""

from __future__ import annotations

from django.conf import settings

URGENT_QUEUE = "urgent"
# A tick of the bot is queued and has not started: beat queues no other (bots.tasks).
TICK_QUEUED_KEY = "setka:bot-tick-queued:{}"
# A stop run cancels the bot's orders: no tick runs (beat's, a pass's, or the stream's for each
# cancelled order) until the run queues the bot's stop tick (bots.tasks).
HOLD_KEY = "setka:bot-tick-held:{}"


def shard_count() -> int:
    return max(1, int(settings.SETKA_SHARDS))


def shard_of(account_id: int) -> int:
    return account_id % shard_count()


def tick_queue(account_id: int, *, urgent: bool = False) -> str | None:
    """The Celery queue of this account's ticks, or None for the default queue (no sharding)."""
    if shard_count() == 1:
        return URGENT_QUEUE if urgent else None
    k = shard_of(account_id)
    return f"{URGENT_QUEUE}.{k}" if urgent else f"ticks.{k}"


def worker_queues(shard: int) -> str:
    """The `-Q` argument of the worker of shard k (shard 0 also takes the default queue); the
    fills' urgent queue comes first."""
    if shard_count() == 1:
        return f"{URGENT_QUEUE},celery"
    own = [f"{URGENT_QUEUE}.{shard}", f"ticks.{shard}"]
    return ",".join([own[0], "celery", own[1]] if shard == 0 else own)


def ticks_hold(bot_ids, *, seconds: float) -> None:
    """No tick of these bots runs for `seconds` (one queued meanwhile returns at once), or until
    a tick queued with held=True starts (bots.tasks.bot_tick_task ends the hold)."""
    from django.core.cache import cache

    cache.set_many({HOLD_KEY.format(pk): 1 for pk in bot_ids}, timeout=max(1, int(seconds)))
