"""State survives a restart: accounts, keys, balances, open orders and their locks, fills, positions, replay cursor."""

from __future__ import annotations

from decimal import Decimal as D

from exchanges.simulator.testing import running_simulator

from .helpers import pybit_http


def test_restart_keeps_state(tmp_path):
    state = tmp_path / "state.sqlite3"
    with running_simulator(state_path=str(state)) as sim:
        sim.control.set_price("BTCUSDT", "50000")
        acc = sim.control.create_account(funding={"USDT": "5000"})
        http = pybit_http(sim, acc)
        http.place_order(
            category="spot",
            symbol="BTCUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.01",
            price="49000",
            orderLinkId="keep",
        )
        http.place_order(
            category="spot",
            symbol="BTCUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.01",
            price="45000",
            orderLinkId="rest",
        )
        sim.control.set_price("BTCUSDT", "48000")
        http.place_order(category="linear", symbol="ETHUSDT", side="Sell", orderType="Market", qty="0.5")
        sim.control.start_replay("ETHUSDT")
        sim.control.advance("ETHUSDT", 3)
        before = sim.control.ledger(acc.uid)
        eth_price = sim.control.price("ETHUSDT")
        sim.restart()
        after = sim.control.ledger(acc.uid)
        assert after["balances"] == before["balances"] and after["locked"] == {"USDT": "450"}
        assert [e["execId"] for e in after["executions"]] == [e["execId"] for e in before["executions"]]
        assert after["positions"] == before["positions"]
        assert sim.control.price("ETHUSDT") == eth_price
        # the same key still works, the resting order still fills, the link id is still taken
        o = http.get_open_orders(category="spot", symbol="BTCUSDT", orderLinkId="rest")["result"]["list"][0]
        assert o["orderStatus"] == "New"
        sim.control.set_price("BTCUSDT", "44000")
        o = http.get_open_orders(category="spot", symbol="BTCUSDT", orderLinkId="rest")["result"]["list"][0]
        assert o["orderStatus"] == "Filled"
        r = http.place_order(
            category="spot",
            symbol="BTCUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.01",
            price="40000",
            orderLinkId="new",
        )
        assert int(r["result"]["orderId"]) > int(o["orderId"])  # ids keep increasing
        # the replay continues where it stopped
        idx = sim.control.advance("ETHUSDT", 1)["index"]
    with running_simulator(state_path=str(state)) as sim2:
        assert sim2.control.advance("ETHUSDT", 1)["index"] == idx + 1
        assert D(sim2.control.ledger(acc.uid)["balances"]["BTC"]) == D("0.01998")  # two 0.01 buys minus 0.1 % fees
