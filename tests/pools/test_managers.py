"""Only approved managers publish pools: a user applies on /pools (their record from fills of
record is shown beside), an operator approves, rejects or revokes in admin (who and when is
kept), anyone else is refused with a 403 in words. Revoking suspends the manager's open pools:
followers' bots stop and they are told; their places are kept, they may leave, nobody joins or
adds, and the pool stays suspended until the manager and then the pool are approved again."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.contrib.admin.models import LogEntry
from rest_framework.test import APIClient

from bots.models import Bot
from config.errors import ConflictError
from exchanges.models import ExchangeAccount
from metrics.models import BotMetrics
from notifications.models import Notification
from pools.models import Pool, PoolManager, PoolMember
from pools.services import manager_apply, manager_approve, pool_approve, pool_follow
from tests.api.conftest import cookie_client
from tests.factories import BotFactory, ExchangeAccountFactory, UserFactory
from tests.pools.conftest import make_investor, make_manager

pytestmark = pytest.mark.django_db

PUBLISH = {
    "name": "BTC range",
    "description": "A calm grid.",
    "risk_level": "low",
    "min_investment": "50",
    "max_investment": "1000",
    "performance_fee_percent": "10",
}
EXPERIENCE = "Two years running grid bots on BTC and ETH spot, mostly in ranges."


def test_a_user_who_is_not_an_approved_manager_cannot_publish_and_is_told_why():
    me = UserFactory()
    bot = BotFactory(user=me, status=Bot.Status.RUNNING)
    client = cookie_client(me)
    response = client.post("/api/pools/", {**PUBLISH, "bot": bot.pk}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "pool_manager_not_approved"
    assert response.json()["detail"].startswith("Публиковать пулы могут только одобренные управляющие")
    # said before any field error, and in English for an English profile
    me.language = "en"
    me.save(update_fields=["language"])
    response = cookie_client(me).post("/api/pools/", {"bot": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Only approved pool managers can publish pools")
    # a pending application is not an approval
    manager_apply(user=me, experience=EXPERIENCE)
    assert cookie_client(me).post("/api/pools/", {**PUBLISH, "bot": bot.pk}, format="json").status_code == 403
    assert not Pool.objects.exists()
    anonymous = APIClient()
    assert anonymous.post("/api/pools/", {**PUBLISH, "bot": bot.pk}, format="json").status_code == 401
    assert anonymous.get("/api/pools/manager/").status_code == 401


def test_applying_shows_my_state_and_my_record_from_fills_live_apart_from_paper():
    me = UserFactory()
    live_account = ExchangeAccountFactory(user=me, environment=ExchangeAccount.Environment.MAINNET)
    live = BotFactory(user=me, exchange_account=live_account)
    BotMetrics.objects.create(bot=live, realized_pnl=D("150.25"), unrealized_pnl=D("-0.25"), trade_count=12)
    paper = BotFactory(user=me)
    BotMetrics.objects.create(bot=paper, realized_pnl=D("9999"), trade_count=400)
    BotMetrics.objects.create(bot=BotFactory(), realized_pnl=D("5"), trade_count=3)  # someone else's
    client = cookie_client(me)

    state = client.get("/api/pools/manager/").json()
    assert state["status"] == "none" and state["applied_at"] is None
    assert state["record"]["live"]["bots"] == 1 and state["record"]["live"]["trade_count"] == 12
    assert D(state["record"]["live"]["total_pnl"]) == D("150.00")
    assert state["record"]["paper"]["trade_count"] == 400 and D(state["record"]["paper"]["total_pnl"]) == D("9999")

    short = client.post("/api/pools/manager/", {"experience": "I trade."}, format="json")
    assert short.status_code == 400 and short.json()["code"] == "pool_manager_experience"
    assert "не меньше 20 символов" in short.json()["detail"]
    applied = client.post("/api/pools/manager/", {"experience": EXPERIENCE}, format="json")
    assert applied.status_code == 200 and applied.json()["status"] == "pending"
    assert applied.json()["experience"] == EXPERIENCE
    # another user sees only their own standing
    assert cookie_client(UserFactory()).get("/api/pools/manager/").json()["status"] == "none"


def test_an_operator_approves_in_admin_and_who_and_when_is_kept(admin_client, admin_user):
    me = UserFactory()
    application = manager_apply(user=me, experience=EXPERIENCE)
    response = admin_client.post(
        "/admin/pools/poolmanager/",
        {"action": "manager_approve_action", "_selected_action": [application.pk]},
        follow=True,
    )
    assert response.status_code == 200 and b"1 application(s) approved" in response.content
    application.refresh_from_db()
    assert application.status == PoolManager.Status.APPROVED
    assert application.decided_by == admin_user and application.decided_at is not None
    entry = LogEntry.objects.get(object_id=str(application.pk), user=admin_user)
    assert "Pool manager approved" in entry.get_change_message()
    # now the API lets them publish, and their page says so
    bot = BotFactory(user=me, status=Bot.Status.RUNNING)
    client = cookie_client(me)
    assert client.get("/api/pools/manager/").json()["status"] == "approved"
    assert client.post("/api/pools/", {**PUBLISH, "bot": bot.pk}, format="json").status_code == 201
    # rejecting an approved manager is not a thing: the operator is warned, nothing changes
    response = admin_client.post(
        "/admin/pools/poolmanager/",
        {"action": "manager_reject_action", "_selected_action": [application.pk]},
        follow=True,
    )
    assert b"0 application(s) rejected" in response.content
    assert PoolManager.objects.get(pk=application.pk).status == PoolManager.Status.APPROVED


def test_a_rejected_applicant_may_apply_again_and_an_approved_one_not(admin_client):
    me = UserFactory()
    application = manager_apply(user=me, experience=EXPERIENCE)
    PoolManager.objects.filter(pk=application.pk).update(decision_note="Show a month of live fills first.")
    admin_client.post(
        "/admin/pools/poolmanager/", {"action": "manager_reject_action", "_selected_action": [application.pk]}
    )
    client = cookie_client(me)
    state = client.get("/api/pools/manager/").json()
    assert state["status"] == "rejected" and state["decision_note"] == "Show a month of live fills first."
    again = client.post("/api/pools/manager/", {"experience": EXPERIENCE + " Now three."}, format="json")
    assert again.json()["status"] == "pending" and again.json()["decided_at"] is None
    manager_approve(application=PoolManager.objects.get(user=me), by=UserFactory(is_staff=True))
    response = client.post("/api/pools/manager/", {"experience": EXPERIENCE}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "pool_manager_already"


def test_revoking_a_manager_suspends_their_pools_stops_and_tells_followers(
    admin_client, queued, django_capture_on_commit_callbacks
):
    manager = make_manager()
    lead = BotFactory(user=manager, status=Bot.Status.RUNNING)
    pool = Pool.objects.create(
        manager=manager,
        bot=lead,
        name="Steady BTC",
        description="d",
        risk_level="low",
        min_investment=D("10"),
        max_investment=D("1000"),
        performance_fee_percent=D("20"),
        status=Pool.Status.APPROVED,
        is_paper=True,
    )
    investor = make_investor()
    follower = BotFactory(user=investor, status=Bot.Status.RUNNING, investment=D("100"))
    BotMetrics.objects.create(bot=follower, invested=D("100"))
    member = PoolMember.objects.create(
        pool=pool, investor=investor, exchange_account=follower.exchange_account, bot=follower, amount=D("100"),
        units=D("100"), equity=D("100"), followed_generation=lead.generation,
    )
    other_lead = BotFactory(user=manager, status=Bot.Status.RUNNING)
    pending = Pool.objects.create(
        manager=manager, bot=other_lead, name="Other", description="d", risk_level="low",
        min_investment=D("10"), max_investment=D("100"), performance_fee_percent=D("5"),
    )
    application = PoolManager.objects.get(user=manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/pools/poolmanager/",
            {"action": "manager_revoke_action", "_selected_action": [application.pk]},
            follow=True,
        )
    assert b"1 application(s) revoked" in response.content
    assert PoolManager.objects.get(pk=application.pk).status == PoolManager.Status.REVOKED
    pool.refresh_from_db()
    pending.refresh_from_db()
    assert pool.status == Pool.Status.SUSPENDED and pending.status == Pool.Status.SUSPENDED
    assert pool.status_note == "The manager's approval was revoked."
    assert "2 pool(s) suspended" in LogEntry.objects.get(object_id=str(application.pk)).get_change_message()
    # the follower is told, and the follow pass (queued after commit) stops the follower bot
    told = Notification.objects.get(user=investor, event="pool_suspended")
    assert "Steady BTC" in told.title and told.url == f"/pools/{pool.pk}"
    assert pool.pk in queued["follow"]
    assert pool_follow(pool_id=pool.pk) == {member.pk: "stopped"}
    follower.refresh_from_db()
    assert follower.status in (Bot.Status.STOPPING, Bot.Status.STOPPED)

    # the pool is not open to anyone new, the investor cannot add, but may leave
    client = cookie_client(investor)
    assert APIClient().get(f"/api/pools/{pool.pk}/").status_code == 404
    added = client.post(f"/api/pools/memberships/{member.pk}/amount/", {"amount": "200"}, format="json")
    assert added.status_code == 409 and added.json()["code"] == "pool_not_open"
    memberships = client.get("/api/pools/memberships/").json()
    assert [(m["id"], m["pool_status"]) for m in memberships] == [(member.pk, "suspended")]
    # the manager publishes nothing more, and no operator reopens the pool while revoked
    third = BotFactory(user=manager, status=Bot.Status.RUNNING)
    assert cookie_client(manager).post("/api/pools/", {**PUBLISH, "bot": third.pk}, format="json").status_code == 403
    with pytest.raises(ConflictError):
        pool_approve(pool=pool)
    left = client.post(f"/api/pools/memberships/{member.pk}/leave/", {}, format="json")
    assert left.status_code == 200 and left.json()["status"] == "left"
    # approved again, an operator may reopen the pool
    manager_approve(application=application, by=UserFactory(is_staff=True))
    assert pool_approve(pool=pool).status == Pool.Status.APPROVED


def test_pools_published_before_approvals_keep_their_managers_and_get_their_paper_flag():
    """The data step of migration 0003 (run here on today's models, which have its fields)."""
    from importlib import import_module

    from django.apps import apps

    step = import_module("pools.migrations.0003_pool_managers_and_paper").existing_pools
    live_manager, paper_manager = UserFactory(), UserFactory()
    live_bot = BotFactory(
        user=live_manager, exchange_account=ExchangeAccountFactory(user=live_manager, environment="mainnet")
    )
    paper_bot = BotFactory(user=paper_manager)
    common = {"description": "d", "risk_level": "low", "min_investment": D("1"), "max_investment": D("2"),
              "performance_fee_percent": D("1")}
    live = Pool.objects.create(manager=live_manager, bot=live_bot, name="live", **common)
    paper = Pool.objects.create(manager=paper_manager, bot=paper_bot, name="paper", **common)
    step(apps, None)
    live.refresh_from_db()
    paper.refresh_from_db()
    assert (live.is_paper, paper.is_paper) == (False, True)
    statuses = dict(PoolManager.objects.values_list("user_id", "status"))
    assert statuses == {live_manager.pk: "approved", paper_manager.pk: "approved"}
