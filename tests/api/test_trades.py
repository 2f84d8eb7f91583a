"""Trades list (filters, keyset pagination), CSV export (same selection, streamed), dashboard,
per-user metrics and throttling."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal as D

import pytest

from tests.api.conftest import T0, make_trading_bot
from tests.factories import OrderFactory, TradeFactory

pytestmark = pytest.mark.django_db


def csv_rows(response):
    assert response.status_code == 200, response.content
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response).decode())))


def walk(client, url):
    rows, pages = [], 0
    while url:
        body = client.get(url).json()
        rows.extend(body["results"])
        url = body["next"]
        pages += 1
    return rows, pages


def test_trade_list_walks_every_trade_once_newest_first_even_with_equal_times(owner_client, user, trading_bot):
    # Ten more fills at the very same instant: the (executed_at, id) key must still split them.
    order = OrderFactory(bot=trading_bot, side="Buy", level=1, status="filled")
    same = T0 + timedelta(hours=3)
    for _ in range(10):
        TradeFactory(order=order, qty=D("0.001"), executed_at=same)
    rows, pages = walk(owner_client, "/api/trades/?page_size=3")
    assert len(rows) == 17 and pages == 6
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == 17
    keys = [(r["executed_at"], r["id"]) for r in rows]
    assert keys == sorted(keys, reverse=True)
    # previous from the 3rd page returns the 2nd page exactly
    first = owner_client.get("/api/trades/?page_size=3").json()
    second = owner_client.get(first["next"]).json()
    third = owner_client.get(second["next"]).json()
    back = owner_client.get(third["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in second["results"]]


def test_trade_filters_and_money_strings(owner_client, user, trading_bot):
    other_bot = make_trading_bot(user, symbol="ETHUSDT", n_cycles=1, start=T0 + timedelta(days=2))
    rows, _ = walk(owner_client, f"/api/trades/?bot={other_bot.pk}&page_size=500")
    assert len(rows) == 3 and {r["symbol"] for r in rows} == {"ETHUSDT"}
    sells, _ = walk(owner_client, "/api/trades/?symbol=btcusdt&side=Sell&page_size=500")
    assert len(sells) == 3 and all(r["realized_pnl"] == "8.98051" and r["fee"] == "0.50949" for r in sells)
    window, _ = walk(owner_client, "/api/trades/?date_from=2026-11-01T12:00:00Z&date_to=2026-11-01T12:02:00Z")
    assert [r["executed_at"] for r in window] == ["2026-11-01T12:01:00Z", "2026-11-01T12:00:00Z"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=yesterday", "date_from"),
        ("date_from=2026-11-02T00:00:00Z&date_to=2026-11-01T00:00:00Z", "date_to"),
        ("side=Hold", "side"),
        ("bot=abc", "bot"),
        ("cursor=%%%", "cursor"),
        ("page_size=0", "page_size"),
    ],
)
def test_trade_bad_input_is_400_with_field(owner_client, trading_bot, query, field):
    response = owner_client.get(f"/api/trades/?{query}")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    if field != "cursor" and field != "page_size":
        export = owner_client.get(f"/api/trades/export.csv?{query}")
        assert export.status_code == 400 and field in export.json()["fields"]


def test_csv_export_is_the_same_selection(owner_client, user, trading_bot, monkeypatch):
    import trading.export

    monkeypatch.setattr(trading.export, "CHUNK", 2)  # several chunks even for a few rows
    make_trading_bot(user, symbol="ETHUSDT", n_cycles=1)
    rows = csv_rows(owner_client.get("/api/trades/export.csv?symbol=BTCUSDT"))
    assert rows[0] == [
        "id", "bot", "symbol", "side", "price", "qty", "fee", "fee_coin", "realized_pnl", "executed_at",
        "venue", "venue_name",
    ]
    listed, _ = walk(owner_client, "/api/trades/?symbol=BTCUSDT&page_size=500")
    assert [int(r[0]) for r in rows[1:]] == [t["id"] for t in listed]
    sell = next(r for r in rows[1:] if r[3] == "Sell")
    assert sell[4:9] == ["51000", "0.00999", "0.50949", "USDT", "8.98051"]
    assert sell[10:] == ["bybit", "Bybit"]


def test_dashboard_and_user_metrics(owner_client, user, trading_bot):
    stopped = make_trading_bot(user, symbol="ETHUSDT", status="stopped", n_cycles=1)
    body = owner_client.get("/api/dashboard/").json()
    assert [b["id"] for b in body["bots"]] == [trading_bot.pk]  # active bots only
    assert body["bots"][0]["metrics"]["grid_profit"] == "26.94153"
    assert len(body["latest_trades"]) == 10
    assert body["positions"] == [
        {
            "bot_id": trading_bot.pk,
            "bot_name": trading_bot.name,
            "symbol": "BTCUSDT",
            "category": "spot",
            "base_position": "0.00999",
            "cost_basis": "500",
            "average_price": "50050.05005005005",
            "last_price": "52000",
            "unrealized_pnl": "19.48",
        }
    ]
    totals = body["totals"]
    # invested/current value of the active bot; profits of both (the stopped one: 1 cycle + lot).
    assert totals["invested"] == "1000"
    assert totals["current_value"] == "1046.42153"
    assert totals["grid_profit"] == str(D("26.94153") + D("8.98051"))
    assert totals["total_pnl"] == str(D("46.42153") + D("8.98051") + D("19.48"))
    assert totals["roi_percent"] == "3.7441"  # 74.88204 / 2000
    assert totals["bot_count"] == 2 and totals["active_bot_count"] == 1
    assert owner_client.get("/api/metrics/").json() == totals
    assert stopped.pk not in [b["id"] for b in body["bots"]]


def test_export_is_throttled_with_retry_after(owner_client, trading_bot, monkeypatch):
    from apicommon.api import UserScopedRateThrottle

    monkeypatch.setitem(UserScopedRateThrottle.THROTTLE_RATES, "export", "2/min")
    for _ in range(2):
        assert owner_client.get("/api/trades/export.csv").status_code == 200
    response = owner_client.get("/api/trades/export.csv")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"
    # Other endpoints are not affected by the export scope.
    assert owner_client.get("/api/trades/").status_code == 200


def test_ip_throttle_applies_across_users(owner_client, stranger_client, trading_bot, monkeypatch):
    from apicommon.api import IPRateThrottle

    monkeypatch.setitem(IPRateThrottle.THROTTLE_RATES, "ip", "3/min")
    assert owner_client.get("/api/bots/").status_code == 200
    assert owner_client.get("/api/bots/").status_code == 200
    assert stranger_client.get("/api/bots/").status_code == 200
    response = stranger_client.get("/api/bots/")
    assert response.status_code == 429 and "Retry-After" in response
