"""The bots page's list (issue 9, "stopped bots vanish"): every bot of the user, stopped and
failed ones included, filtered by status, account, venue, symbol and type, paginated; another
user's bots never appear."""

from __future__ import annotations

import pytest

from tests.factories import BotFactory, ExchangeAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(user, other_user):
    spot_account = ExchangeAccountFactory(user=user)
    linear_account = ExchangeAccountFactory(user=user)
    bots = {
        "running": BotFactory(user=user, exchange_account=spot_account, status="running"),
        "stopped": BotFactory(
            user=user, exchange_account=spot_account, status="stopped", stop_reason="Stopped by the user"
        ),
        "error": BotFactory(
            user=user, exchange_account=linear_account, status="error", symbol="ETHUSDT", category="linear"
        ),
        "draft": BotFactory(user=user, exchange_account=linear_account, status="draft", category="linear"),
    }
    BotFactory(user=other_user, status="stopped")
    BotFactory(user=other_user, status="running", symbol="ETHUSDT", category="linear")
    return bots, spot_account, linear_account


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {b["id"] for b in response.json()["results"]}


def test_all_bots_with_history_and_never_another_users(owner_client, fleet):
    bots, *_ = fleet
    body = owner_client.get("/api/bots/").json()
    assert body["count"] == 4
    assert {b["id"] for b in body["results"]} == {b.pk for b in bots.values()}
    stopped = next(b for b in body["results"] if b["id"] == bots["stopped"].pk)
    assert stopped["status"] == "stopped" and stopped["stop_reason"] == "Stopped by the user"


def test_filters_status_account_symbol_type_venue(owner_client, fleet):
    bots, spot_account, linear_account = fleet
    assert ids(owner_client.get("/api/bots/?status=stopped&status=error")) == {bots["stopped"].pk, bots["error"].pk}
    assert ids(owner_client.get(f"/api/bots/?exchange_account={spot_account.pk}")) == {
        bots["running"].pk,
        bots["stopped"].pk,
    }
    assert ids(owner_client.get("/api/bots/?symbol=ethusdt")) == {bots["error"].pk}
    assert ids(owner_client.get("/api/bots/?category=linear")) == {bots["error"].pk, bots["draft"].pk}
    venue = spot_account.exchange.code
    assert ids(owner_client.get(f"/api/bots/?exchange={venue}")) == {b.pk for b in bots.values()}
    assert ids(owner_client.get("/api/bots/?exchange=okx")) == set()
    # a filter never widens to other users: their linear ETHUSDT bot stays invisible
    assert ids(owner_client.get("/api/bots/?category=linear&symbol=ETHUSDT")) == {bots["error"].pk}


def test_bad_filters_answer_400(owner_client, fleet):
    for query in ("category=margin", "status=gone", f"exchange_account={2**70}", "exchange=" + "x" * 40):
        response = owner_client.get(f"/api/bots/?{query}")
        assert response.status_code == 400, query


def test_pages_walk_every_bot_once(owner_client, fleet):
    seen, url = [], "/api/bots/?limit=3"
    while url:
        body = owner_client.get(url).json()
        seen += [b["id"] for b in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 4


def test_another_users_bot_is_404_on_every_new_route(owner_client, other_user):
    theirs = BotFactory(user=other_user, status="stopped")
    for url in (f"/api/bots/{theirs.pk}/restart/preview/", f"/api/bots/{theirs.pk}/restart/"):
        assert owner_client.post(url, {"confirm": True}, format="json").status_code == 404
    assert owner_client.get(f"/api/bots/{theirs.pk}/position/").status_code == 404
