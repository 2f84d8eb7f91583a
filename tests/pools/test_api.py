"""The pools API as people use it: anyone reads the open pools and a pool's page; a signed-in
investor joins with their own account, sees only their own places, changes and leaves them;
another user's membership, a pending pool or another user's bot answers 404/400 in the user's
language, never 500."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from bots.models import Bot
from pools.models import Pool, PoolMember
from tests.api.conftest import cookie_client
from tests.factories import BotFactory, UserFactory, grid_config
from tests.pools.conftest import make_investor, make_manager

pytestmark = pytest.mark.django_db


def make_pool(*, status="approved", manager=None, **bot_kwargs) -> Pool:
    manager = manager or UserFactory()
    bot = BotFactory(user=manager, status=Bot.Status.RUNNING, **bot_kwargs)
    return Pool.objects.create(
        manager=manager,
        bot=bot,
        name="BTC range",
        description="A calm grid.",
        risk_level="low",
        min_investment=D("20"),
        max_investment=D("3000"),
        performance_fee_percent=D("15"),
        status=status,
        is_paper=bot.exchange_account.environment != "mainnet",
    )


def test_anyone_reads_open_pools_and_a_pools_page_but_not_a_pending_one():
    open_pool, pending = make_pool(), make_pool(status="pending")
    anonymous = APIClient()
    listed = anonymous.get("/api/pools/").json()
    assert [p["id"] for p in listed] == [open_pool.pk]
    page = anonymous.get(f"/api/pools/{open_pool.pk}/").json()
    assert page["performance_fee_percent"] == "15.00" and page["lower_price"] == "50000"
    assert set(page["track_record"]) >= {"age_days", "max_drawdown_percent", "profit_factor", "total_pnl"}
    assert page["investors"] == 0 and page["min_investment"] == "20.00000000"
    response = anonymous.get(f"/api/pools/{pending.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    # its manager sees it, with its status
    mine = cookie_client(pending.manager).get("/api/pools/mine/").json()
    assert [(p["id"], p["status"]) for p in mine] == [(pending.pk, "pending")]
    assert cookie_client(pending.manager).get(f"/api/pools/{pending.pk}/").status_code == 200


def test_publishing_needs_your_own_running_bot():
    me = make_manager()
    client = cookie_client(me)
    others = BotFactory(status=Bot.Status.RUNNING)
    body = {
        "bot": others.pk,
        "name": "x",
        "description": "y",
        "risk_level": "low",
        "min_investment": "50",
        "max_investment": "100",
        "performance_fee_percent": "10",
    }
    response = client.post("/api/pools/", body, format="json")
    assert response.status_code == 400 and "bot" in response.json()["fields"]
    mine = BotFactory(user=me, status=Bot.Status.DRAFT)
    response = client.post("/api/pools/", {**body, "bot": mine.pk}, format="json")
    assert (
        response.status_code == 409 and response.json()["detail"] == "Опубликовать пулом можно только работающего бота."
    )
    Bot.objects.filter(pk=mine.pk).update(status=Bot.Status.RUNNING)
    response = client.post("/api/pools/", {**body, "bot": mine.pk, "max_investment": "10"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "pool_bad_limits"
    response = client.post("/api/pools/", {**body, "bot": mine.pk}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "pending"
    assert response.json()["is_paper"] is True  # the factory's account is a paper one
    assert client.post("/api/pools/", [body], format="json").status_code == 400  # a list body


def test_memberships_are_each_investors_own():
    pool = make_pool()
    alice, bob = make_investor(), make_investor()
    follower = BotFactory(user=alice, status=Bot.Status.RUNNING)
    member = PoolMember.objects.create(
        pool=pool,
        investor=alice,
        exchange_account=follower.exchange_account,
        bot=follower,
        amount=D("100"),
        units=D("100"),
    )
    alice_client, bob_client = cookie_client(alice), cookie_client(bob)
    assert [m["id"] for m in alice_client.get("/api/pools/memberships/").json()] == [member.pk]
    assert bob_client.get("/api/pools/memberships/").json() == []
    for path, body in (
        (f"/api/pools/memberships/{member.pk}/amount/", {"amount": "200"}),
        (f"/api/pools/memberships/{member.pk}/leave/", {}),
    ):
        response = bob_client.post(path, body, format="json")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    member.refresh_from_db()
    assert member.status == "active" and member.amount == D("100")
    assert bob_client.get("/api/pools/earnings/").json() == {"total": "0.00000000", "accrued": "0.00000000", "fees": []}
    # out of the pool's limits: said in the user's language
    response = alice_client.post(f"/api/pools/memberships/{member.pk}/amount/", {"amount": "5"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "pool_amount_out_of_range"
    assert response.json()["detail"] == "Укажите сумму между минимальной и максимальной суммой пула."


def test_joining_through_the_api_on_the_simulator(paper_account, queued):
    manager = UserFactory()
    lead_account, _ = paper_account(manager)
    pool = make_pool(exchange_account=lead_account, manager=manager, config=grid_config(), investment=D("1000"))
    Bot.objects.filter(pk=pool.bot_id).update(status=Bot.Status.STOPPED)  # followers wait for the manager
    alice, bob = make_investor(), make_investor()
    a_account, _ = paper_account(alice)
    b_account, _ = paper_account(bob)
    client = cookie_client(alice)
    # someone else's exchange account is not mine to use
    response = client.post(
        f"/api/pools/{pool.pk}/join/", {"exchange_account": b_account.pk, "amount": "300"}, format="json"
    )
    assert response.status_code == 400 and "exchange_account" in response.json()["fields"]
    report = client.post(
        f"/api/pools/{pool.pk}/preview/", {"exchange_account": a_account.pk, "amount": "300"}, format="json"
    )
    assert report.status_code == 200 and report.json()["blocking"] is False
    too_small = client.post(
        f"/api/pools/{pool.pk}/join/",
        {"exchange_account": a_account.pk, "amount": "30", "accept_warnings": True},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert too_small.status_code == 400 and too_small.json()["code"] == "report_blocking"
    assert too_small.json()["detail"] == "С такими настройками бот работать не сможет."  # her profile reads Russian
    assert not Bot.objects.filter(user=alice).exists()
    joined = client.post(
        f"/api/pools/{pool.pk}/join/",
        {"exchange_account": a_account.pk, "amount": "300", "accept_warnings": True},
        format="json",
    )
    assert joined.status_code == 201, joined.content
    assert joined.json()["units"] == "300.00000000" and joined.json()["bot_status"] == "draft"
    again = client.post(
        f"/api/pools/{pool.pk}/join/",
        {"exchange_account": a_account.pk, "amount": "300", "accept_warnings": True},
        format="json",
    )
    assert again.status_code == 409 and again.json()["code"] == "pool_already_member"
    left = client.post(f"/api/pools/memberships/{joined.json()['id']}/leave/", {}, format="json")
    assert left.status_code == 200 and left.json()["status"] == "left" and D(left.json()["units"]) == 0
