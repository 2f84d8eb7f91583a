"""Bots API: list/filter, detail with metrics, lifecycle through the services, event log and
orders with cursor pagination, metrics and series."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.models import Bot
from tests.factories import BotFactory, ExchangeAccountFactory, grid_config

pytestmark = pytest.mark.django_db


def test_list_and_filters(owner_client, user, trading_bot):
    draft = BotFactory(user=user, symbol="ETHUSDT", exchange_account=ExchangeAccountFactory(user=user))
    body = owner_client.get("/api/bots/").json()
    assert body["count"] == 2
    assert {b["id"] for b in body["results"]} == {trading_bot.pk, draft.pk}
    running = owner_client.get("/api/bots/?status=running").json()["results"]
    assert [b["id"] for b in running] == [trading_bot.pk]
    assert [b["id"] for b in owner_client.get("/api/bots/?symbol=ethusdt").json()["results"]] == [draft.pk]
    by_account = owner_client.get(f"/api/bots/?exchange_account={draft.exchange_account_id}").json()["results"]
    assert [b["id"] for b in by_account] == [draft.pk]


def test_list_bad_filter_is_400_with_field_message(owner_client, trading_bot):
    response = owner_client.get("/api/bots/?status=flying")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "status" in body["fields"]
    response = owner_client.get("/api/bots/?exchange_account=abc")
    assert response.status_code == 400 and "exchange_account" in response.json()["fields"]


def test_detail_has_metrics_as_strings(owner_client, trading_bot):
    body = owner_client.get(f"/api/bots/{trading_bot.pk}/").json()
    assert body["id"] == trading_bot.pk and body["status"] == "running"
    m = body["metrics"]
    # 3 cycles × 8.98051; one lot of 0.00999 BTC bought for 500, valued at 52,000.
    assert m["grid_profit"] == "26.94153"
    assert m["unrealized_pnl"] == "19.48"
    assert m["total_pnl"] == "46.42153"
    assert m["fees"] == "3.52847"
    assert m["trade_count"] == 7 and m["cycle_count"] == 3
    assert m["invested"] == "1000"
    assert m["roi_percent"] == "4.6422"
    assert m["profit_factor"] is None
    assert isinstance(m["days_running"], str) and D(m["days_running"]) > 0
    assert m["grid_apr"] is not None and D(m["grid_apr"]) > 0


def test_metrics_endpoint_matches_detail(owner_client, trading_bot):
    metrics = owner_client.get(f"/api/bots/{trading_bot.pk}/metrics/").json()
    detail = owner_client.get(f"/api/bots/{trading_bot.pk}/").json()["metrics"]
    assert metrics["grid_profit"] == detail["grid_profit"] == "26.94153"
    assert metrics["cycle_count_24h"] == detail["cycle_count_24h"]


def test_series(owner_client, trading_bot):
    body = owner_client.get(f"/api/bots/{trading_bot.pk}/metrics/series/").json()
    assert len(body) == 1
    point = body[0]
    assert point["equity"] == "1046.42153" and point["grid_profit"] == "26.94153" and point["price"] == "52000"
    assert owner_client.get(f"/api/bots/{trading_bot.pk}/metrics/series/?since=2099-01-01T00:00:00Z").json() == []
    bad = owner_client.get(f"/api/bots/{trading_bot.pk}/metrics/series/?limit=0")
    assert bad.status_code == 400 and "limit" in bad.json()["fields"]


def test_events_cursor_pagination_walks_all_once(owner_client, trading_bot):
    seen = []
    url = f"/api/bots/{trading_bot.pk}/events/?page_size=2"
    while url:
        body = owner_client.get(url).json()
        seen.extend(e["id"] for e in body["results"])
        url = body["next"]
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 5
    bad = owner_client.get(f"/api/bots/{trading_bot.pk}/events/?cursor=garbage")
    assert bad.status_code == 400 and "cursor" in bad.json()["fields"]


def test_orders_filters(owner_client, trading_bot):
    base = f"/api/bots/{trading_bot.pk}/orders/"
    active = owner_client.get(base + "?state=active").json()["results"]
    assert sorted(o["status"] for o in active) == ["open", "open"]
    cancelled = owner_client.get(base + "?state=cancelled").json()["results"]
    assert [o["status"] for o in cancelled] == ["cancelled"]
    assert len(owner_client.get(base + "?state=all&page_size=100").json()["results"]) == 10
    sells = owner_client.get(base + "?side=Sell&status=open").json()["results"]
    assert len(sells) == 1 and sells[0]["price"] == "51000" and sells[0]["qty"] == "0.00999"
    bad = owner_client.get(base + "?state=sideways")
    assert bad.status_code == 400 and "state" in bad.json()["fields"]


def test_preview_creates_nothing(owner_client, user, fake_exchange):
    account = ExchangeAccountFactory(user=user)
    payload = {"exchange_account": account.pk, "symbol": "BTCUSDT", "category": "spot", "config": grid_config()}
    response = owner_client.post("/api/bots/preview/", payload, format="json")
    assert response.status_code == 200, response.content
    report = response.json()
    assert len(report["levels"]) == 11 and "blocking" in report and "warnings" in report
    from bots.serializers import ReportSerializer

    required = {name for name, field in ReportSerializer().fields.items() if field.required}
    assert required <= set(report), required - set(report)  # the documented shape is what is served
    assert isinstance(report["qty_per_grid"], str) and isinstance(report["profit_per_grid_min"]["net"], str)
    assert not Bot.objects.exists()


def test_preview_bad_input(owner_client, user, other_user, fake_exchange):
    account = ExchangeAccountFactory(user=user)
    foreign = ExchangeAccountFactory(user=other_user)
    bad_config = grid_config(lower_price="70000")  # above upper_price
    response = owner_client.post(
        "/api/bots/preview/", {"exchange_account": account.pk, "symbol": "BTCUSDT", "config": bad_config}, format="json"
    )
    assert response.status_code == 400 and response.json()["fields"]
    response = owner_client.post(
        "/api/bots/preview/", {"exchange_account": foreign.pk, "symbol": "BTCUSDT", "config": grid_config()}, format="json"
    )
    assert response.status_code == 400 and "exchange_account" in response.json()["fields"]
    response = owner_client.post("/api/bots/preview/", {"symbol": "btc usdt"}, format="json")
    body = response.json()
    assert response.status_code == 400 and {"exchange_account", "symbol", "config"} <= set(body["fields"])


def test_create_then_lifecycle(owner_client, user, fake_exchange):
    account = ExchangeAccountFactory(user=user)
    payload = {
        "name": "My grid",
        "exchange_account": account.pk,
        "symbol": "BTCUSDT",
        "category": "spot",
        "config": grid_config(),
        "accept_warnings": True,
    }
    response = owner_client.post("/api/bots/", payload, format="json")
    assert response.status_code == 201, response.content
    bot = response.json()
    assert bot["status"] == "draft" and bot["name"] == "My grid" and bot["report"]["levels"]
    assert bot["metrics"]["grid_profit"] == "0" and bot["metrics"]["trade_count"] == 0
    bot_id = bot["id"]

    response = owner_client.post(f"/api/bots/{bot_id}/start/")
    assert response.status_code == 202 and response.json()["status"] == "starting"
    response = owner_client.delete(f"/api/bots/{bot_id}/")
    assert response.status_code == 409 and Bot.objects.filter(pk=bot_id).exists()
    response = owner_client.post(f"/api/bots/{bot_id}/stop/", {"close_action": "keep"}, format="json")
    assert response.status_code == 202 and response.json()["status"] == "stopping"
    Bot.objects.filter(pk=bot_id).update(status="stopped")
    response = owner_client.delete(f"/api/bots/{bot_id}/")
    assert response.status_code == 204 and not Bot.objects.filter(pk=bot_id).exists()


def test_create_with_unaccepted_warnings_or_bad_body(owner_client, user, fake_exchange):
    account = ExchangeAccountFactory(user=user)
    # Price 55,000 inside a narrow range with 2 grids: the engine warns; not accepted -> 400.
    fake_exchange.price = D("80000")  # outside the range: a warning the user must accept
    payload = {"name": "x", "exchange_account": account.pk, "symbol": "BTCUSDT", "config": grid_config()}
    response = owner_client.post("/api/bots/", payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("warnings_not_accepted", "report_blocking")
    assert not Bot.objects.exists()
    response = owner_client.post("/api/bots/", {"name": ""}, format="json")
    assert response.status_code == 400 and "name" in response.json()["fields"]


def test_stop_bad_close_action_and_emergency_stop(owner_client, trading_bot, fake_exchange):
    response = owner_client.post(f"/api/bots/{trading_bot.pk}/stop/", {"close_action": "explode"}, format="json")
    assert response.status_code == 400 and "close_action" in response.json()["fields"]
    response = owner_client.post(f"/api/bots/{trading_bot.pk}/emergency-stop/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "stopping"


def test_unsafe_request_without_csrf_is_refused(user, trading_bot):
    from tests.api.conftest import cookie_client

    client = cookie_client(user)
    client.defaults.pop("HTTP_X_CSRFTOKEN")
    response = client.post(f"/api/bots/{trading_bot.pk}/stop/")
    assert response.status_code == 403
    trading_bot.refresh_from_db()
    assert trading_bot.status == "running"


def test_lists_take_a_fixed_number_of_queries(owner_client, user, django_assert_max_num_queries):
    from tests.api.conftest import make_trading_bot

    for i in range(6):
        make_trading_bot(user, n_cycles=1, symbol="BTCUSDT" if i % 2 else "ETHUSDT")
    with django_assert_max_num_queries(6):  # user, count, bots+metrics, 24h cycles (no per-bot query)
        assert len(owner_client.get("/api/bots/").json()["results"]) == 6
    with django_assert_max_num_queries(7):
        body = owner_client.get("/api/dashboard/").json()
    assert len(body["bots"]) == 6 and len(body["positions"]) == 6
