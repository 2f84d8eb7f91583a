"""The pool's books: valuation (chain-linked NAV from the followers' profit books), the flows
of members' money at that NAV, and fees on new highs credited to the manager's ledger.

Every function here is called with the pool row locked (select_for_update) inside a
transaction, so two valuations or a valuation and a join never interleave."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from metrics.models import BotMetrics
from pools import accounting
from pools.models import Pool, PoolFee, PoolMember, PoolNav

ZERO = Decimal(0)
COUNTED = (PoolMember.Status.ACTIVE, PoolMember.Status.BELOW_MINIMUM)


def follower_pnl(*, member: PoolMember) -> Decimal:
    """The follower bot's profit so far (its profit book: realized + inventory at the last price)."""
    if member.bot_id is None:
        return ZERO
    row = BotMetrics.objects.filter(bot_id=member.bot_id).values_list("realized_pnl", "unrealized_pnl").first()
    return (row[0] + row[1]) if row else ZERO


def member_equity(*, member: PoolMember) -> Decimal:
    """What the member's followed money is worth now: the amount plus the follower's PnL since
    the money came in."""
    return member.amount + follower_pnl(member=member) - member.pnl_base


def _locked(pool: Pool) -> Pool:
    return Pool.objects.select_for_update().get(pk=pool.pk)


def pool_value(*, pool: Pool, now=None) -> Pool:
    """Value the pool now: NAV per unit moves by the equity's change since the last flows."""
    now = now or timezone.now()
    with transaction.atomic():
        pool = _locked(pool)
        members = list(PoolMember.objects.select_for_update().filter(pool=pool, status__in=COUNTED, units__gt=0))
        equity = ZERO
        for member in members:
            member.equity = member_equity(member=member)
            member.save(update_fields=["equity"])
            equity += member.equity
        if pool.units > 0:
            pool.nav = accounting.nav_next(nav=pool.nav, equity_before=pool.equity, equity_now=equity)
        pool.equity = equity
        pool.valued_at = now
        pool.save(update_fields=["nav", "equity", "valued_at"])
        PoolNav.objects.create(pool=pool, taken_at=now, nav=pool.nav, equity=pool.equity, units=pool.units)
    return pool


def flow_in(*, pool: Pool, member: PoolMember, amount: Decimal) -> None:
    """`amount` of the member's money starts following at the pool's current NAV (valued just
    before): units bought, the mark blended by units."""
    units = accounting.units_for(amount=amount, nav=pool.nav)
    member.hwm = accounting.hwm_blend(units=member.units, hwm=member.hwm, new_units=units, nav=pool.nav)
    member.units += units
    member.amount += amount
    member.equity += amount
    pool.units += units
    pool.equity += amount
    member.save(update_fields=["hwm", "units", "amount", "equity"])
    pool.save(update_fields=["units", "equity"])


def flow_out(*, pool: Pool, member: PoolMember, amount: Decimal | None) -> None:
    """`amount` (None: everything) of the member's money stops following at the current NAV."""
    if amount is None:
        units, money = member.units, member.equity
    else:
        units = min(accounting.units_for(amount=amount, nav=pool.nav), member.units)
        money = amount
        member.amount -= amount
    member.units -= units
    member.equity -= money
    pool.units -= units
    pool.equity -= money
    if pool.units <= 0:
        pool.units, pool.equity = ZERO, ZERO
    member.save(update_fields=["units", "amount", "equity"])
    pool.save(update_fields=["units", "equity"])


def _fee(*, pool: Pool, member: PoolMember, kind: str, key: str, amount: Decimal, now) -> PoolFee | None:
    try:
        with transaction.atomic():
            return PoolFee.objects.create(
                pool=pool,
                member=member,
                investor_id=member.investor_id,
                manager_id=pool.manager_id,
                kind=kind,
                key=key,
                amount=amount,
                nav=pool.nav,
                units=member.units,
                hwm_before=member.hwm,
                created_at=now,
            )
    except IntegrityError:  # this gain (or this month) was charged already
        return None


def member_fees_accrue(*, pool: Pool, member: PoolMember, now) -> list[PoolFee]:
    """Fees due from one member at the pool's current NAV (the pool valued and locked)."""
    fees = []
    accrual = accounting.performance_fee(
        nav=pool.nav, hwm=member.hwm, units=member.units, rate_percent=pool.performance_fee_percent
    )
    if accrual.hwm > member.hwm:
        if accrual.fee > 0:
            fee = _fee(
                pool=pool,
                member=member,
                kind=PoolFee.Kind.PERFORMANCE,
                key=str(accrual.hwm),
                amount=accrual.fee,
                now=now,
            )
            if fee:
                fees.append(fee)
        member.hwm = accrual.hwm
        member.save(update_fields=["hwm"])
    monthly = accounting.management_fee(value=member.units * pool.nav, monthly_percent=pool.management_fee_percent)
    if monthly > 0:
        fee = _fee(pool=pool, member=member, kind=PoolFee.Kind.MANAGEMENT, key=f"{now:%Y-%m}", amount=monthly, now=now)
        if fee:
            fees.append(fee)
    return fees


def pool_fees_accrue(*, pool: Pool, now=None) -> list[PoolFee]:
    """Value the pool, then accrue each member's fees on new highs (and the month's management
    fee). Running it twice at the same NAV accrues nothing the second time."""
    now = now or timezone.now()
    with transaction.atomic():
        pool = pool_value(pool=pool, now=now)
        fees: list[PoolFee] = []
        for member in PoolMember.objects.select_for_update().filter(pool=pool, status__in=COUNTED, units__gt=0):
            fees += member_fees_accrue(pool=pool, member=member, now=now)
    return fees


def pools_value_all(*, now=None) -> int:
    """The periodic pass: every pool with money in it is valued and its fees accrued."""
    count = 0
    for pool in Pool.objects.filter(units__gt=0).exclude(status=Pool.Status.PENDING):
        pool_fees_accrue(pool=pool, now=now)
        count += 1
    return count
