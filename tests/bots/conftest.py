"""Fixtures: the simulator in-process, a paper account whose keys come from its control API,
and helpers to look at the exchange's side of the books."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from exchanges.models import ExchangeAccount


@pytest.fixture(scope="module")
def sim():
    from exchanges.simulator.testing import running_simulator

    with running_simulator(replay=["BTCUSDT"]) as handle:
        yield handle


@pytest.fixture
def sim_settings(settings, sim):
    settings.SETKA_SIMULATOR_URL = sim.base_url
    settings.SETKA_SIMULATOR_WS_URL = sim.ws_url
    return settings


@pytest.fixture
def paper(db, sim, sim_settings):
    """(ExchangeAccount, simulator account) funded with 10,000 USDT."""
    from tests.factories import ExchangeAccountFactory

    sim.control.clear_faults()
    sim.control.set_price("BTCUSDT", "55000")
    acc = sim.control.create_account(funding={"USDT": "10000"})
    account = ExchangeAccountFactory(
        environment=ExchangeAccount.Environment.PAPER, api_key=acc.api_key, api_secret=acc.api_secret
    )
    return account, acc


def ledger_open_ids(sim, uid: int) -> list[str]:
    return sorted(o["orderLinkId"] for o in sim.control.ledger(uid)["open_orders"])


def ledger_executions(sim, uid: int) -> list[dict]:
    return sim.control.ledger(uid)["executions"]


def assert_books_match_exchange(bot, sim, uid: int) -> None:
    """Zero duplicate orders on the exchange, zero lost or doubled fills, the same open orders."""
    from trading.models import Order, Trade

    ledger = sim.control.ledger(uid)
    executions = [e for e in ledger["executions"] if e["execType"] != "Funding"]  # settlements: no order
    ours = {t.exec_id: (t.qty, t.price) for t in Trade.objects.filter(bot=bot)}
    theirs = {e["execId"]: (Decimal(e["execQty"]), Decimal(e["execPrice"])) for e in executions}
    assert ours == theirs
    open_ids = [o["orderLinkId"] for o in ledger["open_orders"]]
    assert [cid for cid, n in Counter(open_ids).items() if n > 1] == []
    # One exchange order per client order id, ever: count the distinct orderIds behind each link id.
    by_link: dict[str, set] = {}
    for e in executions:
        by_link.setdefault(e["orderLinkId"], set()).add(e["orderId"])
    assert {k: v for k, v in by_link.items() if len(v) > 1} == {}
    rows = set(
        Order.objects.filter(bot=bot, status__in=["open", "partially_filled"]).values_list("client_order_id", flat=True)
    )
    assert rows == set(open_ids)


def launched(account, **config):
    """A spot grid bot of `account` started and launched by its first tick: running, its ladder on
    the exchange (grid_config's defaults, with `config` over them)."""
    from bots.models import Bot
    from bots.services import bot_start, bot_tick
    from tests.factories import BotFactory, grid_config

    bot = BotFactory(user=account.user, exchange_account=account, config=grid_config(**config))
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, (bot.last_error, list(bot.events.values_list("message", flat=True)))
    return bot
