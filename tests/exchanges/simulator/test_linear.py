"""Linear perpetuals: leverage, one-way position, average entry, realised/unrealised PnL, margin, liquidation."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from pybit.exceptions import InvalidRequestError

from .helpers import pybit_http


@pytest.fixture
def lin(sim):
    sim.control.set_price("BTCUSDT", "50000")
    acc = sim.control.create_account(funding={"USDT": "1000"})
    return acc, pybit_http(sim, acc)


def pos(http):
    return http.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]


def usdt(http):
    return http.get_wallet_balance(accountType="UNIFIED", coin="USDT")["result"]["list"][0]["coin"][0]


def test_average_entry_realised_and_unrealised_pnl(sim, lin):
    acc, http = lin
    http.set_leverage(category="linear", symbol="BTCUSDT", buyLeverage="5", sellLeverage="5")
    http.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01")
    sim.control.set_price("BTCUSDT", "51000")
    http.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01")
    p = pos(http)
    assert p["side"] == "Buy" and D(p["size"]) == D("0.02") and D(p["avgPrice"]) == D("50500")
    assert p["leverage"] == "5" and D(p["positionIM"]) == D("0.02") * D("50500") / 5
    sim.control.set_price("BTCUSDT", "52000")
    assert D(pos(http)["unrealisedPnl"]) == D("0.02") * D("1500")
    # a resting sell above the market closes half as maker: realised = 0.01 * (52500 - 50500)
    http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Sell",
        orderType="Limit",
        qty="0.01",
        price="52500.0",
        orderLinkId="tp",
    )
    sim.control.set_price("BTCUSDT", "52600")
    fill = http.get_executions(category="linear", orderLinkId="tp")["result"]["list"][0]
    assert fill["isMaker"] is True and D(fill["execPnl"]) == D("20") and D(fill["closedSize"]) == D("0.01")
    assert D(fill["execFee"]) == D("525") * D("0.0002") and fill["feeCurrency"] == "USDT"
    p = pos(http)
    assert D(p["size"]) == D("0.01") and D(p["cumRealisedPnl"]) == D("20")
    fees = sum(D(f["execFee"]) for f in http.get_executions(category="linear")["result"]["list"])
    assert D(usdt(http)["walletBalance"]) == D("1000") + D("20") - fees
    # flip through zero: sell 0.03 closes 0.01 and opens a 0.02 short at the fill price
    http.place_order(category="linear", symbol="BTCUSDT", side="Sell", orderType="Market", qty="0.03")
    p = pos(http)
    assert p["side"] == "Sell" and D(p["size"]) == D("0.02") and D(p["avgPrice"]) == D("52600")


def test_initial_margin_checked_against_balance_and_leverage(sim, lin):
    acc, http = lin
    # 0.1 BTC at 50000 = 5000 notional: 500 IM at 10x fits 1000 USDT, 5000 at 1x does not
    http.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.1", price="49000.0", orderLinkId="im"
    )
    assert D(usdt(http)["totalOrderIM"]) == D("490")
    http.cancel_order(category="linear", symbol="BTCUSDT", orderLinkId="im")
    http.set_leverage(category="linear", symbol="BTCUSDT", buyLeverage="1", sellLeverage="1")
    with pytest.raises(InvalidRequestError) as exc:
        http.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.1", price="49000.0")
    assert exc.value.status_code == 110007
    with pytest.raises(InvalidRequestError) as exc:
        http.set_leverage(category="linear", symbol="BTCUSDT", buyLeverage="101", sellLeverage="101")
    assert exc.value.status_code == 10001


def test_liquidation_closes_at_liquidation_price_and_is_recorded(sim, lin):
    acc, http = lin
    http.set_leverage(category="linear", symbol="BTCUSDT", buyLeverage="20", sellLeverage="20")
    http.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.1")
    http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.01",
        price="40000.0",
        orderLinkId="below",
    )
    liq = D(pos(http)["liqPrice"])
    # long 20x at 50000, MMR 0.5 %: liq = 50000 * (1 - 1/20) / (1 - 0.005) = 47738.69.. -> 47738.7
    assert liq == D("47738.7")
    sim.control.set_path("BTCUSDT", ["49000", "48000", "47800"])
    assert D(pos(http)["size"]) == D("0.1")
    sim.control.set_path("BTCUSDT", ["47000", "46000"])  # jumps past liq: closed at liq, not at 47000
    p = pos(http)
    assert D(p["size"]) == 0 and p["side"] == ""
    bust = http.get_executions(category="linear", execType="BustTrade")["result"]["list"]
    assert len(bust) == 1 and D(bust[0]["execPrice"]) == liq and D(bust[0]["execQty"]) == D("0.1")
    assert D(bust[0]["execPnl"]) == D("0.1") * (liq - D("50000"))
    # orders of that symbol were cancelled before the liquidation
    o = http.get_open_orders(category="linear", symbol="BTCUSDT", orderLinkId="below")["result"]["list"][0]
    assert o["orderStatus"] == "Cancelled" and o["cancelType"] == "CancelAllBeforeLiq"
    ledger = sim.control.ledger(acc.uid)
    total = D("1000") + sum(D(e["execPnl"]) - D(e["execFee"]) for e in ledger["executions"])
    assert D(ledger["balances"]["USDT"]) == total
    assert D(ledger["balances"]["USDT"]) > 0  # isolated-style: the loss is the position's margin, not more


def test_short_position_liquidates_upwards(sim, lin):
    acc, http = lin
    http.set_leverage(category="linear", symbol="BTCUSDT", buyLeverage="50", sellLeverage="50")
    http.place_order(category="linear", symbol="BTCUSDT", side="Sell", orderType="Market", qty="0.1")
    liq = D(pos(http)["liqPrice"])
    assert D("50000") < liq < D("51000")
    sim.control.set_price("BTCUSDT", str(liq + 1))
    assert D(pos(http)["size"]) == 0
