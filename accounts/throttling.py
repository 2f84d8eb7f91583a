"""Brakes on guessing and flooding, with atomic counters in Redis (one Lua script per decision,
so N concurrent requests against a limit of L let exactly L through, in every web process).

- Login: a lock per (account, IP) with a growing delay, so nobody can lock someone else's
  account from elsewhere; a lock per IP across accounts (password spraying); an emailed
  unlock link for the owner (accounts.services.users). `login_attempt_begin` reserves the
  attempt before the password is checked.
- Attempt budgets (password change, access codes): reserved before the check, given back on
  success.
- Sending codes: per address, per account, distinct phone numbers per account.
- DRF throttles with the same atomic sliding window (settings.REST_FRAMEWORK uses them).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework import throttling as drf_throttling


def client_ip(request) -> str | None:
    """The client's address. Behind a reverse proxy set SETKA_TRUST_X_FORWARDED_FOR=1 (the proxy
    must overwrite the header) so the lockout counts the real client, not the proxy."""
    meta = getattr(request, "META", {})
    if getattr(settings, "SETKA_TRUST_X_FORWARDED_FOR", False):
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:45] or None
    return meta.get("REMOTE_ADDR") or None


def _digest(value: str) -> str:
    return hashlib.sha256((value or "").strip().lower().encode()).hexdigest()[:32]


# --- Redis scripts ---------------------------------------------------------------------------

_NOW_MS = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"

# Fixed-window counter: INCR and (on the first hit) PEXPIRE in one step. -> {count, ttl_ms}
_COUNTER = """
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if n == tonumber(ARGV[2]) or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {n, redis.call('PTTL', KEYS[1])}
"""

# Reserve one unit of a budget: refused (and not counted) once the limit is reached.
# -> {allowed 0/1, ttl_ms}
_RESERVE = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[2]) then return {0, redis.call('PTTL', KEYS[1])} end
n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {1, 0}
"""

# Sliding window log (DRF throttle semantics, atomic). ARGV: window_ms, limit, member.
# -> {allowed 0/1, wait_ms}
_SLIDING = (
    _NOW_MS
    + """
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. now)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(1, window - (now - tonumber(oldest[2])))}
"""
)

# A set with a maximum size (distinct phone numbers per account). ARGV: window_ms, limit, member.
# -> {allowed 0/1, ttl_ms}
_DISTINCT = """
if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 1 then return {1, 0} end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {0, redis.call('PTTL', KEYS[1])} end
redis.call('SADD', KEYS[1], ARGV[3])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {1, 0}
"""

# The login gate. KEYS: pair hash (account+IP), IP hash, bypass flag (owner unlocked this IP).
# ARGV: pair_max, ip_max, base_ms, cap_ms, ip_lock_ms, pair_window_ms.
# Refused while either lock runs (pair, or IP unless bypassed). Otherwise the attempt is
# counted now; from the pair_max-th attempt on, each attempt arms the next lock, doubling
# (base, 2*base, 4*base... up to cap). -> {allowed 0/1, wait_ms}
_LOGIN_GATE = (
    _NOW_MS
    + """
local function wait(key)
  local u = tonumber(redis.call('HGET', KEYS[key], 'until') or '0')
  if u > now then return u - now end
  return 0
end
local bypass = redis.call('EXISTS', KEYS[3]) == 1
local w = wait(1)
if not bypass then w = math.max(w, wait(2)) end
if w > 0 then return {0, w} end
local f = redis.call('HINCRBY', KEYS[1], 'f', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if f >= tonumber(ARGV[1]) then
  local d = math.min(tonumber(ARGV[3]) * 2 ^ (f - tonumber(ARGV[1])), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'until', math.floor(now + d))
end
if not bypass then
  local g = redis.call('HINCRBY', KEYS[2], 'f', 1)
  if g == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
  if g >= tonumber(ARGV[2]) then
    redis.call('HSET', KEYS[2], 'until', now + tonumber(ARGV[5]), 'f', 0)
    redis.call('PEXPIRE', KEYS[2], ARGV[5])
  end
end
return {1, 0}
"""
)

