"""One rate budget per egress IP shared by every process through Redis: two processes with
their own accounts, each alone under its account's limits, together stay under the simulator's
per-IP limit (HTTP 403 past it), and without the shared budget they would not."""

from __future__ import annotations

import multiprocessing
import time
import uuid

import pytest

from exchanges.simulator.testing import running_simulator
from tests.bots import rate_budget_worker

IP_LIMIT = 60  # the simulator's per-IP limit for this test (Bybit's is 600 per 5 s): same shape, less time
PER_PROCESS = 60


@pytest.fixture
def limited_sim():
    """A simulator of its own per test: the previous test's requests are not in its 5-s window."""
    with running_simulator(ip_limit=IP_LIMIT) as handle:
        yield handle


def _run(sim, *, processes: int, ip_limit: int, count: int) -> tuple[list[dict], float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    ip_key = uuid.uuid4().hex[:8]
    workers = []
    for n in range(processes):
        acc = sim.control.create_account(funding={"USDT": "100"})
        kwargs = dict(
            base_url=sim.base_url,
            api_key=acc.api_key,
            api_secret=acc.api_secret,
            account_key=f"acct{n}",
            ip_key=ip_key,
            ip_limit=ip_limit,
            count=count,
            queue=queue,
        )
        workers.append(context.Process(target=rate_budget_worker.run, kwargs=kwargs))
    started = time.monotonic()
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    return results, time.monotonic() - started


def test_two_processes_share_the_ip_budget_and_never_pass_the_limit(limited_sim, db):
    results, elapsed = _run(limited_sim, processes=2, ip_limit=IP_LIMIT, count=PER_PROCESS)
    assert [r["failed"] for r in results] == [0, 0], results
    assert sum(r["sent"] for r in results) == 2 * PER_PROCESS
    # 120 requests at 54 per 5 s (90 % of 60) cannot take less than two full windows
    assert elapsed >= 8.0


def test_without_the_ip_budget_the_same_traffic_is_refused(limited_sim, db):
    results, _elapsed = _run(limited_sim, processes=2, ip_limit=0, count=PER_PROCESS)
    assert sum(r["failed"] for r in results) > 0, results
    assert any("403" in e or "frequent" in e.lower() for r in results for e in r["errors"]), results
