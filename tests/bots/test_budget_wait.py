"""A worker's tick never sleeps on an account's exhausted order quota: inside
ratelimit.budget_wait_at_most it stops before the request that has no room, leaves the rest of the
ladder PENDING (the attempt not counted), and is queued again for when the budget has room. The
ladder then completes with every order on the exchange once."""

from __future__ import annotations

import time

import pytest

from bots.models import Bot, BotEvent
from bots.services import bot_start, bot_tick
from bots.services.tick_context import TickResult
from exchanges.errors import BudgetWait
from exchanges.ratelimit import LocalWindowStore, RateLimiter, budget_wait_at_most
from tests.factories import BotFactory, grid_config
from trading.models import Order

pytestmark = pytest.mark.django_db


def test_inside_the_block_a_full_budget_is_not_waited_for():
    now, slept = [1000.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(account_key="a", store=LocalWindowStore(), clock=lambda: now[0], sleep=sleep, ip_limit=0)
    for _ in range(18):  # 20 per second on spot, 90 %
        limiter.acquire("/v5/order/create", "spot")
    with budget_wait_at_most(0.1), pytest.raises(BudgetWait) as caught:
        limiter.acquire("/v5/order/create", "spot")
    assert caught.value.retry_after == pytest.approx(1.0) and slept == []
    limiter.acquire("/v5/order/create", "spot")  # outside it waits as before
    assert len(slept) == 1


def test_a_launch_the_quota_cannot_take_yet_goes_on_later_without_a_duplicate(paper, sim):
    account, acc = paper
    first = BotFactory(user=account.user, exchange_account=account, config=grid_config(grid_count=25))
    second = BotFactory(user=account.user, exchange_account=account, config=grid_config(grid_count=25))
    for bot in (first, second):
        bot_start(bot=bot)
    bot_tick(bot_id=first.pk)  # 25 orders: the account's create-batch quota for this second is spent
    with budget_wait_at_most(0.05):
        result = bot_tick(bot_id=second.pk)
    second.refresh_from_db()
    assert result.retry_after is not None and result.retry_after > 0.05
    assert second.status == Bot.Status.RUNNING and second.transient_errors == 0
    pending = Order.objects.filter(bot=second, status=Order.Status.PENDING)
    assert pending.exists() and all(o.send_attempts == 0 for o in pending)  # held back, not failed
    assert not BotEvent.objects.filter(bot=second, level__in=[BotEvent.Level.WARNING, BotEvent.Level.ERROR]).exists()

    for _ in range(20):  # as the worker does: again after the wait, until the ladder is out
        time.sleep(result.retry_after)
        with budget_wait_at_most(0.05):
            result = bot_tick(bot_id=second.pk)
        if result.retry_after is None:
            break
    assert result.retry_after is None
    grid = Order.objects.filter(bot=second, purpose=Order.Purpose.GRID)
    assert grid.count() == 25 and set(grid.values_list("status", flat=True)) == {Order.Status.OPEN}
    links = [o["orderLinkId"] for o in sim.control.ledger(acc.uid)["open_orders"]]
    assert len(links) == len(set(links))  # nothing sent twice
    assert set(grid.values_list("client_order_id", flat=True)) <= set(links)


def test_the_worker_queues_a_held_back_tick_again_after_the_wait(monkeypatch, settings):
    from bots import tasks

    settings.SETKA_TICK_BUDGET_WAIT_SECONDS = 0.25
    seen_cap: list[float | None] = []
    queued: list[tuple[int, bool, float, int]] = []

    def fake_tick(*, bot_id, urgent=False, swept=False, pushed=None):
        from exchanges import ratelimit

        seen_cap.append(ratelimit._WAIT_CAP.get())
        return TickResult(ran=True, retry_after=0.7)

    monkeypatch.setattr("bots.services.bot_tick", fake_tick)
    monkeypatch.setattr(
        tasks,
        "tick_enqueue",
        lambda bot_id, *, urgent=False, countdown=None, deferred=0, held=False, swept=False, fills=None: queued.append(
            (bot_id, urgent, countdown, deferred)
        ),
    )
    tasks.bot_tick_task(42, urgent=True)
    assert seen_cap == [0.25]
    ((bot_id, urgent, countdown, deferred),) = queued
    assert (bot_id, urgent, deferred) == (42, True, 1) and 0.7 <= countdown <= 0.9
    # held back twice in a row: the next run waits for its budget, so a busy account still moves on
    tasks.bot_tick_task(42, urgent=True, deferred=tasks.MAX_DEFERRALS)
    assert seen_cap[-1] is None and queued[-1][3] == tasks.MAX_DEFERRALS + 1
