"""Where the product calls notify(): bot starts and errors (from the bot log), billing changes,
the daily digest and keys about to expire. Each is told once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.services.notify import notify_user
from bots.log import bot_event
from bots.models import Bot, BotEvent
from bots.notify import bot_event_notify, digests_send, keys_expiring_notify
from notifications.models import Notification
from tests.factories import BotFactory, ExchangeAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_bot_error_and_a_start_are_told_errors_at_most_every_ten_minutes(
    monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("bots.tasks.bot_event_notify_task.delay", queued.append)
    bot = BotFactory(user=UserFactory(language="en"))
    with django_capture_on_commit_callbacks(execute=True):
        bot_event(bot=bot, kind=BotEvent.Kind.STARTED, message="Started")
        bot_event(bot=bot, kind=BotEvent.Kind.INFO, message="Placed 3 orders")  # not told
        for _ in range(2):
            bot_event(bot=bot, kind=BotEvent.Kind.ERROR, level=BotEvent.Level.ERROR, message="Could not close: timeout",
                      code="close_failed", params={"error": "timeout"})  # fmt: skip
    assert len(queued) == 3
    assert [bot_event_notify(event_id=i) for i in queued] == [True, True, False]
    error = Notification.objects.get(event="bot_error")
    assert (
        error.body
        == f'Bot "{bot.name}" (BTCUSDT): Could not close at market: timeout. The position is left on the exchange'
    )


def test_billing_changes_go_through_notify_once():
    user = UserFactory(language="ru")
    for _ in range(2):
        notify_user(user=user, kind="activated", plan="Старт", until="2026-12-30")
    (note,) = Notification.objects.filter(user=user)
    assert note.event == "billing_activated" and note.title == "Тариф «Старт» активен"


def test_daily_digest_once_a_day_for_users_with_bots():
    user = UserFactory(language="en")
    BotFactory(user=user, status=Bot.Status.RUNNING)
    UserFactory()  # no bots: no digest
    now = timezone.now()
    assert digests_send(now=now) == 1 and digests_send(now=now) == 0
    (note,) = Notification.objects.filter(event="daily_digest")
    assert note.body == "Bots running: 1. Trades in 24 h: 0. Grid profit in 24 h: 0.00 USDT."
    assert digests_send(now=now + timedelta(days=1)) == 1


def test_keys_expiring_within_a_week_are_told_once():
    now = timezone.now()
    soon = ExchangeAccountFactory(label="Main", key_expires_at=now + timedelta(days=3))
    ExchangeAccountFactory(key_expires_at=now + timedelta(days=30))
    assert keys_expiring_notify(now=now) == 1 and keys_expiring_notify(now=now) == 0
    (note,) = Notification.objects.filter(event="key_expiring")
    assert note.user == soon.user and "«Main»" in note.title
