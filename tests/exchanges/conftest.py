"""Fixtures of the exchange tests: one simulator on a free loopback port per test session (each
test uses its own simulator account, so state never leaks between tests), and adapter clients."""

from __future__ import annotations

import os

import pytest

from exchanges.adapters.bybit import BybitClient
from exchanges.client import Category
from exchanges.ratelimit import LocalWindowStore, RateLimiter
from exchanges.simulator.testing import running_simulator

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

CONTROL_TOKEN = "exch-test-control-token"


@pytest.fixture(scope="session")
def simulator(tmp_path_factory):
    state = tmp_path_factory.mktemp("exch-sim") / "state.sqlite3"
    with running_simulator(state_path=str(state), control_token=CONTROL_TOKEN) as handle:
        yield handle


@pytest.fixture
def sim_account(simulator):
    simulator.control.clear_faults()
    account = simulator.control.create_account(funding={"USDT": "10000", "BTC": "1"})
    yield account
    simulator.control.clear_faults()
    # the market is shared by every account: leave no resting order that would take the next
    # test's fills
    client = make_client(simulator, account)
    for category in (Category.SPOT, Category.LINEAR):
        client.cancel_all(category=category, symbol="BTCUSDT")


def make_client(simulator, account, *, api_secret=None, timeout=1.0, limits=None, **kwargs) -> BybitClient:
    limiter = RateLimiter(account_key=f"sim:{account.uid}", store=LocalWindowStore(), limits=limits)
    kwargs.setdefault("backoff_base", 0.05)
    kwargs.setdefault("backoff_max", 1.0)
    return BybitClient(
        api_key=account.api_key,
        api_secret=api_secret or account.api_secret,
        base_url=simulator.base_url,
        timeout=timeout,
        limiter=limiter,
        **kwargs,
    )


@pytest.fixture
def bybit(simulator, sim_account) -> BybitClient:
    return make_client(simulator, sim_account)


@pytest.fixture
def paper_settings(settings, simulator):
    """Point the product's settings at the test simulator (paper accounts, factory)."""
    settings.SETKA_SIMULATOR_URL = simulator.base_url
    settings.SETKA_SIMULATOR_CONTROL_TOKEN = CONTROL_TOKEN
    settings.SETKA_EXCHANGE_TIMEOUT = 2.0
    return settings


# --- the other venues' twins (one simulator per venue per test session) ----------------------
_VENUE_SIMS: dict = {}


@pytest.fixture(scope="session")
def venue_simulators(tmp_path_factory):
    """venue code -> a running simulator speaking that venue's dialect (started on first use)."""
    import contextlib

    stack = contextlib.ExitStack()

    class Lazy(dict):
        def __missing__(self, venue):
            state = tmp_path_factory.mktemp(f"sim-{venue}") / "state.sqlite3"
            handle = stack.enter_context(
                running_simulator(state_path=str(state), control_token=CONTROL_TOKEN, venue=venue)
            )
            self[venue] = handle
            return handle

    with stack:
        yield Lazy()


def make_venue_client(simulator, account, *, timeout=1.0, **kwargs):
    from exchanges.adapters.ccxt_adapter import CcxtClient

    kwargs.setdefault("backoff_base", 0.05)
    kwargs.setdefault("backoff_max", 1.0)
    limiter = RateLimiter(
        account_key=f"sim:{simulator.venue}:{account.uid}", store=LocalWindowStore(), limits=kwargs.pop("limits", None)
    )
    return CcxtClient(
        venue_code=simulator.venue,
        api_key=account.api_key,
        api_secret=kwargs.pop("api_secret", None) or account.api_secret,
        passphrase=kwargs.pop("passphrase", None) or account.passphrase,
        base_url=simulator.base_url,
        timeout=timeout,
        limiter=limiter,
        **kwargs,
    )