# Seconds left on the locks. KEYS: pair, IP, bypass (which lifts the IP lock only). -> wait_ms
_LOCK_LEFT = (
    _NOW_MS
    + """
local w = 0
local keys = {KEYS[1]}
if redis.call('EXISTS', KEYS[3]) == 0 then keys[2] = KEYS[2] end
for _, key in ipairs(keys) do
  local u = tonumber(redis.call('HGET', key, 'until') or '0')
  if u > now then w = math.max(w, u - now) end
end
return w
"""
)

# Give back a reserved unit (never below zero).
_REFUND = """
local n = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
if n > 0 then redis.call('HINCRBY', KEYS[1], 'f', -1) end
return 0
"""


def _client():
    return cache._cache.get_client(None, write=True)  # the django-redis-cache's redis.Redis


def _run(script: str, keys: list[str], args: list) -> list:
    client = _client()
    return client.eval(script, len(keys), *(cache.make_key(k) for k in keys), *args)


def _seconds(ms) -> int:
    return max(1, math.ceil(int(ms) / 1000)) if ms and int(ms) > 0 else 0


# --- generic budgets -------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds; 0 when allowed


def counter_hit(*, key: str, limit: int, window: int) -> Decision:
    """Count one event in a fixed window of `window` seconds; refused beyond `limit`."""
    count, ttl = _run(_COUNTER, [key], [window * 1000, 1])
    return Decision(allowed=int(count) <= limit, retry_after=0 if int(count) <= limit else _seconds(ttl))


def budget_reserve(*, kind: str, subject: str, limit: int, window: int) -> Decision:
    """Take one attempt from a budget of `limit` per `window` seconds (refused attempts are not
    counted). Call budget_reset() when the attempt succeeded."""
    allowed, ttl = _run(_RESERVE, [f"acc:budget:{kind}:{_digest(subject)}"], [window * 1000, limit])
    return Decision(allowed=bool(int(allowed)), retry_after=_seconds(ttl))


def budget_reset(*, kind: str, subject: str) -> None:
    cache.delete(f"acc:budget:{kind}:{_digest(subject)}")


def distinct_add(*, key: str, member: str, limit: int, window: int) -> Decision:
    """Add `member` to a set of at most `limit` distinct members per `window` seconds."""
    allowed, ttl = _run(_DISTINCT, [key], [window * 1000, limit, _digest(member)])
    return Decision(allowed=bool(int(allowed)), retry_after=_seconds(ttl))


def sliding_window_hit(*, key: str, limit: int, window: float) -> Decision:
    """One request in a sliding window (exactly `limit` per `window` seconds, atomically)."""
    allowed, wait = _run(_SLIDING, [key], [max(1, int(window * 1000)), limit, secrets.token_hex(6)])
    return Decision(allowed=bool(int(allowed)), retry_after=_seconds(wait))


# --- login lockout ---------------------------------------------------------------------------


def _login_keys(email: str, ip: str | None) -> list[str]:
    e, i = _digest(email), _digest(ip or "unknown")
    return [f"acc:login:pair:{e}:{i}", f"acc:login:ip:{i}", f"acc:login:bypass:{e}:{i}"]


def login_attempt_begin(*, email: str, ip: str | None) -> int:
    """Reserve a login attempt for (email, IP). Returns 0 when the password may be checked,
    else the seconds to wait (the attempt is not counted then)."""
    allowed, wait = _run(
        _LOGIN_GATE,
        _login_keys(email, ip),
        [
            settings.SETKA_LOGIN_MAX_FAILURES,
            getattr(settings, "SETKA_LOGIN_MAX_FAILURES_PER_IP", settings.SETKA_LOGIN_MAX_FAILURES * 4),
            getattr(settings, "SETKA_LOGIN_LOCKOUT_BASE_SECONDS", 60) * 1000,
            getattr(settings, "SETKA_LOGIN_LOCKOUT_MAX_SECONDS", 3600) * 1000,
            settings.SETKA_LOGIN_LOCKOUT_SECONDS * 1000,
            getattr(settings, "SETKA_LOGIN_FAILURE_WINDOW_SECONDS", 86400) * 1000,
        ],
    )
    return 0 if int(allowed) else _seconds(wait)


