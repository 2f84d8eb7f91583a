"""Readiness checks: each backing service the product needs, with a short timeout, so a load
balancer or an operator learns in about a second what is missing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
import requests
from celery import current_app
from django.conf import settings
from django.db import connection

TIMEOUT_SECONDS = 1.5


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    ms: float
    error: str = ""


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def _broker() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)


def _simulator() -> None:
    response = requests.get(f"{settings.SETKA_SIMULATOR_URL.rstrip('/')}/v5/market/time", timeout=TIMEOUT_SECONDS)
    response.raise_for_status()


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "redis": _redis,
    "broker": _broker,
    "simulator": _simulator,
}


def run_checks() -> list[CheckResult]:
    results = []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure means "not ready"; the type and text say why
            ms = (time.perf_counter() - started) * 1000
            results.append(CheckResult(name, False, round(ms, 1), f"{type(exc).__name__}: {str(exc)[:200]}"))
        else:
            results.append(CheckResult(name, True, round((time.perf_counter() - started) * 1000, 1)))
    return results
