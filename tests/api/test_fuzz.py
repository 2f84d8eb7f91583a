"""Schemathesis over the whole OpenAPI schema (bots, trades, metrics; auth, exchange accounts and
market data), in-process through the WSGI app, signed in as a user who has a trading bot (so
ids hit real rows half the time): no answer is a 5xx, and every 4xx is the contract's JSON
{"detail", "code"}. Exchanges are pointed at a closed loopback port and any connection
elsewhere fails the test: a schema-driven key binding must never reach Bybit's hosts."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.api.conftest import make_trading_bot

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PATH_GROUPS = {
    "bots-trades-metrics": (r"^/api/(bots|trades|dashboard|metrics)", 16),
    "auth-exchanges-market": (r"^/api/(auth|exchange-accounts|market)", 17),
}
EXAMPLES = 12
DEAD = "http://127.0.0.1:9"  # nothing listens there: connection refused at once
LOOPBACK = {"127.0.0.1", "::1", "localhost", "testserver"}


@pytest.fixture
def loopback_only(monkeypatch, settings):
    """Every exchange environment and the simulator point at a closed loopback port; a lookup or
    a connection to any other host raises (and fails the test through the 5xx it causes)."""
    import socket

    settings.SETKA_BYBIT_ENDPOINTS = {env: (DEAD, DEAD.replace("http", "ws")) for env in ("mainnet", "testnet", "demo")}
    settings.SETKA_SIMULATOR_URL = DEAD
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    leaks: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        if str(host) not in LOOPBACK:
            leaks.append(str(host))
            raise OSError(f"test left the machine: lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else "unix"
        if host not in LOOPBACK and host != "unix":
            leaks.append(str(host))
            raise OSError(f"test left the machine: connection to {host}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield leaks
    assert leaks == [], leaks


def _readable(response) -> str | None:
    """Why this answer breaks the contract, or None."""
    if response.status_code >= 500:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 503 and isinstance(body, dict) and body.get("code") == "exchange_unavailable":
            return None  # the honest answer of a dependency that is down (here: on purpose)
        return "5xx"
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            return "not JSON"
        if not (isinstance(body, dict) and body.get("detail") and body.get("code")):
            return "no detail/code"
    return None


@pytest.fixture
def keep_db_connection():
    """The WSGI handler closes the connection after each request; the test transaction needs it
    open (Django's own test client does the same)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("group", PATH_GROUPS)
def test_fuzz_finds_no_server_error(user, fake_exchange, keep_db_connection, loopback_only, group):
    from django.core.wsgi import get_wsgi_application

    from accounts.tokens import ACCESS_COOKIE, access_token_issue

    bot = make_trading_bot(user)
    app = get_wsgi_application()
    path_regex, at_least = PATH_GROUPS[group]
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app).include(path_regex=path_regex)
    cookies = {ACCESS_COOKIE: access_token_issue(user=user), "csrftoken": "b" * 32}
    headers = {"X-CSRFToken": "b" * 32}
    failures: list[str] = []
    calls = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= at_least

    def fuzz(operation, mode):
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            nonlocal calls
            if case.path_parameters and "id" in case.path_parameters and mode is GenerationMode.POSITIVE:
                case.path_parameters["id"] = bot.pk
            response = case.call(headers=headers, cookies=cookies)
            calls += 1
            problem = _readable(response)
            if problem:
                failures.append(f"{problem}: {case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:300]}")

        try:
            run()
        except Unsatisfiable:  # e.g. no invalid input exists for a parameterless GET
            assert mode is GenerationMode.NEGATIVE

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode)
    assert calls > 200
    assert failures == []