def login_lockout_remaining(*, email: str, ip: str | None) -> int:
    """Seconds until (email, IP) may try again; 0 when not locked."""
    return _seconds(_run(_LOCK_LEFT, _login_keys(email, ip), []))


def login_attempt_failed(*, email: str, ip: str | None) -> int:
    """The reserved attempt was wrong. Returns the lock (seconds) that now applies, 0 if none."""
    return login_lockout_remaining(email=email, ip=ip)


def login_attempt_succeeded(*, email: str, ip: str | None) -> None:
    """Right password: the pair starts afresh and the IP gets its attempt back."""
    pair, ip_key, _bypass = _login_keys(email, ip)
    cache.delete(pair)
    _run(_REFUND, [ip_key], [])


def login_pair_locked_now(*, email: str, ip: str | None) -> bool:
    """True when the (email, IP) pair itself (not only the IP) is locked."""
    return bool(_run(_LOCK_LEFT, [_login_keys(email, ip)[0], "acc:login:none", "acc:login:none"], []))


def login_unlock(*, email: str, ip: str | None) -> None:
    """The owner proved the mailbox (unlock link): this IP may try this account again at once,
    even if the IP is locked for spraying other accounts."""
    pair, _ip_key, bypass = _login_keys(email, ip)
    cache.delete(pair)
    cache.set(bypass, 1, timeout=max(settings.SETKA_LOGIN_LOCKOUT_SECONDS, 3600))


# --- sending codes ---------------------------------------------------------------------------


def send_allowed(*, kind: str, target: str) -> bool:
    """At most settings.SETKA_CODE_SENDS_PER_HOUR codes of one kind to one address per hour
    (an SMS costs money and a mailbox must not be flooded)."""
    limit = getattr(settings, "SETKA_CODE_SENDS_PER_HOUR", 5)
    return counter_hit(key=f"acc:send:{kind}:{_digest(target)}", limit=limit, window=3600).allowed


def attempt_reserve(*, kind: str, subject: str, limit: int, window: int) -> Decision:
    """A generic failure budget (e.g. wrong access codes per user): see budget_reserve."""
    return budget_reserve(kind=kind, subject=subject, limit=limit, window=window)


# --- DRF throttles ---------------------------------------------------------------------------


class AtomicThrottleMixin:
    """A SimpleRateThrottle whose check-and-count is one Redis script (DRF's own reads the
    history, decides, then writes it back: concurrent requests all read the same history)."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        decision = sliding_window_hit(key=self.key, limit=self.num_requests, window=self.duration)
        self._retry_after = decision.retry_after
        return decision.allowed

    def wait(self):
        return getattr(self, "_retry_after", None) or None


class AnonRateThrottle(AtomicThrottleMixin, drf_throttling.AnonRateThrottle):
    pass


class UserRateThrottle(AtomicThrottleMixin, drf_throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(AtomicThrottleMixin, drf_throttling.ScopedRateThrottle):
    """The rate comes from the view's `throttle_scope` (read per request, as DRF does)."""

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class AuthAnonThrottle(AtomicThrottleMixin, drf_throttling.SimpleRateThrottle):
    """Per-IP rate for the anonymous auth endpoints (signup, codes, password reset)."""

    scope = "setka_auth"

    def get_rate(self):
        return getattr(settings, "SETKA_THROTTLE_AUTH", "30/min")

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginThrottle(AuthAnonThrottle):
    """Per-IP rate of login attempts (on top of the lockout)."""

    scope = "setka_login"

    def get_rate(self):
        return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get("login", "20/min")


class SessionThrottle(AuthAnonThrottle):
    """Per-IP rate of the cheap session endpoints every page calls (csrf, session, refresh,
    logout): generous, but not unlimited."""

    scope = "setka_session"

    def get_rate(self):
        return getattr(settings, "SETKA_THROTTLE_SESSION", "300/min")
