"""Stop notifications: whatever stopped the bot, its owner gets one email, in their language,
sent by a Celery task after the stop is committed (the outbox in development and tests)."""

from __future__ import annotations

import pytest

from accounts.models import OutboxMessage
from bots.models import Bot
from bots.notify import bot_stop_notify
from bots.services import (
    bot_emergency_stop,
    bot_start,
    bot_stop,
    bot_tick,
    bots_stop_all,
    bots_stop_for_user,
    stop_run_continue,
    stop_run_get,
)
from tests.factories import BotFactory, UserFactory, grid_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch, settings):
    """The notify tasks queued after commit (ticks queued by the stop are not run here); mail
    goes to the outbox as in development."""
    settings.EMAIL_BACKEND = "accounts.mail.OutboxEmailBackend"
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr("bots.tasks.bot_stop_notify_task.delay", lambda *args: calls.append(args))
    monkeypatch.setattr("bots.tasks.bot_tick_task.apply_async", lambda *a, **k: None)
    return calls


def _emails(user) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(channel="email", recipient=user.email).order_by("id"))


def _launch(account, capture, **config) -> Bot:
    bot = BotFactory(user=account.user, exchange_account=account, config=grid_config(**config))
    with capture(execute=True):
        bot_start(bot=bot)
        bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, bot.last_error
    return bot


def _run_queued(queued) -> int:
    sent = 0
    for bot_id, generation in queued:
        sent += bot_stop_notify(bot_id=bot_id, generation=generation)
    return sent


def _stop_by(how: str, bot: Bot, sim):
    operator = UserFactory(is_staff=True, is_superuser=True)
    if how == "user":
        bot_stop(bot=bot, user=bot.user)
    elif how == "emergency":
        bot_emergency_stop(bot=bot, actor=bot.user)
    elif how == "operator":
        bot_emergency_stop(bot=bot, actor=operator, reason=f"Emergency stop by operator {operator}")
    elif how == "halt":
        bots_stop_all(actor=operator, reason="exchange incident")
        stop_run_continue(run_id=stop_run_get().id)  # the worker's part of the run
    elif how == "access_revoked":
        bots_stop_for_user(user=bot.user, reason="Access revoked")
    elif how == "take_profit":
        sim.control.set_price("BTCUSDT", "58600")
    bot_tick(bot_id=bot.pk)
    bot_tick(bot_id=bot.pk)


RU_REASONS = {
    "user": "Остановлен вами",
    "emergency": "Экстренная остановка",
    "operator": "Остановлен операторами",
    "halt": "Торговля приостановлена операторами",
    "access_revoked": "Ваш доступ к торговле отозван",
    "take_profit": "Достигнут тейк-профит",
}


@pytest.mark.parametrize("how", list(RU_REASONS))
def test_every_kind_of_stop_emails_the_owner_once_in_russian(
    how, paper, sim, queued, django_capture_on_commit_callbacks
):
    account, _ = paper
    account.user.language = "ru"
    account.user.save(update_fields=["language"])
    bot = _launch(account, django_capture_on_commit_callbacks, take_profit_price="58500")
    assert queued == []  # running: nothing to tell
    with django_capture_on_commit_callbacks(execute=True):
        _stop_by(how, bot, sim)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED and bot.stop_code == how
    assert queued == [(bot.pk, bot.generation)]  # one task per stop, queued after commit
    assert _run_queued(queued) == 1
    assert _run_queued(queued) == 0  # a retried task sends nothing
    (mail,) = _emails(bot.user)
    assert "остановлен" in mail.subject and bot.name in mail.subject
    assert f"Причина: {RU_REASONS[how]}." in mail.body


def test_a_bot_stopped_by_errors_emails_in_english_to_an_english_user(
    paper, sim, queued, django_capture_on_commit_callbacks, settings
):
    account, _ = paper
    account.user.language = "en"
    account.user.save(update_fields=["language"])
    settings.SETKA_BOT_MAX_RESTARTS = 0
    bot = _launch(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        # an unexpected failure with no restarts left: the bot stops for good
        from bots.services.tick import _fail

        _fail(bot, RuntimeError("boom"), fatal=False)
        bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED and bot.stop_code == "errors"
    assert _run_queued(queued) == 1
    (mail,) = _emails(bot.user)
    assert mail.subject.startswith("Setka: bot") and "stopped" in mail.subject
    assert "Reason: Stopped after repeated errors." in mail.body and "boom" in mail.body


def test_no_email_when_the_owner_turned_stop_notifications_off(paper, sim, queued, django_capture_on_commit_callbacks):
    account, _ = paper
    account.user.profile.notify_email = False
    account.user.profile.save()
    bot = _launch(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        _stop_by("user", bot, sim)
    assert _run_queued(queued) == 0
    assert _emails(bot.user) == []


def test_each_run_that_stops_is_told_once(paper, sim, queued, django_capture_on_commit_callbacks):
    account, _ = paper
    bot = _launch(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        _stop_by("user", bot, sim)
        bot_tick(bot_id=bot.pk)  # ticks after the stop change nothing
    bot = _launch_again(bot, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        _stop_by("user", bot, sim)
    assert [g for _, g in queued] == [1, 2]
    assert _run_queued(queued) == 2 and len(_emails(bot.user)) == 2


def _launch_again(bot: Bot, capture) -> Bot:
    with capture(execute=True):
        bot_start(bot=bot)
        bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    return bot
