"""Each venue's own ccxt client, pointed at its twin with keys from the control API, does what a
grid bot needs: load markets, read balances, place, read, cancel and fill orders, read its
trades, and (futures) open and close a position. Plus: a ccxt instance built by Setka's factory
has no URL left that leaves this machine, carries no ccxt broker id, and refuses a foreign host."""

from __future__ import annotations

import decimal
from urllib.parse import urlsplit

import ccxt
import pytest

from exchanges import errors
from exchanges.adapters.ccxt_adapter import LOOPBACK_HOSTS, build_exchange, rewrite_urls, urls_of
from exchanges.venues import CCXT_VENUES, venue
from tests.exchanges.conftest import make_venue_client

CCXT_BROKER_IDS = ("x-TKT5PX2F", "x-cvBPrNm9", "x-xcKtGhcu", "6b9ad766b55dBCDE", "CCXT", "ccxt")


@pytest.fixture(autouse=True)
def _own_decimal_context():
    """These tests call the venues' unmodified ccxt clients directly, and ccxt leaves the thread's
    decimal context at half-up rounding with Underflow trapped (our adapter keeps that inside
    each call). Keep it inside each test here too, so later tests in this process start clean."""
    with decimal.localcontext():
        yield


def own_client(sim, account, **options):
    """The venue's ccxt client as a user of ccxt would set it up, every URL on the twin."""
    spec = venue(sim.venue)
    exchange = getattr(ccxt, spec.ccxt_id)(
        {
            "apiKey": account.api_key,
            "secret": account.api_secret,
            "password": account.passphrase,
            "enableRateLimit": False,
            "timeout": 5000,
            "options": options,
        }
    )
    exchange.urls = rewrite_urls(exchange.urls, sim.base_url)
    exchange.session.trust_env = False
    return exchange


@pytest.fixture(params=["okx", "binance", "mexc", "kucoin"])
def twin(request, venue_simulators):
    sim = venue_simulators[request.param]
    sim.control.set_price("BTCUSDT", "50000")
    account = sim.control.create_account(funding={"USDT": "10000", "BTC": "1"})
    options = {
        "okx": {"fetchMarkets": {"types": ["spot", "swap"]}},
        "binance": {"fetchMarkets": {"types": ["spot", "linear"]}},
        "mexc": {},
        "kucoin": {"uta": False, "fetchMarkets": {"types": ["spot"]}},  # hf left to ccxt: it asks the twin
    }[request.param]
    yield sim, account, own_client(sim, account, **options)
    # the market is shared by every account of the twin: leave no resting order behind
    client = make_venue_client(sim, account)
    for category in client.spec.categories:
        client.cancel_all(category=category, symbol="BTCUSDT")


def test_the_venues_own_client_trades_spot_on_its_twin(twin):
    sim, account, ex = twin
    markets = ex.load_markets()
    assert {"BTC/USDT", "ETH/USDT"} <= set(markets)
    assert ("BTC/USDT:USDT" in markets) is (sim.venue not in ("mexc", "kucoin"))  # spot-only venues
    assert ex.fetch_balance()["total"]["USDT"] == 10000
    order = ex.create_order("BTC/USDT", "limit", "buy", 0.01, 49000, {"clientOrderId": "wire1"})
    fetched = ex.fetch_order(order["id"], "BTC/USDT")
    assert fetched["status"] == "open" and fetched["clientOrderId"] == "wire1"  # MEXC's create answer omits it
    assert [o["id"] for o in ex.fetch_open_orders("BTC/USDT")] == [order["id"]]
    assert ex.fetch_balance()["used"]["USDT"] == 490
    ex.cancel_order(order["id"], "BTC/USDT")
    assert ex.fetch_order(order["id"], "BTC/USDT")["status"] == "canceled"
    assert ex.fetch_open_orders("BTC/USDT") == []

    resting = ex.create_order("BTC/USDT", "limit", "buy", 0.01, 49500, {"clientOrderId": "wire2"})
    sim.control.set_price("BTCUSDT", "49400", volume="1")  # the market crosses the resting buy
    filled = ex.fetch_order(resting["id"], "BTC/USDT")
    assert filled["status"] == "closed" and filled["filled"] == 0.01 and filled["average"] == 49500
    ex.create_order("BTC/USDT", "market", "sell", 0.005, None, {"clientOrderId": "wire3"})
    trades = ex.fetch_my_trades("BTC/USDT")
    assert [(t["side"], t["amount"], t["takerOrMaker"]) for t in trades] == [
        ("buy", 0.01, "maker"),
        ("sell", 0.005, "taker"),
    ]
    assert trades[0]["fee"]["currency"] == "BTC" and trades[1]["fee"]["currency"] == "USDT"
    balance = ex.fetch_balance()["total"]
    assert balance["BTC"] == pytest.approx(1 + 0.01 - 0.00001 - 0.005)
    ledger = sim.control.ledger(account.uid)
    assert [e["orderLinkId"] for e in ledger["executions"]] == ["wire2", "wire3"]


