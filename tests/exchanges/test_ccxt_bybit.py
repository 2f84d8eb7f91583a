"""ccxt's bybit client on the Bybit twin: the endpoints it needs beyond pybit's (coin info,
transaction log, margin mode, the unified flag, empty inverse and option categories) answer."""

from __future__ import annotations

import ccxt

from exchanges.adapters.ccxt_adapter import rewrite_urls


def test_ccxt_bybit_trades_on_the_bybit_twin(simulator, sim_account):
    simulator.control.set_price("BTCUSDT", "50000")
    ex = ccxt.bybit(
        {
            "apiKey": sim_account.api_key,
            "secret": sim_account.api_secret,
            "enableRateLimit": False,
            "options": {"brokerId": ""},
        }
    )
    ex.urls = rewrite_urls(ex.urls, simulator.base_url)
    ex.session.trust_env = False
    markets = ex.load_markets()  # spot, linear, then inverse and option (empty) + coin info
    assert {"BTC/USDT", "BTC/USDT:USDT"} <= set(markets) and "USDT" in ex.currencies
    assert ex.fetch_balance()["total"]["USDT"] == 10000
    order = ex.create_order("BTC/USDT", "limit", "buy", 0.01, 49000, {"clientOrderId": "cb1"})
    assert [o["clientOrderId"] for o in ex.fetch_open_orders("BTC/USDT")] == ["cb1"]
    ex.cancel_order(order["id"], "BTC/USDT")
    ex.create_order("BTC/USDT", "market", "sell", 0.01, None, {"clientOrderId": "cb2"})
    assert [t["side"] for t in ex.fetch_my_trades("BTC/USDT")] == ["sell"]
    ex.set_leverage(5, "BTC/USDT:USDT")
    ex.set_margin_mode("cross", "BTC/USDT:USDT")
    ex.create_order("BTC/USDT:USDT", "market", "buy", 0.01, None, {"clientOrderId": "cb3"})
    [position] = [p for p in ex.fetch_positions(["BTC/USDT:USDT"]) if p["contracts"]]
    assert position["side"] == "long" and position["leverage"] == 5
    ledger = ex.fetch_ledger("USDT")
    assert ledger and {row["currency"] for row in ledger} == {"USDT"}
    assert ex.privateGetV5UserQueryApi()["result"]["unified"] == 1
    refused = ex.privatePostV5AccountSetMarginMode({"setMarginMode": "ISOLATED_MARGIN"})["result"]["reasons"]
    assert refused and refused[0]["reasonCode"] == "3400045"  # the twin keeps accounts on cross margin
    ex.create_order("BTC/USDT:USDT", "market", "sell", 0.01, None, {"clientOrderId": "cb4", "reduceOnly": True})
