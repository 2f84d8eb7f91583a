"""Launching a grid places its ladder in batches: N limit orders cost ceil(N / batch) requests
on a venue with a batch endpoint (Bybit's create-batch 10 for spot and 20 for linear, OKX 20 per
batch-orders), each
order still written PENDING with its deterministic id before it is sent, and one refused order
does not keep the others from the exchange."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from bots.models import Bot
from bots.services import bot_start, bot_tick
from exchanges.venues import venue
from tests.bots.conftest import ledger_open_ids
from tests.factories import BotFactory, grid_config
from trading.models import Order

pytestmark = pytest.mark.django_db
GRID = 25


@pytest.fixture(scope="module")
def okx_sim():
    from exchanges.simulator.testing import running_simulator

    with running_simulator(venue="okx", control_token="batch-launch-token") as handle:
        yield handle


def _requests(sim) -> list[dict]:
    return list(sim.sim.dialect.received if sim.sim.dialect is not None else sim.sim.received)


def _launch(account, sim, paths):
    bot = BotFactory(user=account.user, exchange_account=account, config=grid_config(grid_count=GRID))
    bot_start(bot=bot)
    before = len(_requests(sim))
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, (bot.last_error, list(bot.events.values_list("message", flat=True)))
    sent = [r["path"] for r in _requests(sim)[before:] if r["path"] in paths]
    return bot, sent


def test_bybit_launch_sends_the_ladder_in_batches_of_ten(paper, sim):
    account, acc = paper
    bot, sent = _launch(account, sim, {"/v5/order/create", "/v5/order/create-batch"})
    grid = Order.objects.filter(bot=bot, purpose="grid")
    assert grid.count() == GRID and all(o.status == "open" for o in grid)
    assert venue("bybit").batch_size("spot") == 10
    assert sent == ["/v5/order/create"] + ["/v5/order/create-batch"] * math.ceil(GRID / 10)
    open_links = sorted(o["orderLinkId"] for o in sim.control.ledger(acc.uid)["open_orders"])
    assert open_links == sorted(grid.values_list("client_order_id", flat=True))


def test_bybit_linear_launch_keeps_batches_within_the_per_order_quota(paper, sim):
    """Bybit's create-batch would take 20 linear orders, but each item costs one unit of the
    linear quota (10 a second on a default account; the twin counts as Bybit does): the ladder of
    25 goes as 10 + 10 + 5 and every order is open after the launch tick, none refused."""
    account, acc = paper
    bot = BotFactory(
        user=account.user,
        exchange_account=account,
        category=Bot.Category.LINEAR,
        config=grid_config(grid_count=GRID, strategy="linear_grid", direction="neutral", leverage="2"),
    )
    bot_start(bot=bot)
    before = len(_requests(sim))
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, (bot.last_error, list(bot.events.values_list("message", flat=True)))
    grid = Order.objects.filter(bot=bot, purpose="grid")
    assert grid.count() == GRID and all(o.status == "open" for o in grid)
    batches = [r for r in _requests(sim)[before:] if r["path"] == "/v5/order/create-batch"]
    assert venue("bybit").batch_size("linear") == 10
    assert [(r["params"]["category"], len(r["params"]["request"])) for r in batches] == [
        ("linear", 10),
        ("linear", 10),
        ("linear", 5),
    ]
    assert not bot.events.filter(kind="error").exists()
    open_links = sorted(o["orderLinkId"] for o in sim.control.ledger(acc.uid)["open_orders"])
    assert open_links == sorted(grid.values_list("client_order_id", flat=True))


def test_okx_launch_sends_the_ladder_in_batches_of_twenty(db, okx_sim, settings):
    from exchanges.models import Exchange, ExchangeAccount
    from tests.factories import ExchangeAccountFactory

    settings.SETKA_VENUE_SIMULATOR_URLS = {"okx": okx_sim.base_url}
    okx_sim.control.set_price("BTCUSDT", "55000")
    acc = okx_sim.control.create_account(funding={"USDT": "10000"})
    account = ExchangeAccountFactory(
        exchange=Exchange.objects.get(code="okx"),
        environment=ExchangeAccount.Environment.PAPER,
        api_key=acc.api_key,
        api_secret=acc.api_secret,
        api_passphrase=acc.passphrase,
    )
    bot, sent = _launch(account, okx_sim, {"/api/v5/trade/batch-orders", "/api/v5/trade/order"})
    grid = Order.objects.filter(bot=bot, purpose="grid")
    assert grid.count() == GRID and all(o.status == "open" for o in grid)
    # ccxt's OKX client creates single orders through batch-orders too: the initial market
    # order is one request of one item, then the ladder in ceil(25 / 20) = 2 requests
    assert len(sent) == 1 + math.ceil(GRID / venue("okx").batch_create) == 3
    items = [len(r["params"].get("__list__") or [r]) for r in _requests(okx_sim) if r["path"] in set(sent)][-3:]
    assert items == [1, 20, 5]


def test_a_refused_order_in_a_batch_leaves_the_others_placed(paper, sim):
    """One order of a batch that the exchange refuses is rejected with its event; the rest of the
    batch is open on the exchange; the refusal is still raised once all are recorded."""
    from bots.models import BotEvent
    from exchanges.factory import client_for_account
    from tests.factories import OrderFactory
    from trading.services import OrderPlacementFailed, orders_send_pending

    account, acc = paper
    bot = BotFactory(user=account.user, exchange_account=account, status=Bot.Status.RUNNING)
    rows = [
        OrderFactory(bot=bot, client_order_id=f"rfz{i}", status="pending", price=Decimal(str(50000 + i)), qty=qty)
        for i, qty in enumerate([Decimal("0.01"), Decimal("5"), Decimal("0.01")])  # 250,000 USDT: refused
    ]
    with pytest.raises(OrderPlacementFailed):
        orders_send_pending(bot=bot, client=client_for_account(account), batch=True)
    status = {o.client_order_id: o.status for o in Order.objects.filter(pk__in=[r.pk for r in rows])}
    assert status == {"rfz0": "open", "rfz1": "rejected", "rfz2": "open"}
    open_links = sorted(o["orderLinkId"] for o in sim.control.ledger(acc.uid)["open_orders"])
    assert open_links == ["rfz0", "rfz2"]
    refused = BotEvent.objects.filter(bot=bot, kind=BotEvent.Kind.ERROR)
    assert [e.data["client_order_id"] for e in refused] == ["rfz1"]


def test_a_running_grids_counter_orders_go_in_one_batch(paper, sim):
    """Several buys filled by one move: the next tick places their counter sells, one line up
    each, in one create-batch request, all open on the exchange."""
    account, acc = paper
    bot, _sent = _launch(account, sim, {"/v5/order/create", "/v5/order/create-batch"})
    sim.control.set_price("BTCUSDT", "52500")  # from 55,000: every buy line above 52,500 fills
    filled = list(Order.objects.filter(bot=bot, purpose="grid", side="Buy", price__gte=Decimal("52500")))
    before = len(_requests(sim))
    bot_tick(bot_id=bot.pk)
    counters = Order.objects.filter(bot=bot, purpose="grid", side="Sell", level__in=[o.level + 1 for o in filled])
    sent = [r for r in _requests(sim)[before:] if r["path"] in ("/v5/order/create", "/v5/order/create-batch")]
    assert len(filled) > 1 and counters.count() == len(filled)
    assert [(r["path"], len(r["params"].get("request") or [r])) for r in sent] == [
        ("/v5/order/create-batch", len(filled))
    ]
    open_links = set(ledger_open_ids(sim, acc.uid))
    assert all(o.status == "open" and o.client_order_id in open_links for o in counters)
