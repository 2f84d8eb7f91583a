"""Candle replay: deterministic in-candle path, manual advance, timed replay, stop, FTX notional volumes."""

from __future__ import annotations

import time
from decimal import Decimal as D

from exchanges.simulator.feed import Candle
from tests.market_data import BTC_PERP_2022

from .helpers import pybit_http, wait_for


def test_path_visits_open_nearer_extreme_farther_extreme_close():
    c = Candle(0, D("100"), D("110"), D("97"), D("105"), D("8"))
    assert [p for p, _ in c.path()] == [D("100"), D("97"), D("110"), D("105")]
    assert all(v == D("2") for _, v in c.path())
    up = Candle(0, D("100"), D("101"), D("90"), D("95"), D("4"))
    assert [p for p, _ in up.path()] == [D("100"), D("101"), D("90"), D("95")]


def test_advance_fills_in_path_order_with_candle_volume(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("SETKA_SIMULATOR_DATA", str(tmp_path))  # the replay reads only its data folder
    csv = tmp_path / "ltc.csv"
    csv.write_text("timestamp_ms,open,high,low,close,volume\n1000,100,110,97,105,8\n61000,105,106,104,105.5,4\n")
    acc = sim.control.create_account(funding={"USDT": "10000", "LTC": "100"})
    http = pybit_http(sim, acc)
    sim.control.start_replay("LTCUSDT", csv_path=str(csv))
    sim.control.advance("LTCUSDT", 0)
    sim.control.set_price("LTCUSDT", "100", category="spot")
    http.place_order(
        category="spot", symbol="LTCUSDT", side="Buy", orderType="Limit", qty="3", price="98", orderLinkId="buy98"
    )
    http.place_order(
        category="spot", symbol="LTCUSDT", side="Sell", orderType="Limit", qty="1", price="109", orderLinkId="sell109"
    )
    r = sim.control.advance("LTCUSDT", 1)
    assert r["index"] == 1 and D(r["prices"]["spot"]) == D("105")
    fills = list(reversed(http.get_executions(category="spot", symbol="LTCUSDT")["result"]["list"]))
    # low (97) comes before high (110); each point carries 8/4 = 2 LTC of volume
    assert [(f["orderLinkId"], D(f["execQty"])) for f in fills] == [("buy98", D("2")), ("sell109", D("1"))]
    buy = http.get_open_orders(category="spot", symbol="LTCUSDT", orderLinkId="buy98")["result"]["list"][0]
    assert buy["orderStatus"] == "PartiallyFilled"
    sim.control.advance("LTCUSDT", 1)  # next candle never goes below 104: the rest waits
    assert (
        D(
            http.get_open_orders(category="spot", symbol="LTCUSDT", orderLinkId="buy98")["result"]["list"][0][
                "leavesQty"
            ]
        )
        == 1
    )
    r = sim.control.advance("LTCUSDT", 1)  # the data loops: candle 0 again
    assert r["index"] == 1
    assert (
        http.get_open_orders(category="spot", symbol="LTCUSDT", orderLinkId="buy98")["result"]["list"][0]["orderStatus"]
        == "Filled"
    )


def test_timed_replay_runs_and_stops(sim):
    before = sim.control.status()["replays"]
    assert "ETHUSDT" not in before
    sim.control.start_replay("ETHUSDT", speed=6000)  # 100 candles per second
    wait_for(lambda: sim.control.status()["replays"]["ETHUSDT"]["index"] >= 10, timeout=5)
    sim.control.stop_replay("ETHUSDT")
    idx = sim.control.status()["replays"]["ETHUSDT"]["index"]
    time.sleep(0.1)
    assert sim.control.status()["replays"]["ETHUSDT"]["index"] == idx


def test_ftx_perp_path_converts_notional_volume(sim):
    r = sim.control.start_replay(
        "BTCUSDT", csv_path=str(BTC_PERP_2022), categories=["linear"]
    )
    assert r["volume_in_quote"] is True
    spot_before = sim.control.price("BTCUSDT", "spot")
    out = sim.control.advance("BTCUSDT", 1)
    assert D(out["prices"]["linear"]) == D("46377.0")  # first FTX candle's close
    assert D(out["prices"]["spot"]) == spot_before  # spot keeps its own feed


def test_ticker_24h_statistics_follow_the_replayed_window(sim, account):
    http = pybit_http(sim, account)
    sim.control.start_replay("BTCUSDT", start=1621382400000)  # 2021-05-19 00:00 UTC
    sim.control.advance("BTCUSDT", 1440)  # the whole crash day
    t = http.get_tickers(category="spot", symbol="BTCUSDT")["result"]["list"][0]
    assert D(t["lowPrice24h"]) == D("30000")  # Binance's low of 19 May 2021
    assert D(t["highPrice24h"]) > D("42000") and D(t["volume24h"]) > 10000
    assert D(t["price24hPcnt"]) < 0
