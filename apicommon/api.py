"""Pieces shared by the bots, trading and metrics APIs: money fields, throttles, the base view."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rest_framework import serializers
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

# Atomic versions of DRF's throttles (one Redis script per decision: exact under concurrency).
from accounts.throttling import AnonRateThrottle, AtomicThrottleMixin, ScopedRateThrottle, UserRateThrottle


def plain_decimal(value) -> str:
    """Decimal -> "1234.5" (no exponent, no trailing zeros)."""
    value = Decimal(value)
    return format(value.normalize(), "f") if value else "0"


class Money(serializers.DecimalField):
    """A Decimal rendered as a plain string without trailing zeros ("1234.5", never 1.2345E+3)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 38)
        kwargs.setdefault("decimal_places", 18)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        return plain_decimal(value)


# Used when settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] has no entry for the scope.
FALLBACK_RATES = {"ip": "3000/min", "export": "10/min", "preview": "30/min"}


class _FallbackRateMixin:
    def get_rate(self):
        rate = self.THROTTLE_RATES.get(self.scope)
        return rate if rate is not None else FALLBACK_RATES.get(self.scope)


class IPRateThrottle(_FallbackRateMixin, AtomicThrottleMixin, SimpleRateThrottle):
    """Per client IP, signed in or not (a user with many accounts is still one IP)."""

    scope = "ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserScopedRateThrottle(_FallbackRateMixin, ScopedRateThrottle):
    """Expensive endpoints (CSV export, preview): `throttle_scope` on the view, per user."""


DEFAULT_THROTTLES = [AnonRateThrottle, UserRateThrottle, IPRateThrottle, UserScopedRateThrottle]


class ApiMixin:
    """Base of every view here: cookie auth answers 401 (not 403) to anonymous requests,
    throttles per user, per IP and per scope."""

    throttle_classes: Sequence[type[BaseThrottle]] = DEFAULT_THROTTLES

    def get_authenticate_header(self, request):
        header = super().get_authenticate_header(request)
        return header or 'Cookie realm="api"'
