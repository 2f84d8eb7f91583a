"""A fill's tick takes the execution the stream pushed: the streams supervisor (the real one, with
the real Bybit stream on the simulator) hands the execution to the tick, which stores it and
places the counter order without reading the exchange's executions or open orders first (two
requests fewer on the fill -> counter path). Whatever the push cannot settle on its own (a
partial fill, an order of another run, an order whose placement has not come back) is read from
the exchange as before, and a later full read never stores the fill twice."""

from __future__ import annotations

import queue
from dataclasses import replace
from decimal import Decimal

import pytest

from bots.models import Bot
from bots.services import bot_tick
from bots.services import tick as tick_module
from bots.streams import StreamsSupervisor
from bots.tasks import tick_run
from exchanges.client import Category, Fill, Side
from tests.bots.conftest import assert_books_match_exchange, launched, ledger_open_ids
from trading.models import Order, Trade
from trading.services import orders_reconcile_pushed

STREAM_WAIT = 10.0


class Recording:
    """The bot's real exchange client, with the names of the methods the tick called."""

    def __init__(self, client):
        self._client, self.calls = client, []

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if callable(attr):
            self.calls.append(name)
        return attr


@pytest.fixture
def recording(monkeypatch):
    clients: list[Recording] = []
    real = tick_module.client_for_bot

    def wrapped(bot):
        client = Recording(real(bot))
        clients.append(client)
        return client

    monkeypatch.setattr(tick_module, "client_for_bot", wrapped)
    return clients


def launch(paper) -> Bot:
    return launched(paper[0])


def top_buy(bot) -> Order:
    return Order.objects.filter(bot=bot, purpose="grid", side="Buy", status="open").order_by("-price").first()


@pytest.mark.django_db(transaction=True)  # the stream's thread reads the bot's rows
def test_the_pushed_execution_places_the_counter_order_without_reading_the_exchange(paper, sim, recording):
    _, acc = paper
    bot = launch(paper)
    buy = top_buy(bot)
    ticks: queue.Queue = queue.Queue()
    supervisor = StreamsSupervisor(enqueue=ticks.put, enqueue_fills=lambda bot_id, fills: ticks.put((bot_id, fills)))
    try:
        supervisor.refresh()
        stream = supervisor.streams[bot.exchange_account_id]
        assert stream.wait_ready(STREAM_WAIT)
        while not ticks.empty():
            ticks.get_nowait()  # the resync queued on open
        sim.control.set_price("BTCUSDT", buy.price - 10)
        ticked = ticks.get(timeout=STREAM_WAIT)
        while not isinstance(ticked, tuple):  # order messages of the fill tick too
            ticked = ticks.get(timeout=STREAM_WAIT)
    finally:
        supervisor.stop()
        for account_id in list(supervisor.streams):
            supervisor._close(account_id)  # noqa: SLF001 - what run_forever does on its way out
    bot_id, fills = ticked
    assert bot_id == bot.pk and [f["client_order_id"] for f in fills] == [buy.client_order_id]

    recording.clear()
    sells_before = set(Order.objects.filter(bot=bot, side="Sell").values_list("client_order_id", flat=True))
    tick_run(bot.pk, urgent=True, fills=fills)  # what the worker runs for the stream's task

    (client,) = recording
    assert "fills" not in client.calls and "open_orders" not in client.calls, client.calls
    buy.refresh_from_db()
    trade = Trade.objects.get(order=buy)
    (execution,) = [e for e in sim.control.ledger(acc.uid)["executions"] if e["orderLinkId"] == buy.client_order_id]
    assert trade.exec_id == execution["execId"]
    assert (trade.qty, trade.price, trade.fee) == (
        Decimal(execution["execQty"]),
        Decimal(execution["execPrice"]),
        Decimal(execution["execFee"]),
    )
    assert buy.status == "filled" and buy.filled_qty == buy.qty
    (counter,) = Order.objects.filter(bot=bot, side="Sell").exclude(client_order_id__in=sells_before)
    assert counter.status == "open" and counter.price > buy.price
    assert counter.client_order_id in ledger_open_ids(sim, acc.uid)
    bot.refresh_from_db()
    cursor = bot.fills_seen_until
    assert cursor is None or cursor < trade.executed_at, "a push is not a complete read: the cursor stays"

    bot_tick(bot_id=bot.pk)  # the periodic tick reads the exchange: the same fill, stored once
    assert Trade.objects.filter(exec_id=trade.exec_id).count() == 1
    assert_books_match_exchange(bot, sim, acc.uid)
    bot.refresh_from_db()
    assert bot.fills_seen_until == trade.executed_at, "the complete read moves the cursor past the pushed fill"


def pushed(order: Order, *, qty=None, exec_id="e-1", price=None) -> Fill:
    return Fill(
        exec_id=exec_id,
        order_id="",
        client_order_id=order.client_order_id,
        category=Category.SPOT,
        symbol=order.symbol,
        side=Side(order.side),
        price=price if price is not None else order.price,
        qty=qty if qty is not None else order.qty,
        fee=Decimal("0"),
        fee_coin="BTC",
        is_maker=True,
        executed_at=order.created_at,
    )


@pytest.mark.django_db
def test_a_push_that_does_not_settle_its_order_stores_nothing_and_the_tick_reads(paper, recording):
    bot = launch(paper)
    buy = top_buy(bot)
    other_run = replace(
        pushed(buy), client_order_id=buy.client_order_id.replace(f"g{bot.generation}o", f"g{bot.generation + 1}o")
    )
    for fills in (
        [pushed(buy, qty=buy.qty / 2)],  # partly filled: the exchange's order state says the rest
        [pushed(buy, qty=buy.qty * 2)],  # more than the order
        [other_run],
        [pushed(buy, price=Decimal("NaN"))],
    ):
        assert orders_reconcile_pushed(bot=bot, fills=fills) is None
    recording.clear()
    tick_run(bot.pk, urgent=True, fills=[pushed(buy, qty=buy.qty / 2).to_wire()])
    (client,) = recording
    assert "fills" in client.calls and "open_orders" in client.calls, "the tick read the exchange instead"
    buy.refresh_from_db()
    assert buy.status == "open" and buy.filled_qty == 0  # the exchange has no such execution
    Order.objects.filter(pk=buy.pk).update(status="pending")  # its placement has not come back
    assert orders_reconcile_pushed(bot=bot, fills=[pushed(buy)]) is None
    assert not Trade.objects.filter(order=buy).exists()


@pytest.mark.django_db
def test_a_push_in_two_executions_fills_the_order_once(paper):
    bot = launch(paper)
    buy = top_buy(bot)
    half = buy.qty / 2
    fills = [pushed(buy, qty=half, exec_id="e-1"), pushed(buy, qty=buy.qty - half, exec_id="e-2")]
    result = orders_reconcile_pushed(bot=bot, fills=fills)
    assert result is not None and len(result.new_trades) == 2 and result.changed_orders == 1
    buy.refresh_from_db()
    assert buy.status == "filled" and buy.filled_qty == buy.qty and buy.avg_price == buy.price
    again = orders_reconcile_pushed(bot=bot, fills=fills)  # the same push again (a retried task)
    assert again is not None and again.new_trades == [] and again.changed_orders == 0
    assert Trade.objects.filter(order=buy).count() == 2
