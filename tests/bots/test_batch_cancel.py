"""Stopping a bot cancels its orders through the venue's batch endpoint: N open orders cost
ceil(N / batch) cancel requests on Bybit (cancel-batch, 10 per request), every order ends
cancelled in the books and on the exchange, and a batch whose answer is lost (the twin cancelled
the orders, the response never came) is settled by asking each order's state: nothing is left
open, nothing is counted twice."""

from __future__ import annotations

import math

import pytest

from bots.models import Bot
from bots.services import bot_start, bot_stop, bot_tick
from exchanges.venues import venue
from tests.bots.conftest import ledger_open_ids
from tests.factories import BotFactory, grid_config
from trading.models import Order

pytestmark = pytest.mark.django_db
GRID = 25
CANCEL_PATHS = {"/v5/order/cancel", "/v5/order/cancel-batch", "/v5/order/cancel-all"}


def _requests(sim) -> list[dict]:
    return list(sim.sim.received)


def _running_bot(account, sim) -> tuple[Bot, list[str]]:
    bot = BotFactory(user=account.user, exchange_account=account, config=grid_config(grid_count=GRID))
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, (bot.last_error, list(bot.events.values_list("message", flat=True)))
    open_ids = sorted(
        Order.objects.filter(bot=bot, status__in=Order.OPEN_STATUSES).values_list("client_order_id", flat=True)
    )
    return bot, open_ids


def _stop(bot, sim) -> list[dict]:
    sim.sim.received.clear()  # the twin keeps the last 200 order-changing requests
    bot_stop(bot=bot, reason="test")
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED, (bot.last_error, list(bot.events.values_list("message", flat=True)))
    return [r for r in _requests(sim) if r["path"] in CANCEL_PATHS]


def _cancelled_ids(requests: list[dict]) -> list[str]:
    return [item["orderLinkId"] for r in requests for item in r["params"]["request"]]


def test_stopping_a_bybit_bot_cancels_its_orders_in_batches(paper, sim):
    account, acc = paper
    bot, open_ids = _running_bot(account, sim)
    n = len(open_ids)
    assert n == GRID and ledger_open_ids(sim, acc.uid) == open_ids
    size = venue("bybit").batch_cancel
    assert size == 10

    cancels = _stop(bot, sim)

    # 25 open orders: 3 cancel requests (10 + 10 + 5) instead of 25
    assert (
        [r["path"] for r in cancels]
        == ["/v5/order/cancel-batch"] * math.ceil(n / size)
        == ["/v5/order/cancel-batch"] * 3
    )
    assert [len(r["params"]["request"]) for r in cancels] == [10, 10, 5]
    assert sorted(_cancelled_ids(cancels)) == open_ids
    assert all(item["symbol"] == "BTCUSDT" for r in cancels for item in r["params"]["request"])
    assert ledger_open_ids(sim, acc.uid) == []
    statuses = dict(Order.objects.filter(client_order_id__in=open_ids).values_list("client_order_id", "status"))
    assert statuses == {cid: Order.Status.CANCELLED for cid in open_ids}
    event = bot.events.get(kind="cancelled")
    assert event.data["count"] == n


def test_a_lost_batch_cancel_is_settled_by_asking_the_order_state(paper, sim):
    """The first cancel-batch is applied by the twin but its answer is lost (the connection
    closes): the adapter asks again (the items are now "not found": already gone) and the stop
    looks every order up; each ends cancelled once, none is left open."""
    account, acc = paper
    bot, open_ids = _running_bot(account, sim)
    sim.control.inject_fault("timeout_after_accept", path="/v5/order/cancel-batch", mode="close", count=1)

    cancels = _stop(bot, sim)

    first = _cancelled_ids(cancels[:1])
    assert len(first) == 10 and _cancelled_ids(cancels[1:2]) == first  # the lost batch, sent again
    assert sorted(set(_cancelled_ids(cancels))) == open_ids
    assert ledger_open_ids(sim, acc.uid) == []
    executed = {e["orderLinkId"] for e in sim.control.ledger(acc.uid)["executions"]}
    assert not executed & set(open_ids)  # no grid order filled: a cancel is all that happened to them
    statuses = dict(Order.objects.filter(client_order_id__in=open_ids).values_list("client_order_id", "status"))
    assert statuses == {cid: Order.Status.CANCELLED for cid in open_ids}
    assert bot.events.get(kind="cancelled").data["count"] == len(open_ids)


def test_a_stop_asks_no_order_state_the_venue_already_told(paper, sim):
    """Cancels the venue acknowledged, and an order whose stored executions cover it (it filled
    before the stop), need no lookup: the stop costs the open-orders read, the batches and the
    executions read, not one request per order (25 lookups, 25,000 at "stop all" of 1,000 bots)."""
    from collections import Counter

    from trading.models import Trade

    account, acc = paper
    bot, open_ids = _running_bot(account, sim)
    top_buy = Order.objects.get(
        bot=bot,
        purpose="grid",
        side="Buy",
        price=max(Order.objects.filter(bot=bot, purpose="grid", side="Buy").values_list("price", flat=True)),
    )
    sim.control.set_price("BTCUSDT", str(top_buy.price - 1))  # it fills; no tick runs before the stop
    before = Counter(sim.sim.requests_by_path)
    try:
        _stop(bot, sim)
    finally:
        sim.control.set_price("BTCUSDT", "55000")
    spent = Counter(sim.sim.requests_by_path) - before
    assert spent["/v5/order/history"] == 0 and spent["/v5/order/realtime"] <= 2, spent  # open orders, not lookups
    top_buy.refresh_from_db()
    assert top_buy.status == Order.Status.FILLED and top_buy.filled_qty == top_buy.qty
    assert Trade.objects.filter(order=top_buy).count() == 1
    others = Order.objects.filter(client_order_id__in=open_ids).exclude(pk=top_buy.pk)
    assert set(others.values_list("status", flat=True)) == {Order.Status.CANCELLED}
    assert ledger_open_ids(sim, acc.uid) == []
