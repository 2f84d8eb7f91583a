"""Throttles and attempt limits are atomic (issue 9, item 6): N concurrent requests against a
limit of L let exactly L through (one Redis script per decision), where DRF's own
read-decide-write throttle let 20-33 % more through."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from accounts import services, throttling
from config.errors import DomainError

THREADS = 24


def _race(fn, n=THREADS):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = fn(i)
        except DomainError as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in results)
    return results


def test_sliding_window_lets_exactly_the_limit_through():
    results = _race(lambda i: throttling.sliding_window_hit(key="race:window", limit=7, window=60))
    assert sum(r.allowed for r in results) == 7
    assert all(r.retry_after > 0 for r in results if not r.allowed)


def test_budgets_counters_and_distinct_sets_are_exact():
    budget = _race(lambda i: throttling.budget_reserve(kind="race", subject="s", limit=5, window=60))
    assert sum(r.allowed for r in budget) == 5
    counter = _race(lambda i: throttling.counter_hit(key="race:counter", limit=9, window=60))
    assert sum(r.allowed for r in counter) == 9
    distinct = _race(lambda i: throttling.distinct_add(key="race:set", member=f"+7999{i:07d}", limit=3, window=60))
    assert sum(r.allowed for r in distinct) == 3


def test_login_gate_lets_exactly_the_limit_reach_the_password_check(settings):
    settings.SETKA_LOGIN_MAX_FAILURES = 4
    settings.SETKA_LOGIN_MAX_FAILURES_PER_IP = 1000
    waits = _race(lambda i: throttling.login_attempt_begin(email="victim@example.com", ip="203.0.113.9"))
    assert waits.count(0) == 4
    assert all(w > 0 for w in waits if w)


@pytest.mark.django_db
def test_password_change_guesses_in_parallel_are_capped(settings):
    from tests.factories import UserFactory

    settings.SETKA_PASSWORD_CHANGE_MAX_FAILURES = 5
    user = UserFactory()
    results = _race(
        lambda i: services.password_change(user=user, current_password=f"guess-{i}-xxxx", password="Whatever-long-99")
    )
    codes = sorted(r.code for r in results)
    assert codes.count("wrong_password") == 5 and codes.count("too_many_attempts") == THREADS - 5


@pytest.mark.django_db(transaction=True)
def test_an_api_throttle_under_concurrent_requests(settings):
    settings.SETKA_THROTTLE_AUTH = "6/min"

    def post(i):
        client = Client(enforce_csrf_checks=False)
        client.get("/api/auth/csrf/")
        token = client.cookies["csrftoken"].value
        response = client.post(
            "/api/auth/password/reset/",
            {"email": f"nobody{i}@example.com"},
            content_type="application/json",
            HTTP_X_CSRFTOKEN=token,
        )
        return response.status_code

    statuses = _race(post)
    assert statuses.count(200) == 6 and statuses.count(429) == THREADS - 6
