"""Funding of linear positions: each settlement charges position size × mark × rate, a long pays a
positive rate and a short receives it, the wallet moves by exactly that, and the settlement is a
`Funding` row of /v5/execution/list (and a SETTLEMENT row of the transaction log) as on Bybit."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from .helpers import pybit_http

EXECUTION_KEYS = {
    "symbol", "orderId", "orderLinkId", "side", "orderPrice", "orderQty", "leavesQty", "createType", "orderType",
    "stopOrderType", "execFee", "execId", "execPrice", "execQty", "execType", "execValue", "execTime",
    "feeCurrency", "isMaker", "feeRate", "tradeIv", "markIv", "markPrice", "indexPrice", "underlyingPrice",
    "blockTradeId", "closedSize", "execPnl", "seq", "extraFees",
}  # fmt: skip


def usdt(http) -> D:
    return D(
        http.get_wallet_balance(accountType="UNIFIED", coin="USDT")["result"]["list"][0]["coin"][0]["walletBalance"]
    )


def funding_rows(http, **kw) -> list[dict]:
    return http.get_executions(category="linear", symbol="BTCUSDT", execType="Funding", **kw)["result"]["list"]


@pytest.fixture
def long_and_short(sim):
    """A 0.02 BTC long and a 0.01 BTC short opened at 50,000 (market, taker)."""
    sim.control.set_price("BTCUSDT", "50000")
    out = []
    for side, qty in (("Buy", "0.02"), ("Sell", "0.01")):
        acc = sim.control.create_account(funding={"USDT": "1000"})
        http = pybit_http(sim, acc)
        http.place_order(category="linear", symbol="BTCUSDT", side=side, orderType="Market", qty=qty)
        out.append((acc, http))
    return out


def test_a_settlement_charges_the_long_and_pays_the_short_on_the_wire(sim, long_and_short):
    (long_acc, long_http), (short_acc, short_http) = long_and_short
    sim.control.set_price("BTCUSDT", "51000")
    before = (usdt(long_http), usdt(short_http))
    settled = sim.control.settle_funding("BTCUSDT", rate="0.0001")
    assert settled["rate"] == "0.0001" and len(settled["executions"]) >= 2

    # long 0.02 × 51,000 × 0.0001 = 0.102 paid; short 0.01 × 51,000 × 0.0001 = 0.051 received
    assert usdt(long_http) == before[0] - D("0.102")
    assert usdt(short_http) == before[1] + D("0.051")

    (row,) = funding_rows(long_http)
    assert set(row) == EXECUTION_KEYS
    assert row["execType"] == "Funding" and row["orderLinkId"] == "" and row["orderType"] == "UNKNOWN"
    assert (row["execFee"], row["feeRate"], row["execQty"], row["execPrice"]) == ("0.102", "0.0001", "0.02", "51000")
    assert row["execValue"] == "1020" and row["side"] == "Buy" and row["isMaker"] is False
    (short_row,) = funding_rows(short_http)
    assert (short_row["execFee"], short_row["side"], short_row["execQty"]) == ("-0.051", "Sell", "0.01")
    # the id is stable: asked again (or with a start time), the same row
    assert funding_rows(long_http, startTime=int(row["execTime"]))[0]["execId"] == row["execId"]
    # a trade listing without execType still shows it (as Bybit does); the position is untouched
    all_rows = long_http.get_executions(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert [r["execType"] for r in all_rows] == ["Funding", "Trade"]
    pos = long_http.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert (pos["size"], pos["avgPrice"]) == ("0.02", "50000")
    # the transaction log shows it as a settlement
    log = long_http.get_transaction_log(accountType="UNIFIED")["result"]["list"]
    settlement = [r for r in log if r["type"] == "SETTLEMENT"]
    assert [(r["funding"], r["change"], r["tradeId"]) for r in settlement] == [("0.102", "-0.102", row["execId"])]


def test_a_negative_rate_pays_the_long_and_the_ticker_shows_the_rate(sim, long_and_short):
    (_, long_http), (_, short_http) = long_and_short
    before = (usdt(long_http), usdt(short_http))
    sim.control.settle_funding("BTCUSDT", rate="-0.0003")
    # long 0.02 × 50,000 × 0.0003 = 0.3 received; short 0.01 × 50,000 × 0.0003 = 0.15 paid
    assert (usdt(long_http), usdt(short_http)) == (before[0] + D("0.3"), before[1] - D("0.15"))
    assert funding_rows(long_http)[0]["execFee"] == "-0.3"
    ticker = long_http.get_tickers(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert ticker["fundingRate"] == "-0.0003"


def test_a_flat_account_pays_nothing(sim, account):
    http = pybit_http(sim, account)
    before = usdt(http)
    sim.control.settle_funding("BTCUSDT", rate="0.01")
    assert funding_rows(http) == [] and usdt(http) == before


def test_replay_settles_at_each_8_hour_mark_of_market_time(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("SETKA_SIMULATOR_DATA", str(tmp_path))
    csv = tmp_path / "btc.csv"
    eight = 8 * 3600 * 1000
    rows = [(eight - 120_000, "50000"), (eight - 60_000, "50000"), (eight, "50000"), (eight + 60_000, "50000")]
    csv.write_text("timestamp_ms,open,high,low,close,volume\n" + "".join(f"{t},{p},{p},{p},{p},1\n" for t, p in rows))
    sim.control.set_price("BTCUSDT", "50000")
    acc = sim.control.create_account(funding={"USDT": "1000"})
    http = pybit_http(sim, acc)
    http.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01")
    sim.control.settle_funding("BTCUSDT", rate="0.0002")
    assert len(funding_rows(http)) == 1
    sim.control.start_replay("BTCUSDT", csv_path=str(csv), categories=["linear"])
    sim.control.advance("BTCUSDT", 2)  # 07:58 and 07:59: still the same funding period
    assert len(funding_rows(http)) == 1
    sim.control.advance("BTCUSDT", 1)  # 08:00: a settlement at the current rate
    rows_now = funding_rows(http)
    assert len(rows_now) == 2 and rows_now[0]["execFee"] == "0.1"  # 0.01 × 50,000 × 0.0002
    sim.control.advance("BTCUSDT", 1)
    assert len(funding_rows(http)) == 2


def test_funding_is_kept_across_a_restart(tmp_path):
    from exchanges.simulator.testing import running_simulator

    state = str(tmp_path / "sim.sqlite3")
    with running_simulator(state_path=state) as sim:
        sim.control.set_price("BTCUSDT", "50000")
        acc = sim.control.create_account(funding={"USDT": "1000"})
        pybit_http(sim, acc).place_order(
            category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01"
        )
        sim.control.settle_funding("BTCUSDT", rate="0.0005")
    with running_simulator(state_path=state) as sim:
        http = pybit_http(sim, acc)
        assert [r["execFee"] for r in funding_rows(http)] == ["0.25"]
        assert http.get_tickers(category="linear", symbol="BTCUSDT")["result"]["list"][0]["fundingRate"] == "0.0005"


def test_control_refuses_a_spot_only_symbol_or_a_wild_rate(sim):
    from exchanges.simulator.control import ControlError

    with pytest.raises(ControlError, match="rate"):
        sim.control.settle_funding("BTCUSDT", rate="2")
    with pytest.raises(ControlError, match="rate"):
        sim.control.settle_funding("BTCUSDT", rate="NaN")
