"""Prometheus figures of the runtime, one definition each (web, worker, beat and streams all
write here). With PROMETHEUS_MULTIPROC_DIR set (scripts/run and production set it to a shared
folder) every process writes its samples there and the web's /metrics sums them; without it the
figures live in this process's default registry.

Labels are low-cardinality on purpose: venue and outcome, never a bot or account id (thousands
of bots would mean thousands of series); per-bot detail goes to the JSON logs instead."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

TICK_SECONDS = Histogram(
    "setka_tick_seconds", "Wall time of one bot tick (reconcile, decide, place)", ["outcome"], buckets=_LATENCY_BUCKETS
)
TICK_LAG_SECONDS = Histogram(
    "setka_tick_lag_seconds",
    "Time from a tick being due (enqueued) to it starting; the figure that says whether workers keep up",
    buckets=_LATENCY_BUCKETS,
)
RECONCILE_SECONDS = Histogram(
    "setka_reconcile_seconds",
    "Wall time of reconciling orders and executions with the exchange",
    buckets=_LATENCY_BUCKETS,
)
ACCOUNT_SYNC_SECONDS = Histogram(
    "setka_account_sync_seconds",
    "Wall time of one account pass (one open-orders and one executions read per category)",
    ["venue", "outcome"],
    buckets=_LATENCY_BUCKETS,
)
ACCOUNT_SYNC_BOTS = Counter(
    "setka_account_sync_bots_total",
    "Bots seen by account passes: reconciled without a request of their own, or ticked",
    ["venue", "result"],
)
ORDERS_PLACED = Counter("setka_orders_placed_total", "Orders accepted by an exchange", ["venue"])
ORDERS_CANCELLED = Counter("setka_orders_cancelled_total", "Orders cancelled on an exchange", ["venue"])
EXCHANGE_REQUESTS = Counter(
    "setka_exchange_requests_total", "Requests sent to an exchange, by outcome", ["venue", "outcome"]
)
RATE_BUDGET_REFUSED = Counter(
    "setka_rate_budget_refused_total",
    "Requests refused on our side because the account's budget would not free up in time",
    ["venue"],
)
RATE_BUDGET_WAIT_SECONDS = Histogram(
    "setka_rate_budget_wait_seconds",
    "Time a request waited for the account's rate budget",
    ["venue"],
    buckets=_LATENCY_BUCKETS,
)
STREAM_RECONNECTS = Counter("setka_stream_reconnects_total", "Private exchange streams (re)opened", ["venue"])
STREAMS_OPEN = Gauge("setka_streams_open", "Private exchange streams held open", ["venue"], multiprocess_mode="livesum")


@contextmanager
def timed(histogram: Histogram, **labels: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        (histogram.labels(**labels) if labels else histogram).observe(time.perf_counter() - started)


def exposition() -> bytes:
    """The text exposition of every process's figures (multiprocess) or of this process."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=folder)
        return generate_latest(registry)
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY)
