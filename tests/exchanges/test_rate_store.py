"""The shared rate budget's store on Redis (CacheWindowStore.take_all, one script call per
request) decides as the same arithmetic in Python does: a request takes its account's and its
IP's budget both or neither, waits as long, and honours a block learned from the exchange."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache

from exchanges.ratelimit import CacheWindowStore, RateLimiter, Take, WindowStore


class Composed(CacheWindowStore):
    """The same store without the script: WindowStore.take_all over take/release."""

    def take_all(self, takes, *, blocked_key, now):
        return WindowStore.take_all(self, takes, blocked_key=blocked_key, now=now)


def counts(store: CacheWindowStore, key: str, now: float, window: float = 1.0) -> int:
    size = window / 10
    bucket = int(now / size)
    names = [f"{store._prefix}:{key}:{b}" for b in range(bucket - store.SPAN + 1, bucket + 1)]
    return sum(int(v) for v in cache.get_many(names).values())


@pytest.mark.parametrize("kind", [CacheWindowStore, Composed])
def test_a_request_takes_both_budgets_or_neither_and_waits_for_the_oldest_bucket(kind):
    store = kind(cache, prefix=f"test:rl:{uuid.uuid4().hex}")
    now = 1_000_000.05
    account, ip = Take("acct", 1, 3), Take("ip", 1, 4, 5.0)
    assert [store.take_all([account, ip], blocked_key="acct", now=now + i * 0.1) for i in range(3)] == [0.0] * 3
    # the account's fourth within the second: refused, the IP's unit not taken
    wait = store.take_all([account, ip], blocked_key="acct", now=now + 0.35)
    assert wait == pytest.approx(1_000_000.0 + 1.1 - (now + 0.35))  # the first bucket leaves the span
    assert counts(store, "acct", now + 0.35) == 3 and counts(store, "ip", now + 0.35, 5.0) == 3
    # another account behind the same IP: the IP's fourth goes, its fifth is refused and the
    # account's unit given back
    other = Take("other", 1, 10)
    assert store.take_all([other, ip], blocked_key="other", now=now + 0.4) == 0.0
    assert store.take_all([other, ip], blocked_key="other", now=now + 0.45) > 0
    assert counts(store, "other", now + 0.45) == 1 and counts(store, "ip", now + 0.45, 5.0) == 4
    # a block the exchange told us of (X-Bapi-Limit-Status 0): nothing taken until it passes
    store.block("other", now + 2.0)
    assert store.take_all([other, ip], blocked_key="other", now=now + 0.5) == pytest.approx(1.5, abs=0.002)
    assert counts(store, "other", now + 0.5) == 1


def test_the_limiter_on_redis_spends_one_round_trip_per_request(monkeypatch):
    store = CacheWindowStore(cache, prefix=f"test:rl:{uuid.uuid4().hex}")
    limiter = RateLimiter(account_key="a", store=store, ip_key="test", ip_limit=100)
    calls: list[str] = []
    client_class = type(cache._cache.get_client(write=True))
    original = client_class.execute_command

    def counted(self, *args, **options):
        calls.append(str(args[0]))
        return original(self, *args, **options)

    monkeypatch.setattr(client_class, "execute_command", counted)
    limiter.acquire("/v5/order/create", "spot")  # the first may load the script into Redis
    calls.clear()
    limiter.acquire("/v5/order/create", "spot")
    limiter.acquire("/v5/order/create", "spot")
    assert calls == ["EVALSHA", "EVALSHA"]  # it was seven commands each (block, account, IP)
