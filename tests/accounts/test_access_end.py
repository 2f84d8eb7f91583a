"""Every path that takes trading access away stops the user's bots (issue 9, item 1): an
operator revoking a grant (Access grants -> Revoke), revoking a user's access, deactivating the
user (action or the "active" box); all go through accounts.services.user_access_end."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from accounts import services
from bots.models import Bot
from bots.services import bot_start, bot_tick
from tests.bots.conftest import ledger_open_ids, paper, sim, sim_settings  # noqa: F401 - fixtures
from tests.factories import DEFAULT_PASSWORD, BotFactory, UserFactory, grid_config
from trading.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    client.operator = operator
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_revoking_a_redeemed_grant_in_admin_stops_the_bots_and_cancels_their_orders(
    paper,  # noqa: F811
    sim,  # noqa: F811
    admin_client,
    django_capture_on_commit_callbacks,
):
    account, acc = paper
    grant = services.user_access_grant(user=account.user, operator=admin_client.operator)
    bot = BotFactory(user=account.user, exchange_account=account, config=grid_config())
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    assert len(ledger_open_ids(sim, acc.uid)) == 10  # trading on the exchange

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = admin_client.post(
            "/admin/accounts/accessgrant/", {"action": "revoke", "_selected_action": [grant.pk]}, follow=True
        )
    assert response.status_code == 200
    bot.refresh_from_db()
    account.user.refresh_from_db()
    assert not account.user.has_trading_access
    assert bot.status == Bot.Status.STOPPING and "Access revoked" in bot.stop_reason
    assert queued  # the stop tick went to the worker
    text = " ".join(_messages(response))
    assert "1 grant(s) revoked" in text and "being stopped" in text and "keep running" not in text

    bot_tick(bot_id=bot.pk)  # what the worker does with it
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED
    assert ledger_open_ids(sim, acc.uid) == []
    assert not Order.objects.filter(bot=bot, status__in=Order.OPEN_STATUSES).exists()


def test_revoking_an_unused_grant_touches_nobody(admin_client):
    grant = services.access_grant_issue(operator=admin_client.operator)
    bystander_bot = BotFactory(status=Bot.Status.RUNNING)
    response = admin_client.post(
        "/admin/accounts/accessgrant/", {"action": "revoke", "_selected_action": [grant.pk]}, follow=True
    )
    assert "1 grant(s) revoked." in _messages(response)
    bystander_bot.refresh_from_db()
    assert bystander_bot.status == Bot.Status.RUNNING


def test_revoke_trading_access_action_stops_bots_and_says_so(admin_client, django_capture_on_commit_callbacks):
    owner, other = UserFactory(), UserFactory()
    running = BotFactory(user=owner, status=Bot.Status.RUNNING)
    errored = BotFactory(user=owner, status=Bot.Status.ERROR)
    untouched = BotFactory(user=other, status=Bot.Status.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/accounts/user/", {"action": "revoke_access", "_selected_action": [owner.pk]}, follow=True
        )
    [message] = _messages(response)
    assert "Access revoked for 1 user(s)" in message and "2 running bot(s) are being stopped" in message
    assert "keep running" not in message
    for bot in (running, errored, untouched):
        bot.refresh_from_db()
    assert running.status == errored.status == Bot.Status.STOPPING
    assert errored.next_restart_at is None  # no automatic restart of a bot whose owner lost access
    assert untouched.status == Bot.Status.RUNNING


def test_unticking_active_in_the_user_form_deactivates(admin_client, django_capture_on_commit_callbacks):
    from accounts.models import RefreshToken
    from accounts.tokens import tokens_issue

    owner = UserFactory(language="en")
    bot = BotFactory(user=owner, status=Bot.Status.RUNNING)
    tokens_issue(user=owner)
    profile = owner.profile
    form = {
        "email": owner.email,
        "language": "en",
        # "is_active" left out: the box is unticked
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": str(profile.pk),
        "profile-0-user": str(owner.pk),
        "profile-0-phone": "",
        "profile-0-theme": "system",
        "profile-0-notify_email": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/accounts/user/{owner.pk}/change/", form, follow=True)
    assert response.status_code == 200
    owner.refresh_from_db()
    bot.refresh_from_db()
    assert owner.is_active is False
    assert bot.status == Bot.Status.STOPPING and "deactivated" in bot.stop_reason
    assert not RefreshToken.objects.filter(user=owner, revoked_at__isnull=True).exists()
    assert any("deactivated" in m and "being stopped" in m for m in _messages(response))


def test_deactivate_action_logs_out_and_stops(admin_client, django_capture_on_commit_callbacks):
    from tests.accounts.conftest import SpaClient

    owner = UserFactory()
    bot = BotFactory(user=owner, status=Bot.Status.STARTING)
    spa = SpaClient()
    assert spa.post("/api/auth/login/", {"email": owner.email, "password": DEFAULT_PASSWORD}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/accounts/user/", {"action": "deactivate", "_selected_action": [owner.pk]})
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPING
    assert spa.get("/api/auth/me/").status_code == 401
    assert spa.post("/api/auth/refresh/").status_code == 401
    # The operator cannot deactivate themselves by accident.
    admin_client.post("/admin/accounts/user/", {"action": "deactivate", "_selected_action": [admin_client.operator.pk]})
    admin_client.operator.refresh_from_db()
    assert admin_client.operator.is_active


def test_plan_expiry_and_every_other_path_use_the_one_service(monkeypatch):
    """Later paths (a plan that expires) call the same service: it stops bots and closes sockets."""
    from accounts.services import access

    calls = []
    monkeypatch.setattr(access, "user_sockets_close", lambda **kw: calls.append(kw))
    owner = UserFactory()
    bot = BotFactory(user=owner, status=Bot.Status.RUNNING)
    assert services.user_access_end(user=owner, reason=services.AccessEndReason.PLAN_EXPIRED) == 1
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPING and bot.stop_reason == "The plan expired"
    assert calls == [{"user_id": owner.pk, "code": 4403, "reason": "plan_expired"}]
    # Idempotent: nothing left to stop the second time.
    assert services.user_access_end(user=owner, reason=services.AccessEndReason.PLAN_EXPIRED) == 0
