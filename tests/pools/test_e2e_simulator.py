"""End to end on the simulator (real adapter, real HTTP, PostgreSQL), through the services: a
manager publishes a pool, an operator approves it, two investors join with different amounts and
their follower bots trade scaled copies on their own accounts, a third amount is below the
venue's minimums and is told so, the manager's bot fills and the followers fill at the same
line in proportion, the manager changes the range and the followers follow (the follow task is
queued on commit of the manager's change), one investor leaves."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.models import Bot
from bots.services import bot_reconfigure, bot_start, bot_stop, bot_tick
from config.errors import ConflictError, DomainError
from pools.models import Pool, PoolMember
from pools.selectors import track_record
from pools.services import (
    member_join,
    member_leave,
    member_preview,
    pool_approve,
    pool_create,
    pool_follow,
    pool_value,
)
from tests.factories import BotFactory, grid_config
from tests.pools.conftest import make_investor, make_manager
from trading.models import Order, Trade

pytestmark = pytest.mark.django_db

STEP = D("0.000001")  # the simulator's BTCUSDT quantity step


def tick(*bots) -> None:
    for bot in bots:
        bot_tick(bot_id=bot.pk)
        bot.refresh_from_db()


def open_grid(bot) -> dict[int, Order]:
    return {o.level: o for o in Order.objects.filter(bot=bot, purpose="grid", status="open")}


def assert_scaled(lead, follower, ratio: D) -> None:
    ours, theirs = open_grid(lead), open_grid(follower)
    assert ours.keys() == theirs.keys() and ours
    for level, order in theirs.items():
        assert order.price == ours[level].price and order.side == ours[level].side
        assert abs(order.qty - ours[level].qty * ratio) <= 3 * STEP, (level, order.qty, ours[level].qty)


def test_a_pool_from_publication_to_an_investor_leaving(paper_account, sim, queued, django_capture_on_commit_callbacks):
    manager = make_manager()
    lead_account, _ = paper_account(manager)
    lead = BotFactory(user=manager, exchange_account=lead_account, config=grid_config(), investment=D("1000"))
    bot_start(bot=lead)
    tick(lead)
    assert lead.status == Bot.Status.RUNNING

    pool = pool_create(
        manager=manager,
        bot=lead,
        name="BTC 50-60k",
        description="A neutral grid on BTC between 50 and 60 thousand.",
        risk_level="medium",
        min_investment=D("20"),
        max_investment=D("5000"),
        performance_fee_percent=D("20"),
    )
    assert pool.status == Pool.Status.PENDING
    alice, bob, carol = make_investor(), make_investor(), make_investor()
    (a_account, a_sim), (b_account, b_sim), (c_account, _) = (paper_account(u) for u in (alice, bob, carol))
    with pytest.raises(ConflictError):  # nobody joins before an operator approves
        member_join(pool=pool, user=alice, exchange_account=a_account, amount=D("500"), accept_warnings=True)

    with django_capture_on_commit_callbacks(execute=True):
        pool_approve(pool=pool, note="checked")
    assert queued["follow"] == [pool.pk]

    # Alice reads the report for her amount, then both join with different amounts.
    report = member_preview(pool=pool, user=alice, exchange_account=a_account, amount=D("500")).to_json()
    assert not report["blocking"] and D(report["quote_needed"]) <= D("500") < 2 * D(report["quote_needed"])
    alice_in = member_join(pool=pool, user=alice, exchange_account=a_account, amount=D("500"), accept_warnings=True)
    bob_in = member_join(pool=pool, user=bob, exchange_account=b_account, amount=D("200"), accept_warnings=True)
    a_bot, b_bot = alice_in.bot, bob_in.bot
    assert (a_bot.user, a_bot.exchange_account, a_bot.investment) == (alice, a_account, D("500"))
    assert (b_bot.user, b_bot.exchange_account, b_bot.investment) == (bob, b_account, D("200"))
    tick(a_bot, b_bot)
    assert a_bot.status == b_bot.status == Bot.Status.RUNNING
    assert_scaled(lead, a_bot, D("0.5"))
    assert_scaled(lead, b_bot, D("0.2"))
    # Units at NAV 1: 500 and 200; the pool follows 700.
    pool.refresh_from_db()
    assert (pool.units, pool.equity, pool.nav) == (D("700"), D("700"), D("1"))

    # Carol's 30 USDT is below the venue's minimum order: she is told why and nothing starts.
    with pytest.raises(DomainError) as refused:
        member_join(pool=pool, user=carol, exchange_account=c_account, amount=D("30"), accept_warnings=True)
    assert refused.value.code == "report_blocking" and "smallest order value" in refused.value.message
    assert not PoolMember.objects.filter(investor=carol).exists() and not Bot.objects.filter(user=carol).exists()

    # The market falls through the top buy line: the manager's bot and both followers fill there.
    top_buy = max((o for o in open_grid(lead).values() if o.side == "Buy"), key=lambda o: o.price)
    sim.control.set_price("BTCUSDT", top_buy.price - 10)
    tick(lead, a_bot, b_bot)
    lead_fill = Trade.objects.get(order__bot=lead, order__level=top_buy.level, order__purpose="grid")
    for bot, ratio in ((a_bot, D("0.5")), (b_bot, D("0.2"))):
        fill = Trade.objects.get(order__bot=bot, order__level=top_buy.level, order__purpose="grid")
        assert fill.price == lead_fill.price
        assert abs(fill.qty - lead_fill.qty * ratio) <= 3 * STEP

    # The manager changes the range: stop, new range, start. Each change queues the follow task
    # after commit; each pass brings the followers one step nearer.
    queued["follow"].clear()
    with django_capture_on_commit_callbacks(execute=True):
        bot_stop(bot=lead, user=manager, reason="new range")
    assert queued["follow"] == [pool.pk]
    assert set(pool_follow(pool_id=pool.pk).values()) == {"stopped"}
    with django_capture_on_commit_callbacks(execute=True):
        tick(lead, a_bot, b_bot)
    assert lead.status == a_bot.status == b_bot.status == Bot.Status.STOPPED
    assert sim.control.ledger(a_sim.uid)["open_orders"] == [] and sim.control.ledger(b_sim.uid)["open_orders"] == []
    new_range = grid_config(lower_price="52000", upper_price="58000", grid_count=8, investment="1000")
    queued["follow"].clear()
    with django_capture_on_commit_callbacks(execute=True):
        bot_reconfigure(bot=lead, user=manager, config=new_range, accept_warnings=True)
        bot_start(bot=lead)
        tick(lead)
    assert lead.status == Bot.Status.RUNNING and pool.pk in queued["follow"]
    assert set(pool_follow(pool_id=pool.pk).values()) == {"started"}
    tick(a_bot, b_bot)
    assert a_bot.status == b_bot.status == Bot.Status.RUNNING
    assert D(a_bot.config["lower_price"]) == D("52000") and a_bot.config["grid_count"] == 8
    assert_scaled(lead, a_bot, D("0.5"))
    assert_scaled(lead, b_bot, D("0.2"))
    assert set(pool_follow(pool_id=pool.pk).values()) == {"ok"}  # in step: a second pass does nothing

    # Bob leaves: his units are redeemed, his follower stops and cancels on his account.
    bob_out = member_leave(member=bob_in, user=bob)
    assert bob_out.status == PoolMember.Status.LEFT and bob_out.units == 0
    tick(b_bot)
    assert b_bot.status == Bot.Status.STOPPED and sim.control.ledger(b_sim.uid)["open_orders"] == []
    pool = pool_value(pool=pool)
    alice_in.refresh_from_db()
    assert pool.units == alice_in.units == D("500")
    assert PoolMember.objects.filter(pool=pool, status="active").count() == 1
    record = track_record(pool=pool)
    assert record["trade_count"] >= 2 and record["age_days"] == 0
