"""The one notification service: once per dedupe key, the user's choices per event and
channel, quiet hours that hold (not drop) messages, retries with backoff and final failures,
a channel registered as a small class, and the in-app list with its unread count."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from accounts.models import OutboxMessage
from notifications import channels
from notifications.channels import FinalSendError, RetryableSendError
from notifications.models import Delivery, Notification, QuietHours
from notifications.services import deliveries_send_due, delivery_send, notify, preferences_set
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
PARAMS = {"bot_id": 7, "bot_name": "Grid A", "symbol": "BTCUSDT", "reason": "Stopped by you"}


class FakeChat:
    """A test channel: remembers what it was asked to send; fails as told."""

    name = "telegram"

    def __init__(self):
        self.sent, self.fail = [], []

    def address(self, user):
        return f"chat-{user.pk}"

    def send(self, message):
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append(message)
        return f"msg-{len(self.sent)}"


@pytest.fixture
def chat(monkeypatch):
    fake = FakeChat()
    monkeypatch.setitem(channels._REGISTRY, "telegram", fake)
    return fake


@pytest.fixture
def user(settings):
    settings.EMAIL_BACKEND = "accounts.mail.OutboxEmailBackend"
    return UserFactory(language="ru")


def _send_all(now=None) -> list[str]:
    return [delivery_send(delivery_id=d.pk, now=now) for d in Delivery.objects.order_by("pk")]


def test_a_notification_is_stored_and_sent_once_per_key(user, chat):
    first = notify(user=user, event="bot_stopped", params=PARAMS, dedupe_key="bot_stopped:7:1")
    again = notify(user=user, event="bot_stopped", params=PARAMS, dedupe_key="bot_stopped:7:1")
    assert first is not None and again is None
    assert first.title == "Бот «Grid A» остановлен" and "Причина: Stopped by you" in first.body
    assert sorted(first.deliveries.values_list("channel", flat=True)) == ["email", "telegram"]
    assert _send_all() == ["sent", "sent"]
    assert _send_all() == ["sent", "sent"]  # a duplicated task sends nothing again
    assert len(chat.sent) == 1 and chat.sent[0].address == f"chat-{user.pk}"
    assert chat.sent[0].url.endswith("/bots/7")
    assert OutboxMessage.objects.filter(recipient=user.email).count() == 1


def test_preferences_per_event_and_channel(user, chat):
    preferences_set(
        user=user,
        preferences=[
            {"event": "bot_stopped", "channel": "email", "enabled": False},
            {"event": "bot_started", "channel": "inapp", "enabled": False},
        ],
    )
    stopped = notify(user=user, event="bot_stopped", params=PARAMS, dedupe_key="a")
    started = notify(user=user, event="bot_started", params=PARAMS, dedupe_key="b")
    assert list(stopped.deliveries.values_list("channel", flat=True)) == ["telegram"]
    assert list(started.deliveries.values_list("channel", flat=True)) == ["telegram"]  # email off by default
    api = APIClient()
    api.force_authenticate(user)
    listed = api.get("/api/notifications/").json()["results"]
    assert [n["event"] for n in listed] == ["bot_stopped"]  # bot_started is not shown in the app


def test_email_master_switch_skips_the_email(user, chat):
    user.profile.notify_email = False
    user.profile.save()
    notify(user=user, event="bot_stopped", params=PARAMS, dedupe_key="a")
    assert sorted(_send_all()) == ["sent", "skipped"]
    assert not OutboxMessage.objects.exists()


def test_quiet_hours_hold_messages_until_morning_but_not_urgent_ones(user, chat):
    QuietHours.objects.create(user=user, enabled=True, start="23:00", end="08:00", timezone="Europe/Moscow")
    night = datetime(2026, 11, 30, 21, 30, tzinfo=UTC)  # 00:30 in Moscow
    notify(user=user, event="bot_stopped", params=PARAMS, dedupe_key="a", now=night)
    notify(user=user, event="bot_error", params={**PARAMS, "error": "timeout"}, dedupe_key="b", now=night)
    assert deliveries_send_due(now=night) == 2  # the error's email and chat go at once
    assert [m.event for m in chat.sent] == ["bot_error"]
    held = Delivery.objects.filter(notification__event="bot_stopped")
    assert {d.next_attempt_at for d in held} == {datetime(2026, 12, 1, 5, 0, tzinfo=UTC)}  # 08:00 Moscow
    assert deliveries_send_due(now=night + timedelta(hours=3)) == 0
    assert deliveries_send_due(now=datetime(2026, 12, 1, 5, 0, tzinfo=UTC)) == 2
    assert [m.event for m in chat.sent] == ["bot_error", "bot_stopped"]


def test_retryable_failures_back_off_then_fail_and_final_ones_stop_at_once(user, chat, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    preferences_set(user=user, preferences=[{"event": "bot_stopped", "channel": "email", "enabled": False}])
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    notify(user=user, event="bot_stopped", params=PARAMS, dedupe_key="a", now=now)
    (delivery,) = Delivery.objects.all()
    chat.fail = [RetryableSendError("429 Too Many Requests")] * 5
    assert delivery_send(delivery_id=delivery.pk, now=now) == "pending"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.next_attempt_at == now + timedelta(minutes=1)
    assert delivery_send(delivery_id=delivery.pk, now=now) == "pending"  # not due yet: not tried
    for step in (1, 6, 36, 156):
        delivery_send(delivery_id=delivery.pk, now=now + timedelta(minutes=step))
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 5 and "429" in delivery.last_error
    assert chat.sent == []

    notify(user=user, event="bot_stopped", params=PARAMS, dedupe_key="b", now=now)
    chat.fail = [FinalSendError("Forbidden: bot was blocked by the user")]
    (second,) = Delivery.objects.filter(notification__dedupe_key="b")
    assert delivery_send(delivery_id=second.pk, now=now) == "failed"
    assert deliveries_send_due(now=now + timedelta(days=1)) == 0


def test_an_unknown_event_is_a_bug_not_a_silent_drop(user):
    with pytest.raises(ValueError):
        notify(user=user, event="no_such_event", params={}, dedupe_key="x")


def test_the_in_app_list_unread_count_and_mark_read_are_the_users_own(user):
    other = UserFactory()
    for i in range(3):
        notify(user=user, event="bot_started", params={**PARAMS, "bot_id": i}, dedupe_key=f"s{i}")
    notify(user=other, event="bot_started", params=PARAMS, dedupe_key="s0")
    api = APIClient()
    api.force_authenticate(user)
    assert api.get("/api/notifications/unread-count/").json() == {"unread": 3}
    rows = api.get("/api/notifications/").json()["results"]
    assert len(rows) == 3 and rows[0]["title"] == "Бот «Grid A» запущен"
    others = list(Notification.objects.filter(user=other).values_list("pk", flat=True))
    assert api.post("/api/notifications/read/", {"ids": [rows[0]["id"], *others]}, format="json").json() == {
        "marked": 1,
        "unread": 2,
    }
    assert Notification.objects.get(user=other).read_at is None
    assert api.post("/api/notifications/read/", {}, format="json").json()["unread"] == 0


def test_preferences_api_round_trip_and_refuses_nonsense(user):
    api = APIClient()
    api.force_authenticate(user)
    state = api.get("/api/notifications/preferences/").json()
    assert {"event": "daily_digest", "channel": "email", "enabled": False} in state["preferences"]
    body = {
        "preferences": [{"event": "daily_digest", "channel": "email", "enabled": True}],
        "quiet_hours": {"enabled": True, "start": "22:30", "end": "07:00", "timezone": "Asia/Yekaterinburg"},
    }
    state = api.put("/api/notifications/preferences/", body, format="json").json()
    assert {"event": "daily_digest", "channel": "email", "enabled": True} in state["preferences"]
    assert state["quiet_hours"] == {"enabled": True, "start": "22:30", "end": "07:00", "timezone": "Asia/Yekaterinburg"}
    bad = api.put(
        "/api/notifications/preferences/",
        {"quiet_hours": {**body["quiet_hours"], "timezone": "Mars/Olympus"}},
        format="json",
    )
    assert bad.status_code == 400
    bad = api.put(
        "/api/notifications/preferences/",
        {"preferences": [{"event": "x", "channel": "email", "enabled": True}]},
        format="json",
    )
    assert bad.status_code == 400
