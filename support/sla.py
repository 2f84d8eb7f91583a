"""SLA by plan: how soon staff must first answer and resolve a ticket (hours). Paying users
are answered sooner; an unknown plan gets the free plan's times."""

from __future__ import annotations

from datetime import timedelta

SLA_HOURS: dict[str, tuple[int, int]] = {
    "free": (24, 120),
    "start": (8, 48),
    "profit": (8, 48),
    "pro": (2, 24),
}


def sla_for(plan_code: str) -> tuple[timedelta, timedelta]:
    first, resolve = SLA_HOURS.get(plan_code, SLA_HOURS["free"])
    return timedelta(hours=first), timedelta(hours=resolve)