def test_the_venues_own_client_opens_and_closes_a_position(twin):
    sim, account, ex = twin
    if sim.venue in ("mexc", "kucoin"):
        pytest.skip("MEXC's futures API is closed to regular users; KuCoin Futures is a separate API")
    ex.load_markets()
    params = {"marginMode": "cross"} if sim.venue == "okx" else {}
    ex.set_leverage(5, "BTC/USDT:USDT", {"mgnMode": "cross"} if sim.venue == "okx" else {})
    amount = 1 if sim.venue == "okx" else 0.01  # OKX swaps trade in contracts of 0.01 BTC
    ex.create_order("BTC/USDT:USDT", "market", "buy", amount, None, params | {"clientOrderId": "pos1"})
    [position] = [p for p in ex.fetch_positions(["BTC/USDT:USDT"]) if p["contracts"]]
    assert position["side"] == "long" and position["contracts"] == amount and position["entryPrice"] == 50000
    ledger = sim.control.ledger(account.uid)
    assert [(p["symbol"], p["size"], p["side"]) for p in ledger["positions"] if p["size"] != "0"] == [
        ("BTCUSDT", "0.01", "Buy")
    ]
    sim.control.set_price("BTCUSDT", "51000")
    ex.create_order(
        "BTC/USDT:USDT", "market", "sell", amount, None, params | {"clientOrderId": "pos2", "reduceOnly": True}
    )
    assert not [p for p in ex.fetch_positions(["BTC/USDT:USDT"]) if p["contracts"]]
    closing = [t for t in ex.fetch_my_trades("BTC/USDT:USDT") if t["side"] == "sell"]
    assert len(closing) == 1 and closing[0]["price"] == 51000
    pnl = sum(float(e["execPnl"]) for e in sim.control.ledger(account.uid)["executions"])
    assert pnl == pytest.approx(10.0)  # 0.01 BTC x 1000 USDT


def test_the_venues_errors_reach_ccxt_as_its_own_codes(twin):
    sim, account, ex = twin
    ex.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("BTC/USDT", "limit", "buy", 5, 49000, {"clientOrderId": "big1"})
    # ccxt's own mapping of MEXC's -2011 is BadRequest, of its -2010 the generic ExchangeError
    with pytest.raises(ccxt.BadRequest if sim.venue == "mexc" else ccxt.OrderNotFound):
        ex.cancel_order("1", "BTC/USDT")
    ex.create_order("BTC/USDT", "limit", "buy", 0.01, 49000, {"clientOrderId": "dup1"})
    with pytest.raises(ccxt.ExchangeError if sim.venue == "mexc" else ccxt.InvalidOrder):  # 51016, -2010
        ex.create_order("BTC/USDT", "limit", "buy", 0.01, 49000, {"clientOrderId": "dup1"})
    wrong = own_client(
        sim, type("K", (), {"api_key": account.api_key, "api_secret": "nope", "passphrase": account.passphrase})()
    )
    wrong.markets, wrong.markets_by_id = ex.markets, ex.markets_by_id
    with pytest.raises(ccxt.AuthenticationError):
        wrong.fetch_balance()


