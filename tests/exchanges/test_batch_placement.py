"""Batch placement through the port: Bybit's create-batch (10 spot orders per request) and OKX's
batch-orders (20), one request per batch as the twin counts them; Binance and MEXC have no
batch endpoint Setka uses and place one by one. One refused item leaves the others placed; a
batch whose answer is lost (timeout after the twin accepted it) is settled by looking each client
order id up, so no order is lost and none is placed twice."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest

from exchanges import errors
from exchanges.client import Category, OrderType, PlaceOrder, Side
from exchanges.venues import venue
from tests.exchanges.conftest import make_client, make_venue_client

BATCH_PATH = {"bybit": "/v5/order/create-batch", "okx": "/api/v5/trade/batch-orders"}
SINGLE_PATH = {"binance": "/api/v3/order", "mexc": "/api/v3/order", "kucoin": "/api/v1/orders"}


def _limit(link, price, qty="0.001"):
    return PlaceOrder(
        category=Category.SPOT,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
        client_order_id=link,
    )


@pytest.fixture(params=["bybit", "okx", "binance", "mexc", "kucoin"])
def twin(request, simulator, venue_simulators):
    handle = simulator if request.param == "bybit" else venue_simulators[request.param]
    handle.control.clear_faults()
    handle.control.set_price("BTCUSDT", "50000")
    yield handle
    handle.control.clear_faults()


def _client(twin, account, **kw):
    if twin.venue == "bybit":
        return make_client(twin, account, **kw)
    return make_venue_client(twin, account, **kw)


def _received(twin) -> list[dict]:
    sim = twin.sim
    return list(sim.dialect.received if sim.dialect is not None else sim.received)


def _open_links(twin, uid) -> list[str]:
    return sorted(o["orderLinkId"] for o in twin.control.ledger(uid)["open_orders"])


def test_n_orders_take_one_request_per_batch_and_a_refusal_stays_its_own(twin):
    account = twin.control.create_account(funding={"USDT": "10000"})
    client = _client(twin, account)
    n = 23
    orders = [_limit(f"bt{i}", str(40000 + i * 10)) for i in range(n)]
    orders[5] = _limit("btbig", "40050", qty="5")  # 200,000 USDT: more than the account holds
    # the twin keeps the last 200 order-changing requests: start from an empty log, so a long
    # session before this test cannot push this launch's requests out of the window
    (twin.sim.dialect.received if twin.sim.dialect is not None else twin.sim.received).clear()
    results = client.place_orders(orders)
    sent = [r for r in _received(twin) if "cancel" not in r["path"]]
    try:
        assert [r.client_order_id for r in results] == [o.client_order_id for o in orders]
        assert isinstance(results[5].error, errors.InsufficientBalance)
        assert all(r.placed is not None for i, r in enumerate(results) if i != 5)
        assert _open_links(twin, account.uid) == sorted(o.client_order_id for i, o in enumerate(orders) if i != 5)
        size = venue(twin.venue).batch_create
        if twin.venue in BATCH_PATH:
            assert size > 1 and [r["path"] for r in sent] == [BATCH_PATH[twin.venue]] * math.ceil(n / size)
        else:
            assert size == 0 and [r["path"] for r in sent] == [SINGLE_PATH[twin.venue]] * n
    finally:
        client.cancel_all(category=Category.SPOT, symbol="BTCUSDT")


@pytest.mark.parametrize("twin", ["bybit", "okx"], indirect=True)
def test_a_batch_whose_answer_is_lost_is_settled_by_client_id(twin):
    account = twin.control.create_account(funding={"USDT": "10000"})
    client = _client(twin, account, timeout=1.0, max_attempts=1)
    twin.control.inject_fault("timeout_after_accept", path=BATCH_PATH[twin.venue], mode="close", count=1)
    orders = [_limit(f"amb{i}", str(41000 + i * 10)) for i in range(4)]
    try:
        results = client.place_orders(orders)
        assert all(r.placed is not None for r in results), [r.error for r in results]
        ledger = twin.control.ledger(account.uid)["open_orders"]
        assert sorted(o["orderLinkId"] for o in ledger) == [f"amb{i}" for i in range(4)]  # each once
        assert {r.placed.order_id for r in results} == {o["orderId"] for o in ledger}
    finally:
        client.cancel_all(category=Category.SPOT, symbol="BTCUSDT")
