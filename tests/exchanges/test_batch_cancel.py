"""Batch cancels through the port (ExchangeClient.cancel_orders), as the twins receive them:
Bybit's /v5/order/cancel-batch (10 per request) and OKX's cancel-batch-orders (20, through ccxt's
cancel_orders with clientOrderIds); Binance has no batch endpoint Setka uses and cancels one by
one. Each id gets its own result: an order that is not open any more is "not found" (gone, which
is fine) and does not fail the others. Each item counts one unit of the endpoint's quota, as on
the venues. A batch whose answer is lost gives "unknown" per item; asking each order's state
settles it."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest

from exchanges import errors
from exchanges.client import Category, ExchangeOrderStatus, OrderType, PlaceOrder, Side
from exchanges.venues import venue
from tests.exchanges.conftest import make_client, make_venue_client

CANCEL_BATCH = {"bybit": "/v5/order/cancel-batch", "okx": "/api/v5/trade/cancel-batch-orders"}
QUOTA_KEY = {
    "bybit": lambda uid: (uid, "/v5/order/cancel-batch", "spot"),
    "okx": lambda uid: (uid, "POST /api/v5/trade/cancel-batch-orders", None),
}


def _limit(link, price):
    return PlaceOrder(
        category=Category.SPOT,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("0.001"),
        price=D(price),
        client_order_id=link,
    )


@pytest.fixture(params=["bybit", "okx", "binance"])
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


def _log(twin) -> list[dict]:
    sim = twin.sim
    return sim.dialect.received if sim.dialect is not None else sim.received


def _items(twin, request: dict) -> list[str]:
    if twin.venue == "bybit":
        return [i["orderLinkId"] for i in request["params"]["request"]]
    return [i["clOrdId"] for i in request["params"]["__list__"]]


def _open_links(twin, uid) -> list[str]:
    return sorted(o["orderLinkId"] for o in twin.control.ledger(uid)["open_orders"])


def _place(twin, client, n, prefix):
    links = [f"{prefix}{i}" for i in range(n)]
    results = client.place_orders([_limit(link, str(40000 + i * 10)) for i, link in enumerate(links)])
    assert all(r.placed is not None for r in results), [r.error for r in results]
    return links


def test_n_cancels_take_one_request_per_batch_and_a_gone_order_is_its_own_item(twin):
    account = twin.control.create_account(funding={"USDT": "10000"})
    client = _client(twin, account)
    links = _place(twin, client, 23, "bc")
    client.cancel_order(category=Category.SPOT, symbol="BTCUSDT", client_order_id=links[4])  # cancelled earlier
    asked = [*links, "bcnever"]  # and one the venue never saw
    _log(twin).clear()

    results = client.cancel_orders(category=Category.SPOT, symbol="BTCUSDT", client_order_ids=asked)

    assert [r.client_order_id for r in results] == asked
    refused = {r.client_order_id: r.error for r in results if r.error is not None}
    assert set(refused) == {links[4], "bcnever"}
    assert all(isinstance(e, errors.OrderNotFound) for e in refused.values()), refused
    assert all(r.gone for r in results)
    assert _open_links(twin, account.uid) == []
    sent = list(_log(twin))
    size = venue(twin.venue).batch_cancel
    if twin.venue in CANCEL_BATCH:
        assert size > 1 and [r["path"] for r in sent] == [CANCEL_BATCH[twin.venue]] * math.ceil(len(asked) / size)
        assert [link for r in sent for link in _items(twin, r)] == asked  # each id once, in order
    else:
        assert size == 0 and len(sent) == len(asked)  # one DELETE per order


@pytest.mark.parametrize("twin", ["bybit", "okx"], indirect=True)
def test_every_item_of_a_batch_counts_against_the_quota(twin):
    """One cancel-batch of k orders takes k units of the endpoint's per-second quota on the twin,
    as on the venue (Bybit: 20 spot cancels a second; OKX: 300 orders per 2 s)."""
    account = twin.control.create_account(funding={"USDT": "10000"})
    client = _client(twin, account)
    links = _place(twin, client, 7, "bq")
    limiter = twin.sim.dialect.limiter if twin.sim.dialect is not None else twin.sim.limiter
    key = QUOTA_KEY[twin.venue](account.uid)
    limiter.hits.pop(key, None)

    client.cancel_orders(category=Category.SPOT, symbol="BTCUSDT", client_order_ids=links)

    assert len(limiter.hits[key]) == 7
    assert _open_links(twin, account.uid) == []


@pytest.mark.parametrize("twin", ["bybit", "okx"], indirect=True)
def test_a_batch_cancel_whose_answer_is_lost_is_unknown_per_item_and_the_state_settles_it(twin):
    account = twin.control.create_account(funding={"USDT": "10000"})
    links = _place(twin, _client(twin, account), 4, "bl")
    client = _client(twin, account, timeout=1.0, max_attempts=1)
    twin.control.inject_fault("timeout_after_accept", path=CANCEL_BATCH[twin.venue], mode="close", count=1)

    results = client.cancel_orders(category=Category.SPOT, symbol="BTCUSDT", client_order_ids=links)

    assert [r.client_order_id for r in results] == links
    assert all(isinstance(r.error, errors.AmbiguousOutcome) and not r.gone for r in results)
    assert _open_links(twin, account.uid) == []  # the twin did cancel them
    for link in links:  # asking the state settles each one
        found = client.order_by_client_id(category=Category.SPOT, symbol="BTCUSDT", client_order_id=link)
        assert found is not None and found.status == ExchangeOrderStatus.CANCELLED
    again = client.cancel_orders(category=Category.SPOT, symbol="BTCUSDT", client_order_ids=links)
    assert all(r.gone and isinstance(r.error, errors.OrderNotFound) for r in again)  # a retry is harmless
