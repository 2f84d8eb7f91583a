"""Celery tasks and the beat schedule."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from bots.models import Bot

pytestmark = pytest.mark.django_db


def test_setup_schedules_writes_the_periodic_tasks_idempotently(settings):
    settings.SETKA_BOT_TICK_SECONDS = 3
    call_command("setup_schedules")
    call_command("setup_schedules")
    tick = PeriodicTask.objects.get(task="bots.tasks.bots_tick_all_task")
    assert tick.interval.every == 3 and tick.enabled
    assert PeriodicTask.objects.filter(task="bots.tasks.bots_restart_due_task").count() == 1
    assert PeriodicTask.objects.filter(task="bots.tasks.bots_tick_all_task").count() == 1


def test_tick_all_fans_out_one_tick_per_active_bot_with_a_free_lease(paper, monkeypatch):
    from django.utils import timezone

    from bots.tasks import bot_tick_task, bots_tick_all_task
    from tests.factories import BotFactory

    account, _ = paper
    running = BotFactory(user=account.user, exchange_account=account, status=Bot.Status.RUNNING)
    BotFactory(user=account.user, exchange_account=account, status=Bot.Status.DRAFT)
    BotFactory(user=account.user, exchange_account=account, status=Bot.Status.STOPPED)
    busy = BotFactory(
        user=account.user,
        exchange_account=account,
        status=Bot.Status.RUNNING,
        lease_owner="x",
        lease_until=timezone.now() + timezone.timedelta(seconds=30),
    )
    sent = []
    monkeypatch.setattr(bot_tick_task, "delay", lambda bot_id: sent.append(bot_id))
    assert bots_tick_all_task() == 1
    assert sent == [running.pk] and busy.pk not in sent
    assert bots_tick_all_task() == 0  # already queued within the tick interval: no pile-up
