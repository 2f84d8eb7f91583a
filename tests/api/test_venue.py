"""Issue 12, "the venue shown everywhere": every bot and every fill says which exchange it is on
(code and name, from the bot's exchange account), the bots and trades lists and the CSV export
filter by `?venue=`, an unknown venue is a 400 that says so, and another user's rows never show."""

from __future__ import annotations

import csv
import io

import pytest

from exchanges.models import Exchange
from tests.api.conftest import make_trading_bot
from tests.factories import BotFactory, ExchangeAccountFactory, OrderFactory, TradeFactory

pytestmark = pytest.mark.django_db


def on(user, code: str, **bot):
    """A bot of `user` on the venue `code` with one fill."""
    account = ExchangeAccountFactory(user=user, exchange=Exchange.objects.get(code=code))
    made = BotFactory(user=user, exchange_account=account, **bot)
    TradeFactory(order=OrderFactory(bot=made, side="Buy", status="filled"))
    return made


@pytest.fixture
def two_venues(user, other_user):
    bybit = on(user, "bybit", name="On Bybit")
    okx = on(user, "okx", name="On OKX", symbol="ETHUSDT")
    on(other_user, "okx", name="Theirs on OKX")
    return bybit, okx


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_bots_and_fills_carry_their_venue(owner_client, two_venues):
    bybit, okx = two_venues
    listed = {b["id"]: (b["venue"], b["venue_name"]) for b in results(owner_client.get("/api/bots/"))}
    assert listed == {bybit.pk: ("bybit", "Bybit"), okx.pk: ("okx", "OKX")}
    detail = owner_client.get(f"/api/bots/{okx.pk}/").json()
    assert (detail["venue"], detail["venue_name"]) == ("okx", "OKX")
    fills = {t["bot"]: (t["venue"], t["venue_name"]) for t in results(owner_client.get("/api/trades/"))}
    assert fills == {bybit.pk: ("bybit", "Bybit"), okx.pk: ("okx", "OKX")}


def test_venue_filter_on_bots_trades_and_export_never_shows_another_user(owner_client, two_venues):
    bybit, okx = two_venues
    assert [b["id"] for b in results(owner_client.get("/api/bots/?venue=okx"))] == [okx.pk]
    assert [b["id"] for b in results(owner_client.get("/api/bots/?venue=OKX"))] == [okx.pk]  # any case
    assert [t["bot"] for t in results(owner_client.get("/api/trades/?venue=bybit"))] == [bybit.pk]
    assert [t["bot"] for t in results(owner_client.get("/api/trades/?venue=okx"))] == [okx.pk]
    assert results(owner_client.get("/api/trades/?venue=kucoin")) == []  # a venue without accounts: nothing
    export = owner_client.get("/api/trades/export.csv?venue=okx")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(export).decode())))
    assert [(int(r["bot"]), r["venue"], r["venue_name"]) for r in rows] == [(okx.pk, "okx", "OKX")]


@pytest.mark.parametrize("url", ["/api/bots/", "/api/trades/", "/api/trades/export.csv"])
@pytest.mark.parametrize("value", ["kraken", "x" * 300, "okx\x00", "okx,bybit"])
def test_unknown_venue_is_400_that_names_the_field(owner_client, two_venues, url, value):
    response = owner_client.get(url, {"venue": value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "venue" in body["fields"]
    assert "valid choice" in body["fields"]["venue"][0]


def test_unknown_venue_message_is_in_russian_by_default(owner_client, two_venues):
    body = owner_client.get("/api/trades/?venue=kraken").json()
    assert "Выберите корректный вариант" in body["fields"]["venue"][0]


def test_venue_costs_no_query_per_row(owner_client, user, django_assert_max_num_queries):
    for i in range(4):
        make_trading_bot(user, n_cycles=1)
        on(user, "okx" if i % 2 else "mexc")
    with django_assert_max_num_queries(6):  # as before the venue: it is a join of the same query
        bots = results(owner_client.get("/api/bots/"))
    assert len(bots) == 8 and {b["venue"] for b in bots} == {"bybit", "okx", "mexc"}
    with django_assert_max_num_queries(3):  # user, the page of fills (no count, no per-row venue)
        trades = results(owner_client.get("/api/trades/?page_size=100"))
    assert len(trades) == 16 and all(t["venue"] for t in trades)
    with django_assert_max_num_queries(7):
        dashboard = owner_client.get("/api/dashboard/").json()
    assert {t["venue_name"] for t in dashboard["latest_trades"]} <= {"Bybit", "OKX", "MEXC"}
    assert all(b["venue_name"] for b in dashboard["bots"])
