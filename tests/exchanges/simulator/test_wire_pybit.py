"""Wire shapes as pybit parses them: market data, instrument rules, order queries, batches, account views."""

from __future__ import annotations

from decimal import Decimal as D

from .helpers import pybit_http


def test_instrument_rules_match_bybit(sim, account):
    http = pybit_http(sim, account)
    spot = {i["symbol"]: i for i in http.get_instruments_info(category="spot")["result"]["list"]}
    assert set(spot) == {"BTCUSDT", "ETHUSDT", "LTCUSDT"}
    btc = spot["BTCUSDT"]
    assert btc["priceFilter"]["tickSize"] == "0.01"
    assert btc["lotSizeFilter"]["basePrecision"] == "0.000001" and btc["lotSizeFilter"]["minOrderAmt"] == "5"
    assert spot["ETHUSDT"]["priceFilter"]["tickSize"] == "0.01"
    assert spot["ETHUSDT"]["lotSizeFilter"]["basePrecision"] == "0.00001"
    lin = http.get_instruments_info(category="linear", symbol="BTCUSDT")["result"]
    assert lin["nextPageCursor"] == "" and len(lin["list"]) == 1
    lb = lin["list"][0]
    assert lb["contractType"] == "LinearPerpetual" and lb["settleCoin"] == "USDT"
    assert lb["priceFilter"]["tickSize"] == "0.10" and lb["lotSizeFilter"]["qtyStep"] == "0.001"
    assert lb["lotSizeFilter"]["minNotionalValue"] == "5" and D(lb["leverageFilter"]["maxLeverage"]) == 100
    le = http.get_instruments_info(category="linear", symbol="ETHUSDT")["result"]["list"][0]
    assert le["priceFilter"]["tickSize"] == "0.01" and le["lotSizeFilter"]["qtyStep"] == "0.01"


def test_market_data(sim, account):
    http = pybit_http(sim, account)
    sim.control.set_price("ETHUSDT", "2500.5")
    t = http.get_tickers(category="spot", symbol="ETHUSDT")["result"]["list"][0]
    assert t["lastPrice"] == "2500.5" and D(t["ask1Price"]) > D(t["bid1Price"])
    lt = http.get_tickers(category="linear", symbol="ETHUSDT")["result"]["list"][0]
    assert lt["markPrice"] == "2500.5" and "fundingRate" in lt
    assert len(http.get_tickers(category="linear")["result"]["list"]) == 3
    ob = http.get_orderbook(category="linear", symbol="ETHUSDT")["result"]
    assert ob["s"] == "ETHUSDT" and len(ob["b"]) == 25 and isinstance(ob["ts"], int)
    assert [D(p) for p, _ in ob["b"]] == sorted((D(p) for p, _ in ob["b"]), reverse=True)
    k = http.get_kline(category="spot", symbol="BTCUSDT", interval="5", limit=3)["result"]["list"]
    assert len(k) == 3 and int(k[0][0]) - int(k[1][0]) == 300_000  # newest first, 5-minute buckets
    assert all(D(row[2]) >= max(D(row[1]), D(row[4])) for row in k)
    assert int(http.get_server_time()["result"]["timeSecond"]) > 1_700_000_000


def test_candles_end_at_the_price_the_ticker_shows(sim, account):
    """Without a replay the price comes from the control API; the recent-price chart a user
    sees on the create form must end where the ticker is, not at the data file's last close."""
    http = pybit_http(sim, account)
    sim.control.set_price("BTCUSDT", "61234.5")
    k = http.get_kline(category="spot", symbol="BTCUSDT", interval="1", limit=60)["result"]["list"]
    assert D(k[0][4]) == D("61234.5")
    assert all(D(row[3]) <= D(row[1]) <= D(row[2]) and D(row[3]) <= D(row[4]) <= D(row[2]) for row in k)
    assert all(D(v) % D("0.01") == 0 for row in k for v in row[1:5])  # on the tick
    assert len({row[4] for row in k}) > 10  # still a real market's movement, not a flat line


def test_order_queries_batches_and_history(sim, account):
    http = pybit_http(sim, account)
    sim.control.set_price("BTCUSDT", "50000")
    req = [
        {
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": str(40000 + i),
            "orderLinkId": f"bt{i}",
        }
        for i in range(3)
    ]
    req.append(dict(req[0]))  # duplicate link id: fails alone, the others go through
    r = http.place_batch_order(category="spot", request=req)
    assert [x["code"] for x in r["retExtInfo"]["list"]] == [0, 0, 0, 170141]
    assert all(x["orderId"] for x in r["result"]["list"][:3]) and r["result"]["list"][3]["orderId"] == ""
    page1 = http.get_open_orders(category="spot", symbol="BTCUSDT", limit=2)["result"]
    assert [o["orderLinkId"] for o in page1["list"]] == ["bt2", "bt1"] and page1["nextPageCursor"]
    page2 = http.get_open_orders(category="spot", symbol="BTCUSDT", limit=2, cursor=page1["nextPageCursor"])
    assert [o["orderLinkId"] for o in page2["result"]["list"]] == ["bt0"]
    assert page2["result"]["nextPageCursor"] == ""
    c = http.cancel_batch_order(
        category="spot",
        request=[{"symbol": "BTCUSDT", "orderLinkId": "bt0"}, {"symbol": "BTCUSDT", "orderLinkId": "nope"}],
    )
    assert [x["code"] for x in c["retExtInfo"]["list"]] == [0, 170213]
    hist = http.get_order_history(category="spot", symbol="BTCUSDT", orderStatus="Cancelled")["result"]["list"]
    assert [o["orderLinkId"] for o in hist] == ["bt0"]
    o = hist[0]
    for field in (
        "orderId",
        "price",
        "qty",
        "side",
        "orderStatus",
        "cumExecQty",
        "cumExecFee",
        "avgPrice",
        "leavesQty",
        "timeInForce",
        "orderType",
        "createdTime",
        "updatedTime",
    ):
        assert isinstance(o[field], str), field
    assert isinstance(o["positionIdx"], int) and isinstance(o["reduceOnly"], bool)


def test_account_views(sim, account):
    http = pybit_http(sim, account)
    fees = http.get_fee_rates(category="spot", symbol="BTCUSDT")["result"]["list"][0]
    assert fees == {**fees, "takerFeeRate": "0.001", "makerFeeRate": "0.001"}
    lf = http.get_fee_rates(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert (lf["makerFeeRate"], lf["takerFeeRate"]) == ("0.0002", "0.00055")
    info = http.get_account_info()["result"]
    assert info["marginMode"] == "REGULAR_MARGIN" and info["unifiedMarginStatus"] == 5
    w = http.get_wallet_balance(accountType="UNIFIED", coin="USDT")["result"]["list"][0]
    assert w["accountType"] == "UNIFIED" and [c["coin"] for c in w["coin"]] == ["USDT"]
    assert w["coin"][0]["walletBalance"] == "100000"
    flat = http.get_positions(category="linear", symbol="ETHUSDT")["result"]["list"][0]
    assert flat["side"] == "" and flat["size"] == "0" and flat["leverage"] == "10"
    key = http.get_api_key_information()["result"]
    assert key["apiKey"] == account.api_key and key["readOnly"] == 0 and key["userID"] == account.uid
    assert key["permissions"]["ContractTrade"] == ["Order", "Position"]
