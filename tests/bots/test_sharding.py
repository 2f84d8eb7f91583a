"""Ticks and streams partitioned by exchange account (bots.sharding): with SETKA_SHARDS=2 the
ticks of an account's bots go only to its shard's queue and only its shard's streams process
holds its stream, so adding worker and streams processes adds capacity."""

from __future__ import annotations

import importlib
import os
import time
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from bots.models import Bot
from bots.services import bot_start
from bots.sharding import shard_of, tick_queue, worker_queues
from bots.streams import StreamsSupervisor
from exchanges.models import ExchangeAccount
from exchanges.simulator.control import SimulatorControl
from tests.factories import BotFactory, ExchangeAccountFactory, UserFactory, grid_config
from tests.stack import Stack
from trading.models import Order, Trade

TOKEN = "shard-control-token"


@override_settings(SETKA_SHARDS=1)
def test_one_shard_uses_the_default_queue_and_fills_the_urgent_one():
    assert tick_queue(7) is None and tick_queue(7, urgent=True) == "urgent"
    assert worker_queues(0) == "urgent,celery"


def test_a_worker_without_queues_named_serves_the_fills_urgent_ticks_too():
    from config.celery import app

    assert {"celery", "urgent", "slow", "notify", "control"} <= set(app.amqp.queues)


def test_slow_work_never_goes_to_the_runtimes_queues():
    """Backtests, the candle refresh, the regime watch, the hourly recompute... hold a process for
    seconds to minutes: they go to `slow`, which the runtime's workers (-Q urgent,celery or their
    shard's queues) do not serve; ticks and passes stay on the runtime's queues."""
    from config.celery import app

    def queue(name):
        return app.amqp.router.route({}, name, (), {})["queue"].name

    for name in (
        "analytics.tasks.candles_refresh_task",
        "analytics.tasks.backtest_run_task",
        "mcp_server.tasks.regime_watch_task",
        "metrics.tasks.metrics_reconcile_task",
    ):
        module, task = name.rsplit(".", 1)
        assert getattr(importlib.import_module(module), task).name == name and queue(name) == "slow"
    for name in ("bots.tasks.bot_stop_notify_task", "notifications.tasks.delivery_send_task"):
        assert queue(name) == "notify"
    assert queue("bots.tasks.stop_run_task") == "control"  # a stop run holds a process for the run
    for name in ("bots.tasks.bot_tick_task", "bots.tasks.account_sync_task", "bots.tasks.bots_tick_all_task"):
        assert queue(name) == "celery"
    assert not {"slow", "notify", "control"} & set(worker_queues(0).split(","))


@override_settings(SETKA_SHARDS=3)
def test_ticks_go_to_the_queue_of_their_accounts_shard():
    assert [tick_queue(a) for a in (3, 4, 5)] == ["ticks.0", "ticks.1", "ticks.2"]
    assert [tick_queue(a, urgent=True) for a in (3, 4, 5)] == ["urgent.0", "urgent.1", "urgent.2"]
    assert worker_queues(0) == "urgent.0,celery,ticks.0" and worker_queues(2) == "urgent.2,ticks.2"


@pytest.mark.django_db
@override_settings(SETKA_SHARDS=2)
def test_enqueue_routes_by_the_bots_account():
    from bots.tasks import bot_tick_task, tick_enqueue

    bot = BotFactory()
    with mock.patch.object(bot_tick_task, "apply_async") as send:
        tick_enqueue(bot.pk, urgent=True)  # account looked up
        tick_enqueue(bot.pk, account_id=bot.exchange_account_id)
    shard = bot.exchange_account_id % 2
    assert [c.kwargs["queue"] for c in send.call_args_list] == [f"urgent.{shard}", f"ticks.{shard}"]
    first, second = (c.kwargs["kwargs"] for c in send.call_args_list)
    assert first["urgent"] is True and "urgent" not in second
    assert first["queued_at"] <= second["queued_at"]  # when it was queued: the worker's tick lag


@pytest.mark.django_db
@override_settings(SETKA_SHARDS=2)
def test_a_streams_process_holds_only_its_shards_accounts():
    bots = [BotFactory(status=Bot.Status.RUNNING) for _ in range(4)]
    opened: dict[int, list[int]] = {0: [], 1: []}
    for shard in (0, 1):
        sup = StreamsSupervisor(
            enqueue=lambda _bot: None,
            stream_factory=lambda account, *_cb, s=shard: opened[s].append(account.pk) or mock.Mock(auth_failed=False),
            shard=shard,
        )
        sup.refresh()
    assert sorted(opened[0] + opened[1]) == sorted(b.exchange_account_id for b in bots)
    assert all(shard_of(a) == 0 for a in opened[0]) and all(shard_of(a) == 1 for a in opened[1])


