"""The exchange-accounts and market-data API (docs/api-contract.md): owner, other user (404),
anonymous (401), bad input (400), exchange down (503); keys never come back."""

from __future__ import annotations

import json

import pytest

from exchanges.models import ExchangeAccount
from tests.factories import ExchangeAccountFactory, UserFactory


@pytest.fixture
def endpoints(paper_settings, simulator):
    paper_settings.SETKA_BYBIT_ENDPOINTS = {"testnet": (simulator.base_url, simulator.ws_url)}
    return paper_settings


@pytest.fixture
def paper(user_client, endpoints):
    response = user_client.post("/api/exchange-accounts/paper/", {"label": "Practice"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_anonymous_gets_401(api_client, db):
    for path in ("/api/exchange-accounts/", "/api/market/symbols/?account=1"):
        assert api_client.get(path).status_code == 401
    assert api_client.post("/api/exchange-accounts/", {}, format="json").status_code == 401


def test_bind_keys_and_list_them_masked(user_client, endpoints, sim_account):
    response = user_client.post(
        "/api/exchange-accounts/",
        {
            "label": "Main",
            "environment": "testnet",
            "api_key": sim_account.api_key,
            "api_secret": sim_account.api_secret,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["api_key_hint"] == f"{sim_account.api_key[:4]}…{sim_account.api_key[-4:]}"
    assert body["status"] == "active" and body["can_withdraw"] is False and body["exchange"] == "bybit"
    assert body["balances"]["USDT"] == "10000"
    listed = user_client.get("/api/exchange-accounts/")
    assert listed.status_code == 200 and [a["id"] for a in listed.json()["results"]] == [body["id"]]
    detail = user_client.get(f"/api/exchange-accounts/{body['id']}/")
    for resp in (response, listed, detail):
        text = resp.content.decode()
        assert sim_account.api_key not in text and sim_account.api_secret not in text
        assert "api_secret" not in text and '"api_key"' not in text


def test_withdraw_key_is_refused_with_the_reason(user_client, endpoints, simulator, sim_account):
    key = simulator.control.create_api_key(sim_account.uid, withdraw=True)
    response = user_client.post(
        "/api/exchange-accounts/",
        {"label": "Main", "environment": "testnet", "api_key": key.api_key, "api_secret": key.api_secret},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "This key can withdraw funds. Create a key without the Withdraw permission."
    assert key.api_secret not in response.content.decode()
    assert not ExchangeAccount.objects.exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"label": "x", "environment": "moon", "api_key": "k", "api_secret": "s"}, "environment"),
        ({"label": "x", "environment": "testnet", "api_secret": "s"}, "api_key"),
        ({"environment": "testnet", "api_key": "k", "api_secret": "s"}, "label"),
        ({"label": "x", "environment": "paper", "api_key": "k", "api_secret": "s"}, "environment"),
    ],
)
def test_bad_input_is_400_with_field_messages(user_client, db, payload, field):
    response = user_client.post("/api/exchange-accounts/", payload, format="json")
    assert response.status_code == 400 and field in response.json()["fields"]


def test_user_without_access_gets_403(endpoints, sim_account, db):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(UserFactory(access_granted_at=None, language="en"))  # reads English
    response = client.post("/api/exchange-accounts/", {
        "label": "Main", "environment": "testnet", "api_key": sim_account.api_key,
        "api_secret": sim_account.api_secret}, format="json")
    assert response.status_code == 403 and "trading access" in response.json()["detail"]
    assert client.post("/api/exchange-accounts/paper/", {}, format="json").status_code == 403


def test_other_user_gets_404_everywhere(other_client, paper):
    pk = paper["id"]
    assert other_client.get(f"/api/exchange-accounts/{pk}/").status_code == 404
    assert other_client.patch(f"/api/exchange-accounts/{pk}/", {"label": "mine"}, format="json").status_code == 404
    assert other_client.delete(f"/api/exchange-accounts/{pk}/").status_code == 404
    assert other_client.post(f"/api/exchange-accounts/{pk}/revalidate/").status_code == 404
    assert other_client.get(f"/api/market/ticker/?account={pk}&symbol=BTCUSDT").status_code == 404
    assert other_client.get("/api/exchange-accounts/").json()["results"] == []
    assert ExchangeAccount.objects.get(pk=pk).label == "Practice"


def test_rename_revalidate_delete(user_client, paper):
    pk = paper["id"]
    assert paper["environment"] == "paper" and paper["balances"] == {"USDT": "10000"}
    response = user_client.patch(f"/api/exchange-accounts/{pk}/", {"label": "Renamed"}, format="json")
    assert response.status_code == 200 and response.json()["label"] == "Renamed"
    assert user_client.patch(f"/api/exchange-accounts/{pk}/", {"label": ""}, format="json").status_code == 400
    response = user_client.post(f"/api/exchange-accounts/{pk}/revalidate/")
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert user_client.delete(f"/api/exchange-accounts/{pk}/").status_code == 204
    assert user_client.get(f"/api/exchange-accounts/{pk}/").status_code == 404


def test_duplicate_label_is_400(user_client, paper):
    response = user_client.post("/api/exchange-accounts/paper/", {"label": "Practice"}, format="json")
    assert response.status_code == 400 and "label" in response.json()["fields"]


def test_delete_refused_while_a_bot_runs(user_client, paper):
    from tests.factories import BotFactory

    account = ExchangeAccount.objects.get(pk=paper["id"])
    BotFactory(user=account.user, exchange_account=account, status="running")
    response = user_client.delete(f"/api/exchange-accounts/{paper['id']}/")
    assert response.status_code == 409 and ExchangeAccount.objects.filter(pk=paper["id"]).exists()


def test_market_data_through_the_account(user_client, paper, simulator):
    simulator.control.set_price("BTCUSDT", "50123.45")
    pk = paper["id"]
    symbols = user_client.get(f"/api/market/symbols/?account={pk}&category=spot")
    assert symbols.status_code == 200
    btc = next(s for s in symbols.json() if s["symbol"] == "BTCUSDT")
    assert btc == {
        "symbol": "BTCUSDT",
        "base_coin": "BTC",
        "quote_coin": "USDT",
        "tick_size": "0.01",
        "qty_step": "0.000001",
        "min_qty": "0.000048",
        "min_notional": "5",
        "max_leverage": None,
    }
    ticker = user_client.get(f"/api/market/ticker/?account={pk}&category=spot&symbol=BTCUSDT").json()
    assert ticker["last_price"] == "50123.45" and isinstance(ticker["bid_price"], str)
    klines = user_client.get(f"/api/market/klines/?account={pk}&symbol=BTCUSDT&interval=1&limit=3").json()
    assert len(klines) == 3 and klines[0]["time"] < klines[1]["time"] < klines[2]["time"]
    assert all(isinstance(k["close"], str) for k in klines)


@pytest.mark.parametrize(
    "query, field",
    [
        ("symbol=BTCUSDT", "account"),
        ("account={pk}&symbol=btc usdt", "symbol"),
        ("account={pk}&symbol=BTCUSDT&category=option", "category"),
        ("account={pk}&symbol=BTCUSDT&interval=7", "interval"),
        ("account={pk}&symbol=BTCUSDT&limit=0", "limit"),
        ("account={pk}&symbol=NOPEUSDT", "symbol"),
    ],
)
def test_market_bad_input_is_400(user_client, paper, query, field):
    path = "/api/market/klines/?" + query.format(pk=paper["id"])
    response = user_client.get(path)
    assert response.status_code == 400, response.content
    assert field in response.json().get("fields", {})


def test_exchange_down_is_503(user_client, paper, paper_settings):
    paper_settings.SETKA_SIMULATOR_URL = "http://127.0.0.1:9"
    paper_settings.SETKA_EXCHANGE_TIMEOUT = 0.3
    response = user_client.get(f"/api/market/ticker/?account={paper['id']}&symbol=BTCUSDT")
    assert response.status_code == 503 and "not answering" in response.json()["detail"]


def test_undecryptable_account_is_listed_but_never_used(user_client, db, settings):
    settings.ENCRYPTION_KEYS = ["key-a"]
    account = ExchangeAccountFactory(user=user_client.user)
    settings.ENCRYPTION_KEYS = ["key-b"]
    listed = user_client.get("/api/exchange-accounts/")
    assert listed.status_code == 200 and listed.json()["results"][0]["id"] == account.pk
    response = user_client.get(f"/api/market/ticker/?account={account.pk}&symbol=BTCUSDT")
    assert response.status_code == 409
    assert user_client.get(f"/api/exchange-accounts/{account.pk}/").json()["status"] == "undecryptable"
    assert "gAAAA" not in json.dumps(listed.json())
