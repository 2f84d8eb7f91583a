"""The factory picks the venue from the account: paper -> the simulator, others -> Bybit's hosts."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from exchanges import factory, services
from exchanges.client import Category, OrderType, PlaceOrder, Side
from tests.factories import ExchangeAccountFactory


def test_real_environments_point_at_bybit_hosts(db, settings):
    settings.SETKA_BYBIT_ENDPOINTS = {}
    hosts = {}
    for env in ("mainnet", "testnet", "demo"):
        hosts[env] = factory.client_for_account(ExchangeAccountFactory(environment=env)).base_url
    assert hosts == {
        "mainnet": "https://api.bybit.com",
        "testnet": "https://api-testnet.bybit.com",
        "demo": "https://api-demo.bybit.com",
    }


def test_paper_account_trades_and_streams_on_the_simulator(paper_settings, user, simulator):
    simulator.control.set_price("BTCUSDT", "50000")
    account = services.exchange_account_create_paper(user=user)
    client = factory.client_for_account(account)
    assert client.base_url == simulator.base_url
    events, reconnected = [], threading.Event()
    stream = factory.stream_for_account(account, lambda topic, data: events.append((topic, data)), reconnected.set)
    try:
        assert stream.wait_ready(10)
        client.place_order(
            PlaceOrder(
                category=Category.SPOT,
                symbol="BTCUSDT",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                qty=Decimal("0.001"),
                price=Decimal("45000"),
                client_order_id="fac-1",
            )
        )
        deadline = time.monotonic() + 5
        while not any(t == "order" for t, _ in events) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(t == "order" and d[0]["orderLinkId"] == "fac-1" for t, d in events)
    finally:
        stream.close()
        client.cancel_all(category=Category.SPOT, symbol="BTCUSDT")
