"""Crashes and faults against the simulator. After recovery: zero duplicate orders on the
exchange, zero lost fills, and the bot's trades equal the exchange's executions exactly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bots.models import Bot
from bots.services import bot_start, bot_tick
from tests.bots.conftest import assert_books_match_exchange, ledger_open_ids
from tests.factories import BotFactory
from trading.models import Order

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the tick catches it, as with kill -9."""


def after_crash(bot):
    """A killed worker never released its lease: it expires."""
    Bot.objects.filter(pk=bot.pk).update(lease_until=timezone.now() - timedelta(seconds=1))


def started(account):
    bot = BotFactory(user=account.user, exchange_account=account)
    bot_start(bot=bot)
    return bot


def test_killed_after_writing_the_ladder_before_sending_it(paper, sim, monkeypatch):
    import bots.services.tick as tick

    account, acc = paper
    bot = started(account)
    real = tick.orders_send_pending

    def killed(**kwargs):
        raise WorkerKilled

    monkeypatch.setattr(tick, "orders_send_pending", killed)
    with pytest.raises(WorkerKilled):
        bot_tick(bot_id=bot.pk)
    assert Order.objects.filter(bot=bot, status="pending").count() == 11  # initial + 10 levels, none sent
    assert ledger_open_ids(sim, acc.uid) == []
    monkeypatch.setattr(tick, "orders_send_pending", real)
    after_crash(bot)
    bot_tick(bot_id=bot.pk)
    assert not Order.objects.filter(bot=bot, status="pending").exists()
    assert len(ledger_open_ids(sim, acc.uid)) == 10
    assert_books_match_exchange(bot, sim, acc.uid)


def test_killed_after_the_exchange_accepted_before_recording_the_answer(paper, sim, monkeypatch):
    import bots.services.common as common

    account, acc = paper
    bot = started(account)
    bot_tick(bot_id=bot.pk)
    top_buy = Order.objects.filter(bot=bot, purpose="grid", side="Buy").order_by("-price").first()
    real_factory = common.client_for_account

    def dying_client(account):
        client = real_factory(account)
        place = client.place_order

        def place_then_die(order):
            place(order)
            raise WorkerKilled

        client.place_order = place_then_die
        return client

    monkeypatch.setattr(common, "client_for_account", dying_client)
    sim.control.set_price("BTCUSDT", top_buy.price - 10)
    with pytest.raises(WorkerKilled):
        bot_tick(bot_id=bot.pk)
    counter = Order.objects.get(bot=bot, side="Sell", level=top_buy.level + 1)
    assert counter.status == "pending" and counter.client_order_id in ledger_open_ids(sim, acc.uid)
    monkeypatch.setattr(common, "client_for_account", real_factory)
    after_crash(bot)
    bot_tick(bot_id=bot.pk)
    counter.refresh_from_db()
    assert counter.status == "open" and counter.exchange_order_id
    assert Order.objects.filter(bot=bot, side="Sell", level=top_buy.level + 1).count() == 1
    assert_books_match_exchange(bot, sim, acc.uid)


def test_timeout_after_accept_is_settled_by_client_order_id(paper, sim):
    account, acc = paper
    bot = started(account)
    bot_tick(bot_id=bot.pk)
    top_buy = Order.objects.filter(bot=bot, purpose="grid", side="Buy").order_by("-price").first()
    sim.control.inject_fault("timeout_after_accept", path="/v5/order/create", count=1, mode="close")
    sim.control.set_price("BTCUSDT", top_buy.price - 10)
    bot_tick(bot_id=bot.pk)
    bot_tick(bot_id=bot.pk)
    counter = Order.objects.get(bot=bot, side="Sell", level=top_buy.level + 1)
    assert counter.status == "open"
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING
    assert_books_match_exchange(bot, sim, acc.uid)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "http_error", "path": "/v5/order/create", "status": 502, "count": 3},
        {"kind": "http_error", "path": "/v5/execution/list", "status": 503, "count": 2},
        {"kind": "rate_limit", "path": "/v5/order/create", "count": 3},
        {"kind": "rate_limit", "path": "/v5/order/realtime", "count": 2},
    ],
    ids=["5xx-create", "5xx-executions", "10006-create", "10006-open-orders"],
)
def test_5xx_and_10006_lose_nothing_and_duplicate_nothing(paper, sim, fault):
    account, acc = paper
    bot = started(account)
    bot_tick(bot_id=bot.pk)
    top_buy = Order.objects.filter(bot=bot, purpose="grid", side="Buy").order_by("-price").first()
    sim.control.inject_fault(**fault)
    sim.control.set_price("BTCUSDT", top_buy.price - 10)
    for _ in range(4):
        bot_tick(bot_id=bot.pk)
    sim.control.clear_faults()
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, bot.last_error
    assert Order.objects.get(bot=bot, side="Sell", level=top_buy.level + 1).status == "open"
    assert_books_match_exchange(bot, sim, acc.uid)


def test_dropped_websocket_messages_are_caught_by_the_resync(paper, sim):
    """The streams process misses the execution (dropped message); the reconnect resync and
    beat's tick still store the fill and place the counter order."""
    from bots.streams import StreamsSupervisor

    account, acc = paper
    bot = started(account)
    bot_tick(bot_id=bot.pk)
    queued: list[int] = []
    supervisor = StreamsSupervisor(enqueue=queued.append)
    supervisor.refresh()
    try:
        assert queued == [bot.pk]  # opening the stream resyncs the account's bots
        queued.clear()
        sim.control.inject_fault("ws_drop", path="execution")
        sim.control.inject_fault("ws_drop", path="order")
        top_buy = Order.objects.filter(bot=bot, purpose="grid", side="Buy").order_by("-price").first()
        sim.control.set_price("BTCUSDT", top_buy.price - 10)
        import time

        time.sleep(0.5)
        assert queued == []  # the messages were dropped
        sim.control.clear_faults()
        sim.control.inject_fault("ws_disconnect", channel="private")
        deadline = time.monotonic() + 15
        while not queued and time.monotonic() < deadline:
            time.sleep(0.1)
        assert queued and set(queued) == {bot.pk}  # reconnect -> resync tick queued
        bot_tick(bot_id=bot.pk)
        assert Order.objects.get(bot=bot, side="Sell", level=top_buy.level + 1).status == "open"
        assert_books_match_exchange(bot, sim, acc.uid)
        # and a fill that is not dropped enqueues the tick at once
        queued.clear()
        counter = Order.objects.get(bot=bot, side="Sell", level=top_buy.level + 1)
        sim.control.set_price("BTCUSDT", counter.price + 10)
        deadline = time.monotonic() + 10
        while not queued and time.monotonic() < deadline:
            time.sleep(0.05)
        assert bot.pk in queued
    finally:
        supervisor.stop()
        for account_id in list(supervisor.streams):
            supervisor._close(account_id)
