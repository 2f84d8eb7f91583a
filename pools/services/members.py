"""Investors join a pool with an amount and their own exchange account, add, reduce, leave.
The follower bot is an ordinary bot of the investor's (bots.services), scaled to the amount."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing.services import entitlement_check
from bots.models import Bot
from bots.services import bot_create, bot_delete, bot_preview, bot_start, bot_stop
from config.errors import ConflictError, DomainError
from exchanges.models import ExchangeAccount
from pools.models import Pool, PoolMember
from pools.services.follow import FOLLOWING, follower_config
from pools.services.ledger import flow_in, flow_out, member_fees_accrue, pool_value
from pools.services.manage import trades_paper
from pools.tasks import pool_follow_task


def _check_amount(pool: Pool, amount: Decimal) -> None:
    if not (pool.min_investment <= amount <= pool.max_investment):
        raise DomainError(
            f"Choose an amount from {pool.min_investment.normalize():f} to {pool.max_investment.normalize():f}.",
            code="pool_amount_out_of_range",
            fields={"amount": [f"{pool.min_investment.normalize():f} – {pool.max_investment.normalize():f}"]},
        )


def _check_joinable(*, pool: Pool, user, exchange_account: ExchangeAccount, amount: Decimal) -> None:
    if pool.status != Pool.Status.APPROVED:
        raise ConflictError("This pool does not take investors now.", code="pool_not_open")
    if pool.manager_id == user.pk:
        raise ConflictError("A manager does not join their own pool.", code="pool_own")
    if exchange_account.user_id != user.pk:
        raise DomainError("No such exchange account.", code="not_found", status_code=404)
    lead_account = pool.bot.exchange_account
    if exchange_account.exchange_id != lead_account.exchange_id:
        raise DomainError(
            f"This pool trades on {lead_account.exchange.name}: choose an account on that exchange.",
            code="pool_wrong_exchange",
            fields={"exchange_account": [lead_account.exchange.name]},
        )
    _check_paper_rule(pool=pool, exchange_account=exchange_account)
    _check_amount(pool, amount)


def _check_paper_rule(*, pool: Pool, exchange_account: ExchangeAccount) -> None:
    """Real and simulated money never share a pool. A paper pool's record is simulated, so it is
    followed only with accounts without real money. A live pool is followed only with
    real-money accounts: its NAV, high-water marks and fees are real money, and a simulated
    follower's fills would be counted in them (try a live pool's strategy with a backtest or a
    paper bot of your own instead)."""
    paper_account = trades_paper(exchange_account)
    if pool.is_paper and not paper_account:
        raise DomainError(
            "This is a paper-trading pool: its results are simulated. Follow it with a paper account, "
            "not with real money.",
            code="pool_paper_only",
            fields={"exchange_account": ["A paper account."]},
        )
    if not pool.is_paper and paper_account:
        raise DomainError(
            "This pool trades real money: follow it with a real-money account. Paper accounts follow "
            "paper pools only, so simulated results never mix with real ones.",
            code="pool_live_only",
            fields={"exchange_account": ["A real-money account."]},
        )


def member_preview(*, pool: Pool, user, exchange_account: ExchangeAccount, amount: Decimal):
    """The pre-launch report of the follower bot for this amount (nothing is stored)."""
    _check_joinable(pool=pool, user=user, exchange_account=exchange_account, amount=amount)
    lead = pool.bot
    return bot_preview(
        user=user,
        exchange_account=exchange_account,
        symbol=lead.symbol,
        category=lead.category,
        config=follower_config(lead=lead, amount=amount),
    )


def member_join(
    *, pool: Pool, user, exchange_account: ExchangeAccount, amount: Decimal, accept_warnings: bool = False
) -> PoolMember:
    """Join: the follower bot is created from the report the investor read (refused when it
    blocks, e.g. the amount is below the venue's minimums) and started when the manager's is
    running; units are bought at the NAV of a valuation made just now."""
    _check_joinable(pool=pool, user=user, exchange_account=exchange_account, amount=amount)
    if PoolMember.objects.filter(pool=pool, investor=user).exclude(status=PoolMember.Status.LEFT).exists():
        raise ConflictError("You are in this pool already: change your amount instead.", code="pool_already_member")
    joined = PoolMember.objects.filter(investor=user).exclude(status=PoolMember.Status.LEFT).count()
    entitlement_check(user=user, action="pool_join", pools_joined=joined)
    lead = pool.bot
    follower = bot_create(
        user=user,
        exchange_account=exchange_account,
        name=f"{pool.name} · pool #{pool.pk}"[:80],
        symbol=lead.symbol,
        category=lead.category,
        config=follower_config(lead=lead, amount=amount),
        accept_warnings=accept_warnings,
    )
    try:
        with transaction.atomic():
            pool = pool_value(pool=pool)
            member = PoolMember.objects.create(
                pool=pool,
                investor=user,
                exchange_account=exchange_account,
                bot=follower,
                amount=Decimal(0),
                hwm=pool.nav,
                followed_generation=lead.generation,
            )
            flow_in(pool=pool, member=member, amount=amount)
            lead.refresh_from_db()
            if lead.status == Bot.Status.RUNNING:
                bot_start(bot=follower)
    except Exception:
        bot_delete(bot=follower)
        raise
    return member


def _owned(member: PoolMember, user) -> None:
    if member.investor_id != user.pk:
        raise DomainError("Not found.", code="not_found", status_code=404)
    if member.status not in FOLLOWING:
        raise ConflictError("You have left this pool.", code="pool_left")


def member_amount_change(*, member: PoolMember, user, amount: Decimal) -> PoolMember:
    """Add to or reduce the followed amount: the money moves at the current NAV; the follower
    bot is stopped and started again at the new size by the follow task."""
    _owned(member, user)
    pool = member.pool
    if pool.status != Pool.Status.APPROVED:
        raise ConflictError("This pool does not take changes now; you can leave it.", code="pool_not_open")
    _check_amount(pool, amount)
    with transaction.atomic():
        member = PoolMember.objects.select_for_update().get(pk=member.pk)
        if amount == member.amount:
            return member
        pool = pool_value(pool=pool)
        member.refresh_from_db()
        if amount > member.amount:
            flow_in(pool=pool, member=member, amount=amount - member.amount)
        else:
            member_fees_accrue(pool=pool, member=member, now=timezone.now())
            flow_out(pool=pool, member=member, amount=member.amount - amount)
        PoolMember.objects.filter(pk=member.pk).update(status=PoolMember.Status.ACTIVE, status_note="")
        transaction.on_commit(lambda: pool_follow_task.delay(pool.pk))
    member.refresh_from_db()
    return member


def member_leave(*, member: PoolMember, user) -> PoolMember:
    """Leave: fees due on a new high are taken, every unit is redeemed, the follower bot stops
    (the investor's coins stay on their account, as its stop setting says)."""
    _owned(member, user)
    now = timezone.now()
    with transaction.atomic():
        member = PoolMember.objects.select_for_update().get(pk=member.pk)
        pool = pool_value(pool=member.pool, now=now)
        member.refresh_from_db()
        member_fees_accrue(pool=pool, member=member, now=now)
        flow_out(pool=pool, member=member, amount=None)
        PoolMember.objects.filter(pk=member.pk).update(status=PoolMember.Status.LEFT, left_at=now)
        follower = member.bot
        if follower is not None and follower.status not in (Bot.Status.DRAFT, Bot.Status.STOPPED, Bot.Status.STOPPING):
            bot_stop(bot=follower, user=user, reason="Left the pool.", code="pool_left")
    member.refresh_from_db()
    return member
