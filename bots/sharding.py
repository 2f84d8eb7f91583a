"""Partitioning the runtime by exchange account, so more worker and streams processes (on more
machines) carry more bots.

With SETKA_SHARDS = N > 1, every tick of a bot goes to the Celery queue `ticks.<k>` where
k = exchange_account_id mod N, and streams process k holds only the streams of accounts of
shard k. All bots of one account therefore tick in one place, next to its stream, and one
account's rate budget is spent by one shard. With N = 1 (the default) ticks use the default
queue and one streams process holds every account."""

from __future__ import annotations

from django.conf import settings


def shard_count() -> int:
    return max(1, int(settings.SETKA_SHARDS))


def shard_of(account_id: int) -> int:
    return account_id % shard_count()


def tick_queue(account_id: int) -> str | None:
    """The Celery queue of this account's ticks, or None for the default queue (no sharding)."""
    if shard_count() == 1:
        return None
    return f"ticks.{shard_of(account_id)}"


def worker_queues(shard: int) -> str:
    """The `-Q` argument of the worker of shard k (shard 0 also takes the default queue)."""
    if shard_count() == 1:
        return "celery"
    return ",".join(["celery", f"ticks.{shard}"] if shard == 0 else [f"ticks.{shard}"])
