"""Client-side rate limiting per exchange account, so a bot never gets its key or IP banned.

Bybit limits each UID per endpoint (and per category) over a rolling 1-second window and tells
the client how much is left in every response (X-Bapi-Limit-Status, X-Bapi-Limit-Reset-Timestamp).
`RateLimiter` combines both:

- before a request, `acquire()` waits until the endpoint's window has room (a safety margin below
  Bybit's published default limit) and until any block learned from the exchange has passed;
- after a response, `observe()` reads the headers: when the exchange says nothing is left, the
  endpoint is blocked until the reset timestamp; a 10006 answer does the same (`block_until`).

Every request also takes one unit from the budget of the egress IP (Bybit: 600 requests per 5 s
per IP, answered with HTTP 403 past it), shared by every account and every process behind that
IP; a batch order call counts its orders against the account's order endpoint and one request
against the IP.

State lives in a `WindowStore`: `LocalWindowStore` (one process, thread-safe) or `CacheWindowStore`
(a Django cache such as Redis, shared by every worker that trades with the same account).
No Django import at module level: the adapter stays usable without settings.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

from exchanges.errors import BudgetWait, RateLimited
from observability.prom import RATE_BUDGET_REFUSED, RATE_BUDGET_WAIT_SECONDS

# Bybit V5 defaults for a non-VIP unified account (docs/v5/rate-limit): requests per second.
# Key: (path, category or "*").
DEFAULT_LIMITS: dict[tuple[str, str], int] = {
    ("/v5/order/create", "spot"): 20,
    ("/v5/order/create", "*"): 10,
    ("/v5/order/amend", "*"): 10,
    ("/v5/order/cancel", "spot"): 20,
    ("/v5/order/cancel", "*"): 10,
    ("/v5/order/cancel-all", "spot"): 20,
    ("/v5/order/cancel-all", "*"): 10,
    ("/v5/order/create-batch", "spot"): 20,
    ("/v5/order/create-batch", "*"): 10,
    ("/v5/order/cancel-batch", "spot"): 20,
    ("/v5/order/cancel-batch", "*"): 10,
    ("/v5/order/realtime", "*"): 50,
    ("/v5/order/history", "*"): 50,
    ("/v5/execution/list", "*"): 50,
    ("/v5/position/list", "*"): 50,
    ("/v5/position/set-leverage", "*"): 10,
    ("/v5/account/wallet-balance", "*"): 50,
    ("/v5/account/fee-rate", "*"): 5,
    ("/v5/account/info", "*"): 50,
    ("/v5/user/query-api", "*"): 10,
}
# Public market data is limited per IP (600 per 5 s for all traffic); keep each path modest.
PUBLIC_LIMIT = 20
SAFETY = 0.9  # use at most 90 % of a published limit
# Requests per window per egress IP, by venue: (limit, window seconds). A venue not listed has no
# IP budget of ours (its per-endpoint limits still apply).
IP_LIMITS: dict[str, tuple[int, float]] = {"bybit": (600, 5.0)}


_WAIT_CAP: ContextVar[float | None] = ContextVar("setka_budget_wait_cap", default=None)


@contextmanager
def budget_wait_at_most(seconds: float) -> Iterator[None]:
    """Inside this block a request whose budget has no room for longer than `seconds` is not
    waited for: acquire() raises BudgetWait(retry_after) instead of sleeping. A worker's tick uses
    it so that a process never sleeps on one account's order quota while other accounts' fills
    wait for it (the 1,000-bot launch spent most of its time asleep in here)."""
    token = _WAIT_CAP.set(seconds)
    try:
        yield
    finally:
        _WAIT_CAP.reset(token)


def egress_name() -> str:
    """Which egress IP this process sends from: SETKA_EGRESS_IP when set (several machines behind
    one NAT share it; one machine with two addresses sets it per process), else the host name."""
    return os.environ.get("SETKA_EGRESS_IP") or socket.gethostname()


def limit_for(path: str, category: str | None) -> int:
    limit = DEFAULT_LIMITS.get((path, category or "*")) or DEFAULT_LIMITS.get((path, "*")) or PUBLIC_LIMIT
    return max(1, int(limit * SAFETY))


class Take(NamedTuple):
    """One budget a request takes from: `cost` units of `key`'s `limit` per `window` seconds."""

    key: str
    cost: int
    limit: int
    window: float = 1.0


