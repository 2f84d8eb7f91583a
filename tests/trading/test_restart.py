"""Errors, back-off restarts, authentication failures and the tick lease."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from bots.models import Bot, BotEvent
from bots.services import bot_tick, bots_restart_due, lease_acquire, lease_release
from exchanges.errors import AuthenticationFailed, InsufficientBalance
from trading.models import Order


@pytest.mark.django_db
def test_an_error_moves_the_bot_to_error_then_restarts_with_growing_back_off(running_bot, fake, settings):
    settings.SETKA_BOT_MAX_RESTARTS = 2
    top_buy = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("-price").first()
    fake.set_price(top_buy.price - 1)
    delays = []
    for attempt in range(3):
        fake.fail_next("place_order", InsufficientBalance("Insufficient balance", code=170131))
        bot_tick(bot_id=running_bot.pk)
        running_bot.refresh_from_db()
        if attempt < 2:
            assert running_bot.status == Bot.Status.ERROR
            assert "InsufficientBalance" in running_bot.last_error
            delays.append((running_bot.next_restart_at - timezone.now()).total_seconds())
            assert bots_restart_due() == 0  # not yet due
            assert bots_restart_due(now=running_bot.next_restart_at + timedelta(seconds=1)) == 1
            running_bot.refresh_from_db()
            assert running_bot.status == Bot.Status.RUNNING and running_bot.restart_count == attempt + 1
    assert delays[1] > delays[0] * 1.5  # exponential
    # third failure: out of restarts -> stopping for good, then stopped with no order left
    assert running_bot.status == Bot.Status.STOPPING
    bot_tick(bot_id=running_bot.pk)
    running_bot.refresh_from_db()
    assert running_bot.status == Bot.Status.STOPPED and "Gave up after 2 restarts" in running_bot.stop_reason
    assert fake.open_ids() == []
    kinds = list(BotEvent.objects.filter(bot=running_bot).values_list("kind", flat=True))
    assert kinds.count("restart") == 2 and "error" in kinds


@pytest.mark.django_db
def test_authentication_errors_stop_at_once(running_bot, fake):
    fake.fail_next("open_orders", AuthenticationFailed("API key is invalid", code=10003))
    bot_tick(bot_id=running_bot.pk)
    running_bot.refresh_from_db()
    assert running_bot.status == Bot.Status.STOPPED and running_bot.next_restart_at is None
    assert "AuthenticationFailed" in running_bot.stop_reason
    assert BotEvent.objects.filter(bot=running_bot, kind="error", message__contains="API keys").exists()


@pytest.mark.django_db
def test_lease_is_exclusive_until_released_or_expired(running_bot):
    assert lease_acquire(bot_id=running_bot.pk, owner="a", seconds=60)
    assert not lease_acquire(bot_id=running_bot.pk, owner="b", seconds=60)
    assert lease_acquire(bot_id=running_bot.pk, owner="a", seconds=60)  # renewal by the holder
    lease_release(bot_id=running_bot.pk, owner="b")  # not the holder: no effect
    assert not lease_acquire(bot_id=running_bot.pk, owner="b", seconds=60)
    Bot.objects.filter(pk=running_bot.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert lease_acquire(bot_id=running_bot.pk, owner="b", seconds=60)  # expired: a crashed holder


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_ticks_of_one_bot_only_one_runs(fake):
    from bots.services import bot_start
    from tests.factories import BotFactory

    bot = BotFactory()
    bot_start(bot=bot)
    assert bot_tick(bot_id=bot.pk).ran
    real_ticker = fake.ticker
    inside = threading.Event()

    def slow_ticker(**kwargs):
        inside.set()
        time.sleep(0.6)
        return real_ticker(**kwargs)

    fake.ticker = slow_ticker
    results = []

    def run():
        from django.db import connection

        try:
            results.append(bot_tick(bot_id=bot.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.ran for r in results) == [False, True]
    assert [r.reason for r in results if not r.ran] == ["another tick holds the lease"]
    bot.refresh_from_db()
    assert bot.lease_owner == "" and bot.lease_until is None  # released


@pytest.mark.django_db
def test_a_restart_after_an_unclean_stop_cancels_the_previous_runs_orders(running_bot, fake):
    from bots.services import bot_start

    left_open = set(fake.open_ids())
    assert left_open
    # Keys failed: the bot stopped at once and could not cancel anything.
    fake.fail_next("open_orders", AuthenticationFailed("API key is invalid", code=10003))
    bot_tick(bot_id=running_bot.pk)
    running_bot.refresh_from_db()
    assert running_bot.status == Bot.Status.STOPPED and set(fake.open_ids()) == left_open
    bot_start(bot=running_bot)  # keys fixed, new generation
    bot_tick(bot_id=running_bot.pk)
    running_bot.refresh_from_db()
    assert running_bot.status == Bot.Status.RUNNING and running_bot.generation == 2
    assert not (set(fake.open_ids()) & left_open)  # the old ladder is gone
    assert all(cid.startswith(f"sk{running_bot.pk}g2o") for cid in fake.open_ids())
    assert not Order.objects.filter(
        bot=running_bot, client_order_id__startswith=f"sk{running_bot.pk}g1o", status__in=Order.OPEN_STATUSES
    ).exists()


@pytest.mark.django_db
def test_a_fills_tick_that_meets_a_tick_ending_is_not_lost(running_bot, fake, monkeypatch):
    """A fill's (urgent) tick that finds the lease held asks the holder to run once more. If
    the holder had already made its last look, the fill's tick is queued again after the holder
    releases; if the holder released between the two steps, the fill's tick runs itself."""
    from django.core.cache import cache

    import bots.services.tick as tick_module

    queued: list[tuple[int, dict]] = []
    monkeypatch.setattr(tick_module, "enqueue_tick", lambda bot_id, **kwargs: queued.append((bot_id, kwargs)))
    real_release, real_owner = tick_module.lease_release, tick_module.lease_owner_id
    late: list = []

    def release(*, bot_id, owner):
        if not late:  # another process's fill tick, after this tick's last look, before its release
            monkeypatch.setattr(tick_module, "lease_owner_id", lambda: "another-process")
            late.append(tick_module.bot_tick(bot_id=bot_id, urgent=True))
            monkeypatch.setattr(tick_module, "lease_owner_id", real_owner)
        real_release(bot_id=bot_id, owner=owner)

    monkeypatch.setattr(tick_module, "lease_release", release)
    assert bot_tick(bot_id=running_bot.pk).ran
    assert [r.ran for r in late] == [False]
    assert queued == [(running_bot.pk, {"urgent": True})]  # the fill's tick comes next
    assert not cache.get(tick_module.AGAIN_KEY.format(running_bot.pk))

    # the holder releases between the fill tick's failed try and its ask: it takes the lease itself
    monkeypatch.setattr(tick_module, "lease_release", real_release)
    real_acquire = tick_module.lease_acquire
    tries: list[str] = []

    def acquire(**kwargs):
        tries.append(kwargs["owner"])
        return len(tries) > 1 and real_acquire(**kwargs)  # the first try meets the holder

    monkeypatch.setattr(tick_module, "lease_acquire", acquire)
    queued.clear()
    result = bot_tick(bot_id=running_bot.pk, urgent=True)
    assert len(tries) >= 2 and result.ran and queued == []
    assert not cache.get(tick_module.AGAIN_KEY.format(running_bot.pk))
