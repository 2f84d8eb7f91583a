"""A worked example of NAV, units and the high-water-mark fee across a drawdown and a recovery,
to the cent: first on the pure arithmetic, then through the services on rows, with the
followers' profit books (BotMetrics) moved by hand to the figures of the example.

Pool fee 20 % above the mark.
  t0  A joins with 1,000.00 at NAV 1.00          -> A 1,000 units, mark 1.00
  t1  equity 1,100.00 -> NAV 1.10; fees          -> A pays (1.10-1.00) x 1,000 x 20 % = 20.00, mark 1.10
      B joins with 2,200.00 at NAV 1.10          -> B 2,000 units, mark 1.10
  t2  drawdown: equity 2,970.00 -> NAV 0.99      -> no fee (below every mark)
      A adds 990.00 at NAV 0.99                  -> A +1,000 units, mark (1.10x1000 + 0.99x1000)/2000 = 1.045
  t3  recovery: equity 4,200.00 -> NAV 1.05      -> A pays (1.05-1.045) x 2,000 x 20 % = 2.00; B nothing (1.05 < 1.10)
  t4  equity 4,800.00 -> NAV 1.20                -> A pays 0.15 x 2,000 x 20 % = 60.00; B pays 0.10 x 2,000 x 20 % = 40.00
      the same NAV again                         -> nothing (a gain is charged once)
  t5  down to 1.15 and back to 1.20              -> nothing
  manager's ledger: 20.00 + 2.00 + 60.00 + 40.00 = 122.00"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from pools import accounting as acc

RATE = D("20")


def test_the_worked_example_on_the_pure_arithmetic():
    nav, equity_after = D("1"), D("0")
    # t0: A joins
    a_units = acc.units_for(amount=D("1000"), nav=nav)
    a_mark = nav
    equity_after += D("1000")
    assert a_units == D("1000")
    # t1: equity 1100
    nav = acc.nav_next(nav=nav, equity_before=equity_after, equity_now=D("1100"))
    equity_after = D("1100")
    assert nav == D("1.10")
    fee = acc.performance_fee(nav=nav, hwm=a_mark, units=a_units, rate_percent=RATE)
    assert (fee.fee, fee.hwm) == (D("20.00"), D("1.10"))
    a_mark = fee.hwm
    b_units = acc.units_for(amount=D("2200"), nav=nav)
    b_mark = nav
    equity_after += D("2200")
    assert b_units == D("2000")
    # t2: drawdown
    nav = acc.nav_next(nav=nav, equity_before=equity_after, equity_now=D("2970"))
    equity_after = D("2970")
    assert nav == D("0.99")
    assert acc.performance_fee(nav=nav, hwm=a_mark, units=a_units, rate_percent=RATE).fee == 0
    assert acc.performance_fee(nav=nav, hwm=b_mark, units=b_units, rate_percent=RATE).fee == 0
    added = acc.units_for(amount=D("990"), nav=nav)
    a_mark = acc.hwm_blend(units=a_units, hwm=a_mark, new_units=added, nav=nav)
    a_units += added
    equity_after += D("990")
    assert (added, a_units, a_mark) == (D("1000"), D("2000"), D("1.045"))
    # t3: recovery
    nav = acc.nav_next(nav=nav, equity_before=equity_after, equity_now=D("4200"))
    equity_after = D("4200")
    assert nav == D("1.05")
    fee = acc.performance_fee(nav=nav, hwm=a_mark, units=a_units, rate_percent=RATE)
    assert (fee.fee, fee.hwm) == (D("2.00"), D("1.05"))
    a_mark = fee.hwm
    assert acc.performance_fee(nav=nav, hwm=b_mark, units=b_units, rate_percent=RATE).fee == 0
    # t4: a new high
    nav = acc.nav_next(nav=nav, equity_before=equity_after, equity_now=D("4800"))
    assert nav == D("1.20")
    fa = acc.performance_fee(nav=nav, hwm=a_mark, units=a_units, rate_percent=RATE)
    fb = acc.performance_fee(nav=nav, hwm=b_mark, units=b_units, rate_percent=RATE)
    assert (fa.fee, fb.fee) == (D("60.00"), D("40.00"))
    # the same gain again: nothing
    assert acc.performance_fee(nav=nav, hwm=fa.hwm, units=a_units, rate_percent=RATE).fee == 0
    assert acc.performance_fee(nav=nav, hwm=fb.hwm, units=b_units, rate_percent=RATE).fee == 0
    assert D("20.00") + D("2.00") + fa.fee + fb.fee == D("122.00")


def test_a_late_joiner_changes_nobody_elses_nav():
    nav = acc.nav_next(nav=D("1"), equity_before=D("1000"), equity_now=D("1100"))
    # B's 2,200 arrives after the valuation: the next valuation with no market move keeps NAV
    assert acc.nav_next(nav=nav, equity_before=D("3300"), equity_now=D("3300")) == nav


def test_max_drawdown_and_scaling():
    assert acc.max_drawdown_percent([D("100"), D("120"), D("90"), D("130")]) == D("25.00")
    assert acc.max_drawdown_percent([]) == 0
    assert acc.scale(D("50"), amount=D("300"), base=D("1000")) == D("15.00")


# --- the same example through the services, on rows -------------------------------------------
@pytest.fixture
def pool_with_two(db):
    """An approved pool whose two members have follower bots with profit books we move by hand."""
    from bots.models import Bot
    from metrics.models import BotMetrics
    from pools.models import Pool, PoolMember
    from tests.factories import BotFactory, UserFactory

    manager = UserFactory()
    lead = BotFactory(user=manager, status=Bot.Status.RUNNING)
    pool = Pool.objects.create(
        manager=manager,
        bot=lead,
        name="Steady BTC",
        description="d",
        risk_level="medium",
        min_investment=D("100"),
        max_investment=D("10000"),
        performance_fee_percent=RATE,
        status="approved",
    )
    members = {}
    for name in ("a", "b"):
        investor = UserFactory()
        follower = BotFactory(user=investor, status=Bot.Status.RUNNING)
        BotMetrics.objects.create(bot=follower, invested=D("1000"))
        members[name] = PoolMember(
            pool=pool, investor=investor, exchange_account=follower.exchange_account, bot=follower, amount=D(0)
        )
    return pool, members


def _set_pnl(member, pnl: D) -> None:
    from metrics.models import BotMetrics

    BotMetrics.objects.filter(bot=member.bot).update(realized_pnl=pnl, unrealized_pnl=0)


def test_the_worked_example_through_the_services_to_the_cent(pool_with_two):
    from django.db import transaction

    from pools.models import PoolFee, PoolMember
    from pools.selectors import manager_earnings
    from pools.services import pool_fees_accrue, pool_value
    from pools.services.ledger import flow_in

    pool, m = pool_with_two
    t = datetime(2026, 3, 1, tzinfo=UTC)

    def join(member, amount, when):
        with transaction.atomic():
            fresh = pool_value(pool=pool, now=when)
            if member.pk is None:
                member.hwm = fresh.nav
                member.save()
            member.refresh_from_db()
            flow_in(pool=fresh, member=member, amount=amount)

    join(m["a"], D("1000"), t)
    _set_pnl(m["a"], D("100"))  # A's follower made 100: equity 1,100
    fees = pool_fees_accrue(pool=pool, now=t + timedelta(days=1))
    assert [(f.kind, f.amount) for f in fees] == [("performance", D("20.00"))]
    join(m["b"], D("2200"), t + timedelta(days=1, hours=1))
    pool.refresh_from_db()
    assert (pool.nav, pool.units, pool.equity) == (D("1.10"), D("3000"), D("3300"))
    # drawdown: pool equity 2,970 (A 1,100 -> 990 ; B 2,200 -> 1,980)
    _set_pnl(m["a"], D("-10"))
    _set_pnl(m["b"], D("-220"))
    assert pool_fees_accrue(pool=pool, now=t + timedelta(days=2)) == []
    pool.refresh_from_db()
    assert pool.nav == D("0.99")
    join(m["a"], D("990"), t + timedelta(days=2, hours=1))
    a = PoolMember.objects.get(pk=m["a"].pk)
    assert (a.units, a.hwm) == (D("2000"), D("1.045"))
    # recovery to 4,200: A 1,980 -> 2,100 (pnl +110), B 1,980 -> 2,100 (pnl -100)
    _set_pnl(m["a"], D("110"))
    _set_pnl(m["b"], D("-100"))
    fees = pool_fees_accrue(pool=pool, now=t + timedelta(days=3))
    pool.refresh_from_db()
    assert pool.nav == D("1.05")
    assert [(f.member_id, f.amount) for f in fees] == [(m["a"].pk, D("2.00"))]
    # a new high, 4,800: A 2,400 (pnl +410), B 2,400 (pnl +200)
    _set_pnl(m["a"], D("410"))
    _set_pnl(m["b"], D("200"))
    fees = pool_fees_accrue(pool=pool, now=t + timedelta(days=4))
    pool.refresh_from_db()
    assert pool.nav == D("1.20")
    assert sorted((f.member_id, f.amount) for f in fees) == sorted([(m["a"].pk, D("60.00")), (m["b"].pk, D("40.00"))])
    # run again at the same NAV, then down and back up to the same high: nothing more
    assert pool_fees_accrue(pool=pool, now=t + timedelta(days=4, hours=1)) == []
    _set_pnl(m["a"], D("310"))
    _set_pnl(m["b"], D("100"))
    assert pool_fees_accrue(pool=pool, now=t + timedelta(days=5)) == []
    _set_pnl(m["a"], D("410"))
    _set_pnl(m["b"], D("200"))
    assert pool_fees_accrue(pool=pool, now=t + timedelta(days=6)) == []
    earned = manager_earnings(user=pool.manager)
    # accrued to the manager; earned (total) only once the investors pay their invoices
    assert (earned["accrued"], earned["total"]) == (D("122.00"), 0)
    assert (
        PoolFee.objects.filter(member=m["a"].pk).count() == 3 and PoolFee.objects.filter(member=m["b"].pk).count() == 1
    )
