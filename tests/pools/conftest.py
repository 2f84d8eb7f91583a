"""Pools fixtures: the simulator in-process, paper accounts funded on it for any user, and
recorders for what would be queued on Celery (the tests drive ticks and follow passes)."""

from __future__ import annotations

import pytest

from exchanges.models import ExchangeAccount
from tests.billing.conftest import (  # noqa: F401 - the payout tests' fixtures (fake Crypto Pay, webhook)
    _cryptopay_server,
    cryptopay,
    hook,
    payouts_sent_inline,
)


@pytest.fixture(scope="module")
def sim():
    from exchanges.simulator.testing import running_simulator

    with running_simulator(replay=["BTCUSDT"]) as handle:
        yield handle


@pytest.fixture
def sim_settings(settings, sim):
    settings.SETKA_SIMULATOR_URL = sim.base_url
    settings.SETKA_SIMULATOR_WS_URL = sim.ws_url
    sim.control.clear_faults()
    sim.control.set_price("BTCUSDT", "55000")
    return settings


@pytest.fixture
def paper_account(db, sim, sim_settings):
    """paper_account(user, usdt="10000") -> (ExchangeAccount, simulator account)."""
    from tests.factories import ExchangeAccountFactory

    def make(user, usdt: str = "10000"):
        acc = sim.control.create_account(funding={"USDT": usdt})
        account = ExchangeAccountFactory(
            user=user, environment=ExchangeAccount.Environment.PAPER, api_key=acc.api_key, api_secret=acc.api_secret
        )
        return account, acc

    return make


@pytest.fixture
def queued(monkeypatch):
    """What would go to Celery: {"follow": [pool ids], "ticks": [bot ids]} (nothing is sent)."""
    import bots.tasks
    import notifications.services
    import pools.tasks

    seen: dict[str, list] = {"follow": [], "ticks": []}
    monkeypatch.setattr(pools.tasks.pool_follow_task, "delay", lambda pool_id: seen["follow"].append(pool_id))
    monkeypatch.setattr(bots.tasks, "tick_enqueue", lambda bot_id, **kw: seen["ticks"].append(bot_id))
    monkeypatch.setattr(bots.tasks.bot_stop_notify_task, "delay", lambda *a, **kw: None)
    monkeypatch.setattr(bots.tasks.bot_event_notify_task, "delay", lambda *a, **kw: None)
    monkeypatch.setattr(notifications.services, "_enqueue", lambda delivery_id: None)
    return seen


def make_investor(**kwargs):
    """A user on the Start plan (the free plan joins no pool)."""
    from billing.models import Plan
    from billing.services import subscription_comp
    from tests.factories import UserFactory

    user = UserFactory(**kwargs)
    subscription_comp(user=user, plan=Plan.objects.get(code="start"), days=30, note="pools test")
    return user


def make_manager(user=None):
    """`user` (a new one by default) as an approved pool manager, approved by an operator."""
    from pools.models import PoolManager
    from pools.services import manager_apply, manager_approve
    from tests.factories import UserFactory

    user = user or UserFactory()
    if not PoolManager.objects.filter(user=user, status=PoolManager.Status.APPROVED).exists():
        application = manager_apply(user=user, experience="Three years of grid trading on Bybit spot.")
        manager_approve(application=application, by=UserFactory(is_staff=True))
    return user
