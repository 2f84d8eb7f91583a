"""Anonymous -> 401 everywhere; another user's ids -> 404 on every id-bearing route (never 403,
never their data)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ID_ROUTES = [
    ("get", "/api/bots/{id}/"),
    ("delete", "/api/bots/{id}/"),
    ("post", "/api/bots/{id}/start/"),
    ("post", "/api/bots/{id}/stop/"),
    ("post", "/api/bots/{id}/emergency-stop/"),
    ("get", "/api/bots/{id}/events/"),
    ("get", "/api/bots/{id}/orders/"),
    ("get", "/api/bots/{id}/metrics/"),
    ("get", "/api/bots/{id}/metrics/series/"),
]
LIST_ROUTES = [
    ("get", "/api/bots/"),
    ("post", "/api/bots/"),
    ("post", "/api/bots/preview/"),
    ("get", "/api/trades/"),
    ("get", "/api/trades/export.csv"),
    ("get", "/api/dashboard/"),
    ("get", "/api/metrics/"),
]


@pytest.mark.parametrize(("method", "path"), ID_ROUTES + LIST_ROUTES)
def test_anonymous_gets_401(api_client, trading_bot, method, path):
    response = getattr(api_client, method)(path.format(id=trading_bot.pk), format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
def test_other_users_bot_is_404_and_untouched(stranger_client, trading_bot, method, path):
    status_before = trading_bot.status
    response = getattr(stranger_client, method)(path.format(id=trading_bot.pk), format="json")
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    trading_bot.refresh_from_db()
    assert trading_bot.status == status_before


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
def test_missing_bot_is_404(owner_client, trading_bot, method, path):
    response = getattr(owner_client, method)(path.format(id=trading_bot.pk + 10_000), format="json")
    assert response.status_code == 404


def test_lists_never_show_another_users_rows(owner_client, trading_bot, stranger_bot):
    bots = owner_client.get("/api/bots/").json()["results"]
    assert [b["id"] for b in bots] == [trading_bot.pk]
    trades = owner_client.get("/api/trades/?page_size=500").json()["results"]
    assert trades and {t["bot"] for t in trades} == {trading_bot.pk}
    # Filtering by the stranger's bot id gives nothing, not their trades.
    assert owner_client.get(f"/api/trades/?bot={stranger_bot.pk}").json()["results"] == []
    csv_body = b"".join(owner_client.get(f"/api/trades/export.csv?bot={stranger_bot.pk}"))
    assert csv_body.decode().strip().count("\n") == 0  # header only
    dashboard = owner_client.get("/api/dashboard/").json()
    assert [b["id"] for b in dashboard["bots"]] == [trading_bot.pk]
    assert {t["bot"] for t in dashboard["latest_trades"]} == {trading_bot.pk}


def test_expired_or_forged_cookie_is_401(api_client, trading_bot):
    api_client.cookies["setka_access"] = "forged.token.value"
    response = api_client.get("/api/bots/")
    assert response.status_code == 401