def _wait(predicate, timeout: float, what: str, stack: Stack) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{stack.all_logs()}")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_two_workers_and_two_streams_processes_split_the_bots_by_account(tmp_path):
    db = settings.DATABASES["default"]
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    env = {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "SETKA_SIMULATOR_CONTROL_TOKEN": TOKEN,
        "SETKA_SHARDS": "2",
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
    }
    with Stack(env=env, log_dir=tmp_path) as stack, override_settings(SETKA_SHARDS=2):
        simulator = stack.start("simulator", state=str(tmp_path / "sim.sqlite3"))
        stack.env["SETKA_SIMULATOR_URL"] = simulator.url
        settings.SETKA_SIMULATOR_URL = simulator.url
        control = SimulatorControl(simulator.url, TOKEN)
        control.set_price("BTCUSDT", "57000")

        # One account in each shard (ids alternate parity as they are created).
        user = UserFactory()
        accounts: dict[int, ExchangeAccount] = {}
        uids: dict[int, int] = {}
        while len(accounts) < 2:
            acc = control.create_account(funding={"USDT": "10000"})
            account = ExchangeAccountFactory(
                user=user, environment=ExchangeAccount.Environment.PAPER, api_key=acc.api_key, api_secret=acc.api_secret
            )
            if shard_of(account.pk) not in accounts:
                accounts[shard_of(account.pk)] = account
                uids[shard_of(account.pk)] = acc.uid
        config = grid_config(lower_price="56000", upper_price="58000", grid_count=10, investment="1000")
        bots = {
            shard: BotFactory(user=user, exchange_account=account, config=config, investment=config["investment"])
            for shard, account in accounts.items()
        }

        stack.start("worker0", "worker", queues=worker_queues(0), node="w0", purge=True)
        stack.start("streams0", "streams", env={"SETKA_STREAMS_SHARD": "0"})
        stack.start("streams1", "streams", env={"SETKA_STREAMS_SHARD": "1"})
        for bot in bots.values():
            bot_start(bot=bot)

        def running(bot: Bot) -> bool:
            return (
                Bot.objects.get(pk=bot.pk).status == Bot.Status.RUNNING
                and Order.objects.filter(bot=bot, status="open").exists()
            )

        _wait(lambda: running(bots[0]), 60, "shard 0's bot to launch", stack)
        # Nobody consumes ticks.1 (or urgent.1) yet: shard 1's bot has not been touched at all.
        assert Bot.objects.get(pk=bots[1].pk).status == Bot.Status.STARTING
        assert not Order.objects.filter(bot=bots[1]).exists()

        stack.start("worker1", "worker", queues=worker_queues(1), node="w1")
        _wait(lambda: running(bots[1]), 60, "shard 1's bot to launch on its own worker", stack)

        # A fill on each account reaches its bot through its own streams process and worker.
        control.set_price("BTCUSDT", "56150")
        _wait(
            lambda: all(Trade.objects.filter(bot=b).exists() for b in bots.values()),
            60,
            "fills of both shards' bots",
            stack,
        )
        s0, s1 = stack.logs("streams0"), stack.logs("streams1")
        assert f"opened account {accounts[0].pk} " in s0 and f"opened account {accounts[1].pk} " not in s0
        assert f"opened account {accounts[1].pk} " in s1 and f"opened account {accounts[0].pk} " not in s1
        assert "ready (shard 1 of 2)" in s1


def test_a_worker_takes_the_fills_urgent_ticks_before_its_backlog():
    """On Redis a worker takes from its queues in their order, not in turn: fills' ticks queued
    after a backlog of safety ticks and account passes still go first (in turn, every other task
    taken was from the backlog, and a fill's counter order waited for it). A worker without -Q
    lists the urgent queue first too."""
    import uuid

    from kombu import Consumer, Exchange, Queue

    from config.celery import app

    assert [q.name for q in settings.CELERY_TASK_QUEUES][:2] == ["urgent", "celery"]
    assert worker_queues(0).split(",")[0] == "urgent"
    tag = uuid.uuid4().hex[:8]
    names = [f"test-urgent-{tag}", f"test-celery-{tag}"]  # this worker's queues, in -Q's order
    queues = [Queue(name, Exchange(name), routing_key=name) for name in names]
    taken: list[str] = []
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        bound = [q(channel) for q in queues]
        for q in bound:
            q.declare()
        try:
            with conn.Producer() as producer:
                for i in range(3):
                    producer.publish({"n": f"backlog{i}"}, exchange=queues[1].exchange, routing_key=names[1])
                for i in range(2):
                    producer.publish({"n": f"fill{i}"}, exchange=queues[0].exchange, routing_key=names[0])

            def on_message(body, message):
                taken.append(body["n"])
                message.ack()

            with Consumer(conn, queues=queues, callbacks=[on_message], accept=["json"], prefetch_count=1):
                while len(taken) < 5:
                    conn.drain_events(timeout=5)
        finally:
            for q in bound:
                q.delete()
    assert taken == ["fill0", "fill1", "backlog0", "backlog1", "backlog2"]
