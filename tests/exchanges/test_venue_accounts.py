"""Accounts on the other venues, as a user meets them through the API: the registry of offered
exchanges, one-click funded paper accounts on each twin, binding real keys with each venue's
checks (passphrase, trade yes, withdraw no, IP binding, expiry where the venue reveals it) and
market data for the create form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exchanges.models import ExchangeAccount
from tests.exchanges.conftest import CONTROL_TOKEN


@pytest.fixture
def venues(settings, venue_simulators):
    twins = {code: venue_simulators[code] for code in ("okx", "binance", "mexc", "kucoin")}
    settings.SETKA_VENUE_SIMULATOR_URLS = {code: twin.base_url for code, twin in twins.items()}
    # "mainnet" of each venue is its twin here: nothing may leave this machine
    settings.SETKA_VENUE_ENDPOINTS = {code: {"mainnet": twin.base_url} for code, twin in twins.items()}
    settings.SETKA_SIMULATOR_CONTROL_TOKEN = CONTROL_TOKEN
    settings.SETKA_EXCHANGE_TIMEOUT = 2.0
    return twins


def bind(client, venue_code, key, **extra):
    body = {
        "label": f"{venue_code} main",
        "exchange": venue_code,
        "environment": "mainnet",
        "api_key": key.api_key,
        "api_secret": key.api_secret,
        **extra,
    }
    return client.post("/api/exchange-accounts/", body, format="json")


def test_the_registry_offers_bybit_okx_and_binance(user_client, db):
    response = user_client.get("/api/exchanges/")
    assert response.status_code == 200
    by_code = {v["code"]: v for v in response.json()}
    assert set(by_code) == {"bybit", "okx", "binance", "mexc", "kucoin"}
    assert by_code["kucoin"]["categories"] == ["spot"] and by_code["kucoin"]["passphrase_required"]
    assert by_code["kucoin"]["client_id_max_len"] == 40
    assert by_code["mexc"]["categories"] == ["spot"] and "closed" in by_code["mexc"]["futures_note"]
    assert by_code["okx"]["passphrase_required"] and not by_code["binance"]["passphrase_required"]
    assert by_code["okx"]["categories"] == ["spot", "linear"] and by_code["okx"]["client_id_max_len"] == 32
    assert "testnet" in by_code["bybit"]["environments"] and "testnet" not in by_code["okx"]["environments"]


@pytest.mark.parametrize(
    "venue_code, label",
    [("okx", "Paper OKX"), ("binance", "Paper Binance"), ("mexc", "Paper MEXC"), ("kucoin", "Paper KuCoin")],
)
def test_one_click_paper_account_on_each_venue(user_client, venues, venue_code, label):
    response = user_client.post("/api/exchange-accounts/paper/", {"exchange": venue_code}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["exchange"], body["environment"], body["label"]) == (venue_code, "paper", label)
    assert body["balances"] == {"USDT": "10000"} and body["status"] == "active"
    assert "api_secret" not in body and "api_passphrase" not in body
    account = ExchangeAccount.objects.get(pk=body["id"])
    assert bool(account.api_passphrase) is (venue_code in ("okx", "kucoin"))  # stored encrypted, only where used

    category = "spot" if venue_code in ("mexc", "kucoin") else "linear"  # MEXC, KuCoin: spot only
    symbols = user_client.get(f"/api/market/symbols/?account={body['id']}&category={category}").json()
    btc = next(s for s in symbols if s["symbol"] == "BTCUSDT")
    if category == "linear":
        assert btc["tick_size"] == "0.1" and btc["qty_step"] == "0.001" and btc["max_leverage"] == "100"
    else:
        assert btc["tick_size"] == "0.01" and btc["qty_step"] == "0.000001" and btc["max_leverage"] is None
    venues[venue_code].control.set_price("BTCUSDT", "43210.5", category=category)
    ticker = user_client.get(f"/api/market/ticker/?account={body['id']}&category={category}&symbol=BTCUSDT").json()
    assert ticker["last_price"] == "43210.5"
    klines = user_client.get(f"/api/market/klines/?account={body['id']}&symbol=BTCUSDT&interval=60&limit=5").json()
    assert len(klines) == 5 and klines[0]["time"] < klines[-1]["time"]


def test_a_venue_the_operator_switched_off_is_not_offered(user_client, venues):
    from exchanges.models import Exchange

    Exchange.objects.filter(code="kucoin").update(is_active=False)
    response = user_client.post("/api/exchange-accounts/paper/", {"exchange": "kucoin"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "exchange_inactive"


def test_okx_keys_need_their_passphrase(user_client, venues):
    sim = venues["okx"]
    account = sim.control.create_account(funding={"USDT": "250"})
    missing = bind(user_client, "okx", account)
    assert missing.status_code == 400 and "api_passphrase" in missing.json()["fields"]
    wrong = bind(user_client, "okx", account, api_passphrase="not-it")
    assert wrong.status_code == 400 and "passphrase does not match" in wrong.json()["detail"]
    good = bind(user_client, "okx", account, api_passphrase=account.passphrase)
    assert good.status_code == 201, good.content
    assert good.json()["balances"] == {"USDT": "250"} and good.json()["exchange"] == "okx"
    assert ExchangeAccount.objects.get(pk=good.json()["id"]).api_passphrase == account.passphrase


@pytest.mark.parametrize("venue_code", ["okx", "binance", "kucoin"])
@pytest.mark.parametrize(
    "perms, words",
    [
        ({"withdraw": True}, "can withdraw"),
        ({"read_only": True}, "read-only"),
        ({"ip_whitelist": ["203.0.113.9"]}, None),  # refused: the twin sees 127.0.0.1
    ],
)
def test_unusable_keys_are_refused_and_never_stored(user_client, venues, venue_code, perms, words):
    sim = venues[venue_code]
    uid = sim.control.create_account(funding={"USDT": "100"}).uid
    key = sim.control.create_api_key(uid, **perms)
    response = bind(user_client, venue_code, key, api_passphrase=key.passphrase)
    assert response.status_code == 400
    if words:
        assert words in response.json()["detail"]
    assert not ExchangeAccount.objects.exists()


@pytest.mark.parametrize("venue_code", ["okx", "kucoin"])
def test_ip_binding_is_stored_where_the_venue_reveals_it(user_client, venues, venue_code):
    sim = venues[venue_code]
    uid = sim.control.create_account(funding={"USDT": "100"}).uid
    key = sim.control.create_api_key(uid, ip_whitelist=["127.0.0.1"])
    response = bind(user_client, venue_code, key, api_passphrase=key.passphrase)
    assert response.status_code == 201 and response.json()["ip_whitelist"] == ["127.0.0.1"]


def test_kucoin_keys_need_their_passphrase(user_client, venues):
    sim = venues["kucoin"]
    account = sim.control.create_account(funding={"USDT": "250"})
    assert "api_passphrase" in bind(user_client, "kucoin", account).json()["fields"]
    wrong = bind(user_client, "kucoin", account, api_passphrase="not-it")
    assert wrong.status_code == 400 and "passphrase does not match" in wrong.json()["detail"]
    good = bind(user_client, "kucoin", account, api_passphrase=account.passphrase)
    assert good.status_code == 201, good.content
    assert good.json()["balances"] == {"USDT": "250"} and good.json()["exchange"] == "kucoin"


def test_binance_trading_expiry_is_read_and_an_expired_key_refused(user_client, venues):
    sim = venues["binance"]
    uid = sim.control.create_account(funding={"USDT": "100"}).uid
    later = datetime.now(UTC) + timedelta(days=30)
    fresh = sim.control.create_api_key(uid, expires_at=later)
    response = bind(user_client, "binance", fresh)
    assert response.status_code == 201
    stored = datetime.fromisoformat(response.json()["key_expires_at"].replace("Z", "+00:00"))
    assert abs((stored - later).total_seconds()) < 1
    old = sim.control.create_api_key(uid, expires_at=datetime.now(UTC) - timedelta(hours=1))
    refused = bind(user_client, "binance", old, label="old")
    assert refused.status_code == 400 and "expired" in refused.json()["detail"]


def test_testnet_is_not_offered_where_the_venue_has_none(user_client, venues):
    account = venues["binance"].control.create_account(funding={"USDT": "1"})
    response = user_client.post(
        "/api/exchange-accounts/",
        {
            "label": "t",
            "exchange": "binance",
            "environment": "testnet",
            "api_key": account.api_key,
            "api_secret": account.api_secret,
        },
        format="json",
    )
    assert response.status_code == 400 and "environment" in response.json()["fields"]
