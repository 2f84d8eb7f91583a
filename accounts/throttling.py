"""Brakes on guessing: login lockout per email and per IP, limits on sending codes, and DRF
throttles for the anonymous auth endpoints. Counters live in the Django cache (Redis), so every
web process sees the same numbers."""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle


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
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


# --- login lockout ---------------------------------------------------------------------------


def _limits() -> dict[str, int]:
    per_email = settings.SETKA_LOGIN_MAX_FAILURES
    per_ip = getattr(settings, "SETKA_LOGIN_MAX_FAILURES_PER_IP", per_email * 4)
    return {"email": per_email, "ip": per_ip}


def _subjects(email: str, ip: str | None) -> list[tuple[str, str]]:
    subjects = [("email", _digest(email or ""))]
    if ip:
        subjects.append(("ip", _digest(ip)))
    return subjects


def login_lockout_remaining(*, email: str, ip: str | None) -> int:
    """Seconds until this email (or this IP) may try to log in again; 0 when not locked."""
    now = time.time()
    remaining = 0.0
    for kind, digest in _subjects(email, ip):
        until = cache.get(f"acc:login:lock:{kind}:{digest}")
        if until:
            remaining = max(remaining, float(until) - now)
    return max(0, math.ceil(remaining))


def login_failure_record(*, email: str, ip: str | None) -> int:
    """Count a failed login; locks the email/IP once its limit is reached. Returns the lockout
    in seconds that now applies (0 when the limit is not reached yet)."""
    lockout = settings.SETKA_LOGIN_LOCKOUT_SECONDS
    limits = _limits()
    for kind, digest in _subjects(email, ip):
        counter = f"acc:login:fail:{kind}:{digest}"
        cache.add(counter, 0, timeout=lockout)
        try:
            failures = cache.incr(counter)
        except ValueError:  # expired between add and incr
            cache.set(counter, 1, timeout=lockout)
            failures = 1
        if failures >= limits[kind]:
            cache.set(f"acc:login:lock:{kind}:{digest}", time.time() + lockout, timeout=lockout)
            cache.delete(counter)
    return login_lockout_remaining(email=email, ip=ip)


def login_success_record(*, email: str) -> None:
    cache.delete(f"acc:login:fail:email:{_digest(email)}")


# --- sending codes ---------------------------------------------------------------------------


def send_allowed(*, kind: str, target: str) -> bool:
    """At most settings.SETKA_CODE_SENDS_PER_HOUR codes of one kind to one address per hour
    (an SMS costs money and a mailbox must not be flooded)."""
    limit = getattr(settings, "SETKA_CODE_SENDS_PER_HOUR", 5)
    key = f"acc:send:{kind}:{_digest(target)}"
    cache.add(key, 0, timeout=3600)
    try:
        sent = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)
        sent = 1
    return sent <= limit


def attempt_allowed(*, kind: str, subject: str, limit: int) -> bool:
    """A generic failure budget (e.g. wrong access codes per user)."""
    key = f"acc:attempt:{kind}:{_digest(subject)}"
    count = cache.get(key) or 0
    return count < limit


def attempt_failed(*, kind: str, subject: str, window: int) -> None:
    key = f"acc:attempt:{kind}:{_digest(subject)}"
    cache.add(key, 0, timeout=window)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)


# --- DRF throttles ---------------------------------------------------------------------------


class AuthAnonThrottle(SimpleRateThrottle):
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
