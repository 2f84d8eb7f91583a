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
    assert PeriodicTask.objects.filter(task="metrics.tasks.metrics_snapshot_task").count() == 1
    assert PeriodicTask.objects.filter(task="exchanges.tasks.exchange_accounts_recheck_task").count() == 1


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
    monkeypatch.setattr(bot_tick_task, "apply_async", lambda args, **_: sent.append(args[0]))
    assert bots_tick_all_task() == 1
    assert sent == [running.pk] and busy.pk not in sent
    assert bots_tick_all_task() == 0  # queued and not started yet: no pile-up
    import bots.services as services
    from bots.services.tick_context import TickResult

    monkeypatch.setattr(services, "bot_tick", lambda **kwargs: TickResult(ran=True))
    bot_tick_task.run(running.pk)  # the queued tick starts
    assert bots_tick_all_task() == 1 and sent == [running.pk, running.pk]


def test_halt_trading_command_stops_every_bot_and_resume_allows_starts(paper, sim):
    from io import StringIO

    from bots.services import bot_start, bot_tick
    from config.errors import DomainError
    from tests.bots.conftest import ledger_open_ids
    from tests.factories import BotFactory

    account, acc = paper
    bot = BotFactory(user=account.user, exchange_account=account)
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    out = StringIO()
    call_command("halt_trading", reason="incident 42", stdout=out)
    assert "1 bot(s) stopping" in out.getvalue()
    assert ledger_open_ids(sim, acc.uid) == []
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED and bot.stop_reason == "incident 42"
    with pytest.raises(DomainError):
        bot_start(bot=bot)
    call_command("halt_trading", resume=True, stdout=StringIO())
    bot_start(bot=bot)
    assert Bot.objects.get(pk=bot.pk).status == Bot.Status.STARTING
