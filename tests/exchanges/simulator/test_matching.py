"""Matching: maker/taker, partial fills by path volume, fees in the received coin, locks, rejections."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from pybit.exceptions import InvalidRequestError

from .helpers import RawClient, pybit_http


@pytest.fixture
def http(sim, account):
    sim.control.set_price("BTCUSDT", "50000")
    return pybit_http(sim, account)


def coins(http):
    rows = http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]["coin"]
    return {r["coin"]: r for r in rows}


def order(http, link, category="spot"):
    return http.get_open_orders(category=category, symbol="BTCUSDT", orderLinkId=link)["result"]["list"][0]


def test_resting_buy_locks_quote_then_fills_as_maker_with_fee_in_base(sim, account, http):
    http.place_order(
        category="spot", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.01", price="49000", orderLinkId="b1"
    )
    c = coins(http)
    assert D(c["USDT"]["locked"]) == D("490")
    assert D(c["USDT"]["walletBalance"]) == D("100000")
    sim.control.set_price("BTCUSDT", "49500")  # not crossed
    assert order(http, "b1")["orderStatus"] == "New"
    sim.control.set_path("BTCUSDT", ["49200", "48950", "49100"])  # crosses 49000 on the way down
    o = order(http, "b1")
    assert o["orderStatus"] == "Filled" and D(o["avgPrice"]) == D("49000")
    fill = http.get_executions(category="spot", orderLinkId="b1")["result"]["list"][0]
    assert fill["isMaker"] is True and fill["feeCurrency"] == "BTC"
    assert D(fill["execFee"]) == D("0.00001")  # 0.1 % of 0.01 BTC
    c = coins(http)
    assert D(c["USDT"]["walletBalance"]) == D("100000") - D("490")
    assert D(c["USDT"]["locked"]) == 0
    assert D(c["BTC"]["walletBalance"]) == D("1") + D("0.01") - D("0.00001")


def test_sell_fee_in_quote_and_taker_fill_at_market(sim, account, http):
    # a sell limit below the market crosses at once: taker, at the current price, fee in USDT
    http.place_order(
        category="spot", symbol="BTCUSDT", side="Sell", orderType="Limit", qty="0.02", price="49000", orderLinkId="s1"
    )
    fill = http.get_executions(category="spot", orderLinkId="s1")["result"]["list"][0]
    assert fill["isMaker"] is False and D(fill["execPrice"]) == D("50000")
    assert fill["feeCurrency"] == "USDT" and D(fill["execFee"]) == D("1")  # 1000 USDT * 0.1 %
    c = coins(http)
    assert D(c["USDT"]["walletBalance"]) == D("100000") + D("1000") - D("1")
    assert D(c["BTC"]["walletBalance"]) == D("0.98")


def test_market_buy_by_quote_value(sim, account, http):
    http.place_order(category="spot", symbol="BTCUSDT", side="Buy", orderType="Market", qty="100", orderLinkId="m1")
    fill = http.get_executions(category="spot", orderLinkId="m1")["result"]["list"][0]
    assert D(fill["execQty"]) == D("0.002") and D(fill["execPrice"]) == D("50000")
    assert order(http, "m1")["orderStatus"] == "Filled"


def test_partial_fills_limited_by_step_volume(sim, account, http):
    http.place_order(
        category="spot", symbol="BTCUSDT", side="Sell", orderType="Limit", qty="0.5", price="50100", orderLinkId="p1"
    )
    assert D(coins(http)["BTC"]["locked"]) == D("0.5")
    sim.control.set_price("BTCUSDT", "50100", volume="0.2")
    o = order(http, "p1")
    assert o["orderStatus"] == "PartiallyFilled" and D(o["cumExecQty"]) == D("0.2") and D(o["leavesQty"]) == D("0.3")
    assert D(coins(http)["BTC"]["locked"]) == D("0.3")
    sim.control.set_price("BTCUSDT", "50200", volume="0.2")
    assert D(order(http, "p1")["cumExecQty"]) == D("0.4")
    # cancel the rest: spot keeps the fills and reports PartiallyFilledCanceled
    http.cancel_order(category="spot", symbol="BTCUSDT", orderLinkId="p1")
    o = order(http, "p1")
    assert o["orderStatus"] == "PartiallyFilledCanceled"
    c = coins(http)
    assert D(c["BTC"]["locked"]) == 0 and D(c["BTC"]["walletBalance"]) == D("0.6")
    fills = http.get_executions(category="spot", orderLinkId="p1")["result"]["list"]
    assert [D(f["execQty"]) for f in fills] == [D("0.2"), D("0.2")]


def test_volume_is_shared_by_price_time_priority(sim, account, http):
    other = sim.control.create_account(funding={"BTC": "1"})
    http2 = pybit_http(sim, other)
    http2.place_order(
        category="spot", symbol="BTCUSDT", side="Sell", orderType="Limit", qty="0.1", price="50200", orderLinkId="late"
    )
    http.place_order(
        category="spot",
        symbol="BTCUSDT",
        side="Sell",
        orderType="Limit",
        qty="0.1",
        price="50100",
        orderLinkId="better",
    )
    sim.control.set_price("BTCUSDT", "50300", volume="0.15")
    assert order(http, "better")["orderStatus"] == "Filled"
    assert D(order(http2, "late")["cumExecQty"]) == D("0.05")


def test_amend_moves_lock_and_can_cross(sim, account, http):
    http.place_order(
        category="spot", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.01", price="45000", orderLinkId="a1"
    )
    http.amend_order(category="spot", symbol="BTCUSDT", orderLinkId="a1", price="46000", qty="0.02")
    assert D(coins(http)["USDT"]["locked"]) == D("920")
    o = order(http, "a1")
    assert D(o["price"]) == D("46000") and D(o["qty"]) == D("0.02")


def test_cancel_all_releases_locks(sim, account, http):
    for i in range(3):
        http.place_order(
            category="spot",
            symbol="BTCUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.001",
            price=str(40000 + i),
            orderLinkId=f"c{i}",
        )
    r = http.cancel_all_orders(category="spot", symbol="BTCUSDT")
    assert len(r["result"]["list"]) == 3
    assert D(coins(http)["USDT"]["locked"]) == 0
    assert http.get_open_orders(category="spot", symbol="BTCUSDT")["result"]["list"] == []
    closed = http.get_open_orders(category="spot", symbol="BTCUSDT", openOnly=1)["result"]["list"]
    assert {o["orderStatus"] for o in closed} == {"Cancelled"}


def test_post_only_that_would_take_is_cancelled(sim, account, http):
    http.place_order(
        category="spot",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.001",
        price="50500",
        timeInForce="PostOnly",
        orderLinkId="po",
    )
    o = order(http, "po")
    assert o["orderStatus"] == "Cancelled" and o["rejectReason"] == "EC_PostOnlyWillTakeLiquidity"
    assert http.get_executions(category="spot", orderLinkId="po")["result"]["list"] == []


def _code(fn, **kw):
    with pytest.raises(InvalidRequestError) as exc:
        fn(**kw)
    return exc.value.status_code


SPOT = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
LIN = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}


def test_spot_rejections(sim, account, http):
    po = http.place_order
    assert _code(po, **SPOT, qty="10", price="40000") == 170131  # 400k USDT > 100k
    assert _code(po, **dict(SPOT, side="Sell"), qty="2", price="60000") == 170131  # only 1 BTC
    assert _code(po, **SPOT, qty="0.0001", price="40000") == 170140  # 4 USDT < 5
    assert _code(po, **SPOT, qty="0.00001", price="600000") == 170136  # below minOrderQty
    assert _code(po, **SPOT, qty="0.001", price="40000.001") == 170134  # tick 0.01
    assert _code(po, **SPOT, qty="0.0010001", price="40000") == 170137  # basePrecision 0.000001
    po(**SPOT, qty="0.001", price="40000", orderLinkId="dup")
    assert _code(po, **SPOT, qty="0.001", price="40000", orderLinkId="dup") == 170141
    assert _code(http.cancel_order, category="spot", symbol="BTCUSDT", orderId="123") == 170213
    assert _code(http.amend_order, category="spot", symbol="BTCUSDT", orderLinkId="nope", price="1") == 170213
    assert _code(po, **dict(SPOT, symbol="DOGEUSDT"), qty="1", price="1") == 170121


def test_linear_rejections(sim, account, http):
    poor = pybit_http(sim, sim.control.create_account(funding={"USDT": "10"}))
    assert _code(poor.place_order, **LIN, qty="0.01", price="40000.0") == 110007  # IM 40 > 10
    po = http.place_order
    assert _code(po, **LIN, qty="0.0001", price="40000.0") == 10001  # below qtyStep / minOrderQty
    assert _code(po, **dict(LIN, symbol="ETHUSDT"), qty="0.01", price="300.00") == 110094  # 3 USDT < 5
    po(**LIN, qty="0.001", price="40000.0", orderLinkId="ldup")
    assert _code(po, **LIN, qty="0.001", price="40000.0", orderLinkId="ldup") == 110072
    assert _code(http.cancel_order, category="linear", symbol="BTCUSDT", orderLinkId="nope") == 110001


def test_too_many_open_orders(sim, account, http):
    ex = sim.sim.engine

    def place_many():
        for i in range(500):
            ex.place_order(account.uid, "spot", dict(SPOT, qty="0.001", price=str(10000 + i), orderLinkId=f"o{i}"))
        ex.commit()

    sim.call(place_many)
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    r = c.post("/v5/order/create", dict(SPOT, qty="0.001", price="9000", orderLinkId="o500"))
    assert r["retCode"] == 170810
    assert len(sim.control.ledger(account.uid)["open_orders"]) == 500


def test_malformed_parameters_are_param_errors_not_server_errors(sim, account):
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    cases = [
        ("/v5/order/create", dict(SPOT, qty=["1"], price="40000")),
        ("/v5/order/create", dict(SPOT, category={"a": 1}, qty="1", price="40000")),
        ("/v5/order/create", dict(SPOT, qty="NaN", price="40000")),
        ("/v5/order/create", dict(SPOT, qty="0.001", price="Infinity")),
        ("/v5/order/cancel-all", {"category": "linear"}),
        ("/v5/position/set-leverage", {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "x"}),
    ]
    for path, body in cases:
        assert c.post(path, body)["retCode"] in (10001, 170130), body  # spot says 170130 for bad numbers
    r = c.post("/v5/order/create-batch", {"category": "spot", "request": [dict(SPOT, symbol=1.5), "junk"]})
    assert r["retCode"] == 0 and [x["code"] for x in r["retExtInfo"]["list"]] == [170121, 10001]
    # numbers instead of strings (non-pybit clients) are accepted
    assert c.post("/v5/order/create", dict(SPOT, qty=0.001, price=40000))["retCode"] == 0