class WindowStore:
    """Where the limiter keeps its counters. `take` reserves `cost` units in the rolling window
    (`window` seconds, 1 by default) if `limit` allows and returns 0, else returns how long to
    wait (seconds); `release` gives back what a `take` reserved when the request was not sent.
    `take_all` is what a request does: every budget or none, unless its endpoint is blocked."""

    def take_all(self, takes: list[Take], *, blocked_key: str, now: float) -> float:
        """Reserve every take, in order, or none (one without room gives back those before
        it), unless `blocked_key` is blocked. Returns 0 or how long to wait (seconds)."""
        blocked = self.blocked_until(blocked_key)
        if blocked > now:
            return blocked - now
        done: list[Take] = []
        for take in takes:
            wait = self.take(take.key, take.cost, take.limit, now, take.window)
            if wait > 0:
                for earlier in reversed(done):
                    self.release(earlier.key, earlier.cost, now, earlier.window)
                return wait
            done.append(take)
        return 0.0

    def take(self, key: str, cost: int, limit: int, now: float, window: float = 1.0) -> float:  # pragma: no cover
        raise NotImplementedError

    def release(self, key: str, cost: int, now: float, window: float = 1.0) -> None:  # pragma: no cover
        raise NotImplementedError

    def blocked_until(self, key: str) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def block(self, key: str, until: float) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class LocalWindowStore(WindowStore):
    """Rolling window per key, in this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._blocks: dict[str, float] = {}

    def take(self, key: str, cost: int, limit: int, now: float, window: float = 1.0) -> float:
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - window:
                events.popleft()
            if len(events) + cost <= limit or not events:
                events.extend([now] * cost)
                return 0.0
            # wait until enough old events leave the window
            index = min(len(events) - 1, max(0, len(events) + cost - limit - 1))
            return max(0.001, events[index] + window - now)

    def release(self, key: str, cost: int, now: float, window: float = 1.0) -> None:
        with self._lock:
            events = self._events[key]
            for _ in range(min(cost, len(events))):
                events.pop()

    def blocked_until(self, key: str) -> float:
        with self._lock:
            return self._blocks.get(key, 0.0)

    def block(self, key: str, until: float) -> None:
        with self._lock:
            self._blocks[key] = max(until, self._blocks.get(key, 0.0))


class CacheWindowStore(WindowStore):
    """A rolling window approximated by buckets of a tenth of the window counted in a shared
    cache (Django's Redis cache): every process trading with one account (or behind one IP)
    shares the budget. A request counts against the current bucket plus the ten before it
    (1.1 windows), so no rolling window of the exchange ever sees more than `limit`. Blocks
    learned from headers are shared too."""

    SPAN = 11

    def __init__(self, cache, prefix: str = "setka:rl"):
        self._cache = cache
        self._prefix = prefix
        self._script: Any = None  # the Lua script, registered once

    def take_all(self, takes: list[Take], *, blocked_key: str, now: float) -> float:
        """On Redis, one script call (the same counts, the block and every take at once): a
        request used to cost seven round trips to Redis here, paid on every tick's critical path."""
        redis_cache: Any = getattr(self._cache, "_cache", None)  # Django's RedisCache client
        if not hasattr(redis_cache, "get_client"):
            return super().take_all(takes, blocked_key=blocked_key, now=now)
        make_key = self._cache.make_and_validate_key
        keys = [make_key(f"{self._prefix}:block:{blocked_key}")]
        args: list[float | int | str] = [repr(now), len(takes), self.SPAN]
        for take in takes:
            size = take.window / 10
            bucket = int(now / size)
            keys += [make_key(f"{self._prefix}:{take.key}:{b}") for b in range(bucket - self.SPAN + 1, bucket + 1)]
            args += [take.cost, take.limit, repr(size), max(5, int(take.window * 2) + 1), bucket]
        client = redis_cache.get_client(keys[0], write=True)
        script = self._script
        if script is None:
            script = self._script = client.register_script(_TAKE_ALL)
        return float(script(keys=keys, args=args, client=client))

    def take(self, key: str, cost: int, limit: int, now: float, window: float = 1.0) -> float:
        size = window / 10
        bucket = int(now / size)
        name = f"{self._prefix}:{key}:{bucket}"
        ttl = max(5, int(window * 2) + 1)
        self._cache.add(name, 0, timeout=ttl)
        try:
            used = self._cache.incr(name, cost)
        except ValueError:  # expired between add and incr
            self._cache.set(name, cost, timeout=ttl)
            used = cost
        previous = [f"{self._prefix}:{key}:{b}" for b in range(bucket - self.SPAN + 1, bucket)]
        counts = self._cache.get_many(previous)
        if used + sum(int(v) for v in counts.values()) <= limit:
            return 0.0
        self._cache.decr(name, cost)
        oldest = next(
            (b for b in range(bucket - self.SPAN + 1, bucket) if counts.get(f"{self._prefix}:{key}:{b}")), bucket
        )
        return max(0.005, (oldest + self.SPAN) * size - now)

    def release(self, key: str, cost: int, now: float, window: float = 1.0) -> None:
        name = f"{self._prefix}:{key}:{int(now / (window / 10))}"
        try:
            self._cache.decr(name, cost)
        except ValueError:  # already expired: nothing to give back
            pass

    def blocked_until(self, key: str) -> float:
        # epoch milliseconds, an integer: Django's Redis cache keeps integers as they are, so the
        # script reads the same value
        return int(self._cache.get(f"{self._prefix}:block:{key}") or 0) / 1000

    def block(self, key: str, until: float) -> None:
        ttl = max(1, int(until - time.time()) + 2)
        current = self.blocked_until(key)
        if until > current:
            self._cache.set(f"{self._prefix}:block:{key}", math.ceil(until * 1000), timeout=ttl)


# CacheWindowStore.take_all in Redis. KEYS: the endpoint's block, then per take its SPAN buckets,
# oldest first and the current one last. ARGV: now, the number of takes, SPAN, then per take its
# cost, limit, bucket size (s), the buckets' TTL and the current bucket's number. The same
# arithmetic as CacheWindowStore.take; a take without room gives back those before it.
_TAKE_ALL = """
local now = tonumber(ARGV[1])
local blocked = tonumber(redis.call('GET', KEYS[1]) or '')
if blocked and blocked / 1000 > now then
  return tostring(blocked / 1000 - now)
end
local n = tonumber(ARGV[2])
local span = tonumber(ARGV[3])
local taken = {}
for i = 0, n - 1 do
  local base = 4 + i * 5
  local cost = tonumber(ARGV[base])
  local limit = tonumber(ARGV[base + 1])
  local size = tonumber(ARGV[base + 2])
  local ttl = tonumber(ARGV[base + 3])
  local bucket = tonumber(ARGV[base + 4])
  local first = 2 + i * span
  local current = KEYS[first + span - 1]
  local used = redis.call('INCRBY', current, cost)
  if used == cost then
    redis.call('EXPIRE', current, ttl)
  end
  local total = used
  local oldest = nil
  for k = first, first + span - 2 do
    local count = tonumber(redis.call('GET', KEYS[k]) or '0') or 0
    total = total + count
    if oldest == nil and count > 0 then
      oldest = bucket - span + 1 + (k - first)
    end
  end
  if total > limit then
    redis.call('DECRBY', current, cost)
    for j = #taken, 1, -1 do
      redis.call('DECRBY', taken[j][1], taken[j][2])
    end
    local wait = ((oldest or bucket) + span) * size - now
    if wait < 0.005 then
      wait = 0.005
    end
    return tostring(wait)
  end
  taken[#taken + 1] = {current, cost}
end
return '0'
"""


class RateLimiter:
    """Per-account limiter. `account_key` identifies the account (never the API key itself);
    `ip_key` the egress IP whose budget every request also takes from (default: this venue's
    IP limit, IP_LIMITS, behind egress_name(); `ip_limit=0` turns it off)."""

    def __init__(
        self,
        *,
        account_key: str,
        store: WindowStore | None = None,
        max_wait: float = 5.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        limits: Mapping[tuple[str, str], int] | None = None,
        venue: str = "bybit",
        ip_key: str | None = None,
        ip_limit: int | None = None,
        ip_window: float | None = None,
    ):
        self.account_key = account_key
        published, window = IP_LIMITS.get(venue, (0, 5.0))
        self.ip_limit = max(0, int((published if ip_limit is None else ip_limit) * SAFETY))
        self.ip_window = ip_window or window
        self.ip_key = f"ip:{venue}:{ip_key or egress_name()}"
        self.venue = venue
        self.store = store or LocalWindowStore()
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._limits = limits
        self.waited_seconds = 0.0  # total time spent waiting (observability, tests)

    def _key(self, path: str, category: str | None) -> str:
        return f"{self.account_key}:{path}:{category or '*'}"

    def _limit(self, path: str, category: str | None) -> int:
        if self._limits is not None:
            value = self._limits.get((path, category or "*")) or self._limits.get((path, "*"))
            if value:
                return value
        return limit_for(path, category)

    def acquire(self, path: str, category: str | None = None, cost: int = 1) -> None:
        """Wait until a request to `path` fits the budget. Raises RateLimited when the wait
        would exceed `max_wait` (the caller then backs off as for a 10006)."""
        key = self._key(path, category)
        limit = self._limit(path, category)
        deadline = self._clock() + self.max_wait
        waited = 0.0
        takes = [Take(key, min(cost, limit), limit)]
        if self.ip_limit:
            takes.append(Take(self.ip_key, 1, self.ip_limit, self.ip_window))
        while True:
            now = self._clock()
            # the account's endpoint, then the IP (one request): both or neither
            wait = self.store.take_all(takes, blocked_key=key, now=now)
            if wait <= 0:
                RATE_BUDGET_WAIT_SECONDS.labels(venue=self.venue).observe(waited)
                return
            cap = _WAIT_CAP.get()
            if cap is not None and wait > cap:
                raise BudgetWait(f"Rate budget for {path}: room in {wait:.2f}s", retry_after=wait)
            if now + wait > deadline:
                RATE_BUDGET_REFUSED.labels(venue=self.venue).inc()
                raise RateLimited(
                    f"Client-side rate limit for {path}: wait {wait:.2f}s", code="client", retry_after=wait
                )
            self.waited_seconds += wait
            waited += wait
            self._sleep(wait)

    def observe(self, path: str, category: str | None, headers: Mapping[str, str] | None) -> None:
        """Learn from X-Bapi-Limit-Status / X-Bapi-Limit-Reset-Timestamp (case-insensitive)."""
        if not headers:
            return
        remaining = _header(headers, "X-Bapi-Limit-Status")
        reset_ms = _header(headers, "X-Bapi-Limit-Reset-Timestamp")
        if remaining is None:
            return
        try:
            if int(remaining) > 0:
                return
            until = int(reset_ms) / 1000 if reset_ms else self._clock() + 1.0
        except ValueError:
            return
        self.store.block(self._key(path, category), until)

    def block_until(self, path: str, category: str | None, until: float) -> None:
        self.store.block(self._key(path, category), until)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, item in headers.items():
            if key.lower() == lowered:
                return item
    return value
