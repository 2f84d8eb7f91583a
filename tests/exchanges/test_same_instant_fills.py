"""A batch of counter orders that fill on arrival, on the OKX twin through the real adapter: the
items execute in one request, in one millisecond, a sell and a buy of a linear long. The venue
closes the sell against the entry it had before the buy (its own position follows its trade
ids); the bot's grid profit must be the same figure, and so must the test ledger's fold.

This is what made tests/exchanges/test_e2e_venues.py's OKX linear bot differ from the twin by a
few cents when counter orders were batched: the bot was right, the test's fold ordered the
executions of one millisecond by the twin's random execId."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.engine.ids import grid_order_id
from exchanges.client import Category, OrderType, PlaceOrder, Side
from tests.bots.ledger import bot_executions, metrics_cycles
from tests.exchanges.conftest import make_venue_client
from tests.factories import BotFactory, ExchangeAccountFactory, OrderFactory, grid_config
from trading.services import fills_store

pytestmark = pytest.mark.django_db


def _order(bot, level, side, seq, qty, price):
    cid = grid_order_id(bot.pk, bot.generation, level, side, seq)
    return OrderFactory(bot=bot, client_order_id=cid, side=side.value, level=level, qty=D(qty), price=D(price))


def _place(order) -> PlaceOrder:
    return PlaceOrder(
        category=Category.LINEAR,
        symbol="BTCUSDT",
        side=Side(order.side),
        order_type=OrderType.LIMIT,
        qty=order.qty,
        price=order.price,
        client_order_id=order.client_order_id,
    )


def test_a_batch_filled_in_one_instant_books_what_the_venue_realized(venue_simulators):
    from exchanges.models import Exchange, ExchangeAccount

    twin = venue_simulators["okx"]
    twin.control.clear_faults()
    twin.control.set_price("BTCUSDT", "50000")
    acc = twin.control.create_account(funding={"USDT": "10000"})
    twin.control.set_fees(acc.uid, linear_maker="0", linear_taker="0")
    client = make_venue_client(twin, acc)
    account = ExchangeAccountFactory(
        exchange=Exchange.objects.get(code="okx"), environment=ExchangeAccount.Environment.PAPER
    )
    config = grid_config(
        lower_price="45000", upper_price="55000", grid_count=10, strategy="linear_grid", direction="long", leverage="3"
    )
    bot = BotFactory(
        user=account.user, exchange_account=account, category="linear", investment=D("1000"), config=config
    )
    opening = _order(bot, 1, Side.BUY, 0, "0.002", "50100")  # taker at 50,000
    sell = _order(bot, 2, Side.SELL, 1, "0.001", "48000")  # both cross the market on arrival:
    buy = _order(bot, 1, Side.BUY, 2, "0.001", "50000")  # taker fills at 49,000
    assert client.place_orders([_place(opening)])[0].placed is not None
    twin.control.set_price("BTCUSDT", "49000")
    engine = twin.sim.engine
    clock = engine.clock
    instant = clock()
    engine.clock = lambda: instant  # the twin executes the whole batch in one millisecond
    try:
        results = client.place_orders([_place(sell), _place(buy)])
    finally:
        engine.clock = clock
    assert all(r.placed is not None for r in results), results

    fills = client.fills(category=Category.LINEAR, symbol="BTCUSDT").fills
    assert all(f.seq is not None for f in fills)  # OKX's trade id, the venue's execution order
    fills_store(bot=bot, fills=fills)

    ledger = twin.control.ledger(acc.uid)
    executions = bot_executions(ledger, bot)
    assert [e["orderLinkId"] for e in executions] == [
        opening.client_order_id,
        sell.client_order_id,
        buy.client_order_id,
    ]
    assert executions[1]["execTime"] == executions[2]["execTime"]
    venue_realized = sum(D(e["execPnl"]) for e in executions)  # the twin's own position accounting
    assert venue_realized == D("-1")  # 0.001 closed at 49,000 against the 50,000 entry
    bot.metrics.refresh_from_db()
    assert (bot.metrics.cycle_count, bot.metrics.grid_profit) == (1, venue_realized)
    assert metrics_cycles(ledger, bot) == (1, venue_realized)
    flat = PlaceOrder(  # leave the shared market as it was: no position, no resting order
        category=Category.LINEAR,
        symbol="BTCUSDT",
        side=Side.SELL,
        order_type=OrderType.MARKET,
        qty=D("0.002"),
        client_order_id="sifflat",
        reduce_only=True,
    )
    assert client.place_orders([flat])[0].placed is not None
