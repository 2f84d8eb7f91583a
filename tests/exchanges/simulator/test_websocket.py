"""WebSocket: unmodified pybit WebSocket (subclass rewriting the URL, doc §2.2) on private and public channels."""

from __future__ import annotations

import json
import queue
import time
from decimal import Decimal as D

import pytest
import websocket

from .helpers import pybit_http, pybit_ws, sign, wait_for


@pytest.fixture
def streams():
    opened = []
    yield opened
    for ws in opened:
        ws.exit()


def collector():
    box = queue.Queue()

    def cb(msg):
        box.put(msg)

    return box, cb


def subscribed(sim) -> bool:
    """The server holds an authenticated private connection with a subscription (checked on its loop)."""
    return sim.call(lambda: any(c.uid is not None and c.topics and not c.ws.closed for c in sim.sim.hub.conns))


def drain(box, topic=None, timeout=3.0, until=None):
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            msg = box.get(timeout=0.05)
        except queue.Empty:
            if until and until(got):
                return got
            continue
        if topic is None or msg.get("topic") == topic:
            got.append(msg)
        if until and until(got):
            return got
    return got


def test_private_order_execution_wallet_position_topics(sim, account, streams):
    sim.control.set_price("BTCUSDT", "50000")
    ws = pybit_ws(sim, "private", account)
    streams.append(ws)
    orders, on_order = collector()
    execs, on_exec = collector()
    wallets, on_wallet = collector()
    positions, on_pos = collector()
    ws.order_stream(on_order)
    ws.execution_stream(on_exec)
    ws.wallet_stream(on_wallet)
    ws.position_stream(on_pos)
    wait_for(lambda: ws.auth and len(ws.callback_directory) >= 4)
    time.sleep(0.1)
    http = pybit_http(sim, account)
    http.place_order(
        category="spot", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.001", price="49000", orderLinkId="ws1"
    )
    first = drain(orders, until=lambda g: g)[0]
    assert first["topic"] == "order" and first["data"][0]["orderStatus"] == "New"
    assert first["data"][0]["category"] == "spot" and first["data"][0]["orderLinkId"] == "ws1"
    sim.control.set_price("BTCUSDT", "48900")
    filled = drain(orders, until=lambda g: any(d["orderStatus"] == "Filled" for m in g for d in m["data"]))
    assert filled
    fill = drain(execs, until=lambda g: g)[0]["data"][0]
    assert fill["orderLinkId"] == "ws1" and D(fill["execQty"]) == D("0.001") and fill["isMaker"] is True
    assert fill["feeCurrency"] == "BTC"
    w = drain(wallets, until=lambda g: g)[-1]["data"][0]
    assert w["accountType"] == "UNIFIED" and any(c["coin"] == "BTC" for c in w["coin"])
    drain(orders, timeout=0.2)
    http.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01", orderLinkId="mkt")
    # one item per state change: the market order is reported New, then Filled
    got = drain(orders, until=lambda g: any(d["orderStatus"] == "Filled" for m in g for d in m["data"]))
    assert [d["orderStatus"] for m in got for d in m["data"] if d["orderLinkId"] == "mkt"] == ["New", "Filled"]
    p = drain(positions, until=lambda g: g)[-1]["data"][0]
    assert p["symbol"] == "BTCUSDT" and p["side"] == "Buy" and D(p["size"]) == D("0.01") and "entryPrice" in p


def test_public_tickers_trades_and_orderbook(sim, streams):
    sim.control.set_price("BTCUSDT", "50000")
    ws = pybit_ws(sim, "spot")
    streams.append(ws)
    tickers, on_t = collector()
    trades, on_tr = collector()
    books, on_b = collector()
    ws.ticker_stream(symbol="BTCUSDT", callback=on_t)
    ws.trade_stream(symbol="BTCUSDT", callback=on_tr)
    ws.orderbook_stream(depth=50, symbol="BTCUSDT", callback=on_b)
    snap = drain(tickers, until=lambda g: g)[0]
    assert snap["type"] == "snapshot" and snap["data"]["lastPrice"] == "50000"
    assert drain(books, until=lambda g: g)[0]["data"]["b"][0][0] == "50000"
    sim.control.set_price("BTCUSDT", "50123.45", volume="0.5")
    t = drain(tickers, until=lambda g: any(m["data"]["lastPrice"] == "50123.45" for m in g))
    assert t
    tr = drain(trades, until=lambda g: g)[-1]["data"][-1]
    assert tr["p"] == "50123.45" and tr["v"] == "0.5" and tr["s"] == "BTCUSDT" and tr["S"] == "Buy"
    b = drain(books, until=lambda g: any(m["data"]["b"][0][0] == "50123.45" for m in g))[-1]["data"]
    assert len(b["b"]) == 50 and D(b["a"][0][0]) > D(b["b"][0][0])
    lin = pybit_ws(sim, "linear")
    streams.append(lin)
    lt, on_lt = collector()
    lin.orderbook_stream(depth=1, symbol="ETHUSDT", callback=on_lt)
    assert drain(lt, until=lambda g: g)[0]["data"]["s"] == "ETHUSDT"


