"""The port's account-wide reads on every venue's twin: open orders and executions of a whole
account in one request where the venue lists every symbol at once, one request per symbol where
it needs one (Binance, MEXC) — never one per bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from exchanges.client import Category, OrderType, PlaceOrder, Side
from exchanges.venues import venue
from tests.exchanges.conftest import make_client, make_venue_client

SPOT, LINEAR = Category.SPOT, Category.LINEAR


def _limit(link, *, symbol, price, side=Side.BUY, qty="0.01", category=SPOT):
    return PlaceOrder(
        category=category,
        symbol=symbol,
        side=side,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
        client_order_id=link,
    )


def _market(link, *, symbol, qty, side=Side.SELL, category=SPOT):
    return PlaceOrder(
        category=category, symbol=symbol, side=side, order_type=OrderType.MARKET, qty=D(qty), client_order_id=link
    )


@pytest.fixture(params=["bybit", "okx", "binance", "mexc", "kucoin"])
def venue_twin(request, simulator, venue_simulators):
    code = request.param
    sim = simulator if code == "bybit" else venue_simulators[code]
    sim.control.clear_faults()
    sim.control.set_price("BTCUSDT", "50000")
    sim.control.set_price("ETHUSDT", "3000")
    account = sim.control.create_account(funding={"USDT": "20000", "BTC": "1", "ETH": "10"})
    client = make_client(sim, account) if code == "bybit" else make_venue_client(sim, account)
    yield code, sim, account, client
    for symbol in ("BTCUSDT", "ETHUSDT"):
        client.cancel_all(category=SPOT, symbol=symbol)


def _paths(sim, *names):
    return sum(sim.sim.requests_by_path[n] for n in names)


OPEN_PATHS = {
    "bybit": ("/v5/order/realtime",),
    "okx": ("/api/v5/trade/orders-pending",),
    "binance": ("/api/v3/openOrders",),
    "mexc": ("/api/v3/openOrders",),
    "kucoin": ("/api/v1/orders",),
}
FILL_PATHS = {
    "bybit": ("/v5/execution/list",),
    "okx": ("/api/v5/trade/fills", "/api/v5/trade/fills-history"),
    "binance": ("/api/v3/myTrades",),
    "mexc": ("/api/v3/myTrades",),
    "kucoin": ("/api/v1/fills",),
}


def test_open_orders_of_every_symbol_in_one_request_or_one_per_symbol(venue_twin):
    code, sim, _account, client = venue_twin
    client.place_order(_limit("acA1", symbol="BTCUSDT", price="45000"))
    client.place_order(_limit("acA2", symbol="BTCUSDT", price="44000"))
    client.place_order(_limit("acB1", symbol="ETHUSDT", price="2500", qty="0.1"))
    before = _paths(sim, *OPEN_PATHS[code])
    orders = client.account_open_orders(category=SPOT, symbols=["BTCUSDT", "ETHUSDT", "BTCUSDT"])
    spent = _paths(sim, *OPEN_PATHS[code]) - before
    assert sorted((o.client_order_id, o.symbol) for o in orders) == [
        ("acA1", "BTCUSDT"),
        ("acA2", "BTCUSDT"),
        ("acB1", "ETHUSDT"),
    ]
    assert {o.client_order_id: o.price for o in orders}["acB1"] == D("2500")
    assert spent == (1 if venue(code).account_reads else 2)  # never one per order or per bot


def test_executions_of_every_symbol_since_a_time_with_pages(venue_twin):
    code, sim, _account, client = venue_twin
    started = datetime.now(UTC) - timedelta(seconds=5)
    client.place_order(_market("acS1", symbol="BTCUSDT", qty="0.001"))
    client.place_order(_market("acS2", symbol="ETHUSDT", qty="0.01"))
    client.place_order(_market("acS3", symbol="BTCUSDT", qty="0.001"))

    def walk(since=started):
        fills, cursor, requests = [], None, 0
        for _ in range(20):
            page = client.account_fills(category=SPOT, symbols=["BTCUSDT", "ETHUSDT"], since=since, cursor=cursor)
            fills.extend(page.fills)
            requests += 1
            cursor = page.next_cursor
            if not cursor:
                break
        return fills, requests

    before = _paths(sim, *FILL_PATHS[code])
    fills, pages = walk()
    spent = _paths(sim, *FILL_PATHS[code]) - before
    ours = sorted((f.client_order_id, f.symbol) for f in fills)
    assert ours == [("acS1", "BTCUSDT"), ("acS2", "ETHUSDT"), ("acS3", "BTCUSDT")]
    assert len({f.exec_id for f in fills}) == 3
    assert spent == (1 if venue(code).account_reads else 2) and pages == spent
    # the same executions as the per-symbol read: the same ids, so a fill is stored once either way
    per_symbol = client.fills(category=SPOT, symbol="ETHUSDT", since=started).fills
    assert {f.exec_id for f in per_symbol} <= {f.exec_id for f in fills}
    client.fills_page_size = 2
    # (OKX with a start time sends no limit and ccxt cuts the answer to the page size: page
    # there without one, by billId, as the venue pages)
    paged, _ = walk(None if code == "okx" else started)
    assert {f.exec_id for f in fills} <= {f.exec_id for f in paged}
    assert len(paged) == len({f.exec_id for f in paged})
    later = client.account_fills(category=SPOT, symbols=["BTCUSDT"], since=datetime.now(UTC) + timedelta(minutes=1))
    assert later.fills == []


def test_bybit_linear_open_orders_without_a_symbol_use_the_settle_coin(simulator, sim_account):
    client = make_client(simulator, sim_account)
    simulator.control.set_price("BTCUSDT", "50000")
    client.place_order(_limit("acL1", symbol="BTCUSDT", price="45000", qty="0.001", category=LINEAR))
    try:
        before = simulator.sim.requests_by_path["/v5/order/realtime"]
        orders = client.account_open_orders(category=LINEAR, symbols=[])
        assert [o.client_order_id for o in orders] == ["acL1"]
        assert simulator.sim.requests_by_path["/v5/order/realtime"] - before == 1
    finally:
        client.cancel_all(category=LINEAR, symbol="BTCUSDT")