def test_binance_lists_the_order_types_its_client_insists_on(venue_simulators):
    sim = venue_simulators["binance"]
    ex = own_client(sim, type("K", (), {"api_key": "", "api_secret": "", "passphrase": ""})())
    info = ex.publicGetExchangeInfo({"symbol": "BTCUSDT"})
    [symbol] = info["symbols"]
    assert {"LIMIT", "MARKET", "LIMIT_MAKER"} <= set(symbol["orderTypes"])
    assert {f["filterType"] for f in symbol["filters"]} >= {"PRICE_FILTER", "LOT_SIZE", "NOTIONAL"}


@pytest.mark.parametrize("code", CCXT_VENUES)
def test_a_factory_built_instance_has_only_loopback_urls_and_no_ccxt_broker_id(code):
    spec = venue(code)
    ex = build_exchange(spec, api_key="k", api_secret="s", passphrase="p", base_url="http://127.0.0.1:9", timeout=1)
    urls = urls_of(ex.urls)
    assert urls and all(urlsplit(u).hostname in LOOPBACK_HOSTS for u in urls), urls
    assert "{hostname}" not in str(ex.urls)
    options = str(ex.options)
    assert not any(broker in options for broker in CCXT_BROKER_IDS), options


def test_the_factory_gives_ccxt_venues_a_loopback_instance(settings):
    from exchanges.factory import client_for_keys

    settings.SETKA_VENUE_SIMULATOR_URLS = {"okx": "http://127.0.0.1:9", "binance": "http://127.0.0.1:9"}
    for code in ("okx", "binance"):
        client = client_for_keys(environment="paper", api_key="k", api_secret="s", exchange=code, passphrase="p")
        assert all(urlsplit(u).hostname == "127.0.0.1" for u in urls_of(client.exchange.urls))
    # a real account with no configured endpoint would use the venue's hosts: refused here
    with pytest.raises(errors.InvalidRequest) as info:
        client_for_keys(environment="mainnet", api_key="k", api_secret="s", exchange="okx", passphrase="p")
    assert info.value.code == "host_not_allowed"


def test_a_request_to_a_foreign_host_is_refused_before_any_socket(monkeypatch):
    import socket

    def no_sockets(*args, **kwargs):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "create_connection", no_sockets)
    monkeypatch.setattr(socket, "getaddrinfo", no_sockets)
    ex = build_exchange(venue("binance"), api_key="k", api_secret="s", base_url="http://127.0.0.1:9", timeout=1)
    with pytest.raises(ccxt.ExchangeNotAvailable, match="not an allowed host"):
        ex.fetch("https://api.binance.com/api/v3/time")


def test_run_simulator_serves_a_venue(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import requests

    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_simulator",
            "--venue",
            "okx",
            "--port",
            "0",
            "--state",
            "",
            "--control-token",
            "venue-token",
            "--replay",
            "",
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ},
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("OKX v5 simulator on http://127.0.0.1:"), line
        base = line.split()[4]
        s = requests.Session()
        s.trust_env = False
        assert s.get(f"{base}/api/v5/public/time", timeout=5).json()["code"] == "0"
        created = s.post(
            f"{base}/control/accounts",
            json={"funding": {"USDT": "5"}},
            timeout=5,
            headers={"Authorization": "Bearer venue-token"},
        ).json()
        assert created["venue"] == "okx" and created["passphrase"]
        assert s.get(f"{base}/v5/market/time", timeout=5).status_code == 404  # one dialect per port
    finally:
        proc.terminate()
        proc.wait(10)