def test_raw_protocol_ping_subscribe_req_id_and_auth_required(sim, account):
    ws = websocket.create_connection(f"{sim.ws_url}/v5/private", timeout=5)
    ws.send(json.dumps({"op": "subscribe", "req_id": "s1", "args": ["order"]}))
    assert json.loads(ws.recv())["success"] is False  # not authenticated
    expires = int(time.time() * 1000) + 10_000
    ws.send(
        json.dumps(
            {"op": "auth", "args": [account.api_key, expires, sign(account.api_secret, f"GET/realtime{expires}")]}
        )
    )
    assert json.loads(ws.recv())["success"] is True
    ws.send(json.dumps({"op": "subscribe", "req_id": "s2", "args": ["order", "execution"]}))
    reply = json.loads(ws.recv())
    assert reply == {**reply, "success": True, "req_id": "s2", "op": "subscribe"}
    ws.send(json.dumps({"op": "ping", "req_id": "p1"}))
    assert json.loads(ws.recv())["op"] == "pong"
    ws.send(json.dumps({"op": "subscribe", "req_id": "s3", "args": ["nonsense"]}))
    assert json.loads(ws.recv())["success"] is False
    ws.close()
    pub = websocket.create_connection(f"{sim.ws_url}/v5/public/spot", timeout=5)
    pub.send(json.dumps({"op": "ping"}))
    assert json.loads(pub.recv())["ret_msg"] == "pong"
    pub.close()


def test_ws_faults_drop_delay_and_disconnect_with_pybit_reconnect(sim, account, streams):
    sim.control.set_price("BTCUSDT", "50000")
    ws = pybit_ws(sim, "private", account, ping_interval=1, ping_timeout=0.5)
    streams.append(ws)
    orders, on_order = collector()
    ws.order_stream(on_order)
    wait_for(lambda: ws.auth)
    time.sleep(0.1)
    http = pybit_http(sim, account)
    sim.control.inject_fault("ws_drop", count=1, path="order")
    http.place_order(
        category="spot", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.001", price="40000", orderLinkId="d1"
    )
    assert drain(orders, timeout=0.4) == []  # dropped
    sim.control.inject_fault("ws_delay", count=1, ms=400)
    t0 = time.time()
    http.place_order(
        category="spot", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.001", price="40001", orderLinkId="d2"
    )
    got = drain(orders, until=lambda g: g)
    assert got and got[0]["data"][0]["orderLinkId"] == "d2" and time.time() - t0 >= 0.35
    r = sim.control.inject_fault("ws_disconnect", channel="private")
    assert r["disconnected"] == 1
    wait_for(lambda: sim.control.status()["websockets"] >= 1 and ws.is_connected(), timeout=10)
    wait_for(lambda: ws.auth, timeout=10)
    wait_for(lambda: subscribed(sim), timeout=10)  # pybit re-sends its subscriptions after the reconnect
    http.place_order(
        category="spot", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.001", price="40002", orderLinkId="d3"
    )
    got = drain(orders, until=lambda g: any(m["data"][0]["orderLinkId"] == "d3" for m in g), timeout=5)
    assert any(m["data"][0]["orderLinkId"] == "d3" for m in got)


def test_pybit_reconnects_after_a_simulator_restart(sim, account, streams):
    ws = pybit_ws(sim, "private", account)
    streams.append(ws)
    orders, on_order = collector()
    ws.order_stream(on_order)
    wait_for(lambda: ws.auth)
    sim.restart()  # same port, same state file; the socket is closed with code 1000
    wait_for(lambda: subscribed(sim), timeout=10)
    pybit_http(sim, account).place_order(
        category="spot", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.001", price="40000", orderLinkId="r1"
    )
    got = drain(orders, until=lambda g: g, timeout=5)
    assert got and got[0]["data"][0]["orderLinkId"] == "r1"
