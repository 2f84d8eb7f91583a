"""The private order streams of the ccxt venues (OKX, Binance spot, KuCoin spot), through ccxt.pro pointed at
each venue's twin: an order's changes and fills arrive as port events naming the client order
id, a dropped socket is reconnected and resubscribed, and a refused key stops the stream.
MEXC's spot stream is protobuf: Setka polls it by REST (the factory's RestOnlyStream)."""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest

from exchanges.adapters.ccxt_adapter import CcxtPrivateStream
from exchanges.client import Category, OrderType, PlaceOrder, Side
from tests.exchanges.conftest import make_venue_client


class Recorder:
    def __init__(self):
        self.events: list[tuple[str, dict]] = []
        self.changed = threading.Condition()
        self.reconnected = threading.Event()

    def on_event(self, topic, data):
        with self.changed:
            self.events.extend((topic, item) for item in data)
            self.changed.notify_all()

    def wait_for(self, topic, link, timeout=5.0):
        with self.changed:
            return self.changed.wait_for(
                lambda: any(t == topic and i["orderLinkId"] == link for t, i in self.events), timeout
            )


@pytest.fixture(params=["okx", "binance", "kucoin"])
def venue_sim(request, venue_simulators):
    sim = venue_simulators[request.param]
    sim.control.clear_faults()
    yield sim
    sim.control.clear_faults()


def _stream(sim, account, rec, **kw):
    return CcxtPrivateStream(
        venue_code=sim.venue,
        api_key=account.api_key,
        api_secret=kw.pop("api_secret", account.api_secret),
        passphrase=account.passphrase,
        base_url=sim.base_url,
        on_event=rec.on_event,
        on_reconnect=rec.reconnected.set,
        **kw,
    )


def _buy(link, price, category=Category.SPOT):
    return PlaceOrder(
        category=category,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("0.001") if category == Category.SPOT else D("0.01"),
        price=D(price),
        client_order_id=link,
    )


def test_order_and_fill_pushed_then_again_after_the_socket_drops(venue_sim):
    sim = venue_sim
    sim.control.set_price("BTCUSDT", "50000")
    account = sim.control.create_account(funding={"USDT": "10000", "BTC": "1"})
    client = make_venue_client(sim, account)
    rec = Recorder()
    stream = _stream(sim, account, rec)
    try:
        assert stream.wait_ready(10)
        client.place_order(_buy("st1", "49000"))
        assert rec.wait_for("order", "st1")
        assert not any(t == "execution" and i["orderLinkId"] == "st1" for t, i in rec.events)
        sim.control.set_price("BTCUSDT", "48900")  # crosses the buy: a maker fill
        assert rec.wait_for("execution", "st1")

        sim.control.inject_fault("ws_disconnect", channel="private")
        assert rec.reconnected.wait(10), "the stream came back and told the caller to resync"
        assert stream.wait_ready(10) and stream.reconnects >= 1  # one per socket (Binance: spot and futures)
        sim.control.set_price("BTCUSDT", "50000")
        client.place_order(_buy("st2", "49500"))
        sim.control.set_price("BTCUSDT", "49400")
        assert rec.wait_for("execution", "st2"), "a fill after the reconnect still arrives"
        fills = [i for t, i in rec.events if t == "execution" and i["orderLinkId"] == "st2"]
        assert D(fills[-1]["cumExecQty"]) == D("0.001")
    finally:
        stream.close()
        client.cancel_all(category=Category.SPOT, symbol="BTCUSDT")
    assert not stream._thread.is_alive()  # noqa: SLF001 - close() ends the stream's thread


def test_a_refused_key_stops_the_stream(venue_sim):
    account = venue_sim.control.create_account(funding={"USDT": "100"})
    rec = Recorder()
    stream = _stream(venue_sim, account, rec, api_secret="not-the-secret")
    try:
        assert not stream.wait_ready(5)
        assert stream.auth_failed and not stream.is_connected()
    finally:
        stream.close()


def test_perpetual_orders_are_pushed_on_the_same_stream(venue_sim):
    """OKX's `orders` channel carries swaps too; Binance's USDⓈ-M orders come on the futures user
    data stream (listenKey), which the same stream object holds beside the spot one. KuCoin's
    futures live on a separate API Setka does not offer."""
    sim = venue_sim
    if sim.venue == "kucoin":
        pytest.skip("KuCoin: spot only")
    sim.control.set_price("BTCUSDT", "50000")
    account = sim.control.create_account(funding={"USDT": "10000"})
    client = make_venue_client(sim, account)
    rec = Recorder()
    stream = _stream(sim, account, rec)
    try:
        assert stream.wait_ready(10)
        client.place_order(_buy("perp1", "49000", Category.LINEAR))
        assert rec.wait_for("order", "perp1")
        sim.control.set_price("BTCUSDT", "48900")
        assert rec.wait_for("execution", "perp1")
        fills = [i for t, i in rec.events if t == "execution" and i["orderLinkId"] == "perp1"]
        assert D(fills[-1]["cumExecQty"]) == D("0.01")
    finally:
        stream.close()
        client.cancel_all(category=Category.LINEAR, symbol="BTCUSDT")
