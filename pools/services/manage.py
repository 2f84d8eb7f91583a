"""A manager publishes a pool from a live bot of theirs; operators approve, suspend, close."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bots.models import Bot
from config.errors import ConflictError, DomainError
from exchanges.models import ExchangeAccount
from notifications.services import notify
from pools.models import Pool, PoolManager, PoolMember
from pools.services.follow import FOLLOWING
from pools.tasks import pool_follow_task

MAX_DESCRIPTION = 2000


def trades_paper(account: ExchangeAccount) -> bool:
    """No real money on this account: Setka's paper simulator, or an exchange's demo or testnet."""
    return account.environment != ExchangeAccount.Environment.MAINNET


def manager_approved(user) -> bool:
    return PoolManager.objects.filter(user_id=user.pk, status=PoolManager.Status.APPROVED).exists()


def manager_check(manager) -> None:
    """403 with words unless `manager` is an approved pool manager."""
    if not manager_approved(manager):
        raise DomainError(
            "Only approved pool managers can publish pools: apply on the Pools page and wait for the operators.",
            code="pool_manager_not_approved",
            status_code=403,
        )


def pool_create(
    *,
    manager,
    bot: Bot,
    name: str,
    description: str,
    risk_level: str,
    min_investment: Decimal,
    max_investment: Decimal,
    performance_fee_percent: Decimal,
    management_fee_percent: Decimal = Decimal(0),
) -> Pool:
    """Publish `bot` (the manager's own, running) as a pool; it waits for an operator. Only an
    approved manager publishes; a bot on an account without real money makes a paper pool."""
    manager_check(manager)
    if bot.user_id != manager.pk:
        raise DomainError("No such bot.", code="not_found", status_code=404)
    if bot.status != Bot.Status.RUNNING:
        raise ConflictError("Only a running bot can be published as a pool.", code="pool_bot_not_running")
    if min_investment <= 0 or max_investment < min_investment:
        raise DomainError(
            "The maximum investment must be at least the minimum, and the minimum above zero.",
            code="pool_bad_limits",
            fields={"max_investment": ["At least the minimum."]},
        )
    if not (0 <= performance_fee_percent <= 50) or not (0 <= management_fee_percent <= 5):
        raise DomainError(
            "The performance fee is 0 to 50 %, the monthly management fee 0 to 5 %.",
            code="pool_bad_fees",
            fields={"performance_fee_percent": ["0 to 50."], "management_fee_percent": ["0 to 5."]},
        )
    if risk_level not in Pool.Risk.values:
        raise DomainError("Choose a risk level.", code="invalid", fields={"risk_level": ["low, medium or high."]})
    if Pool.objects.filter(bot=bot).exclude(status=Pool.Status.CLOSED).exists():
        raise ConflictError("This bot is already published as a pool.", code="pool_exists")
    return Pool.objects.create(
        manager=manager,
        bot=bot,
        name=name.strip()[:80],
        description=description.strip()[:MAX_DESCRIPTION],
        risk_level=risk_level,
        min_investment=min_investment,
        max_investment=max_investment,
        performance_fee_percent=performance_fee_percent,
        management_fee_percent=management_fee_percent,
        is_paper=trades_paper(bot.exchange_account),
    )


def _move(pool: Pool, *, allowed: tuple[str, ...], to: str, note: str = "", **fields) -> Pool:
    with transaction.atomic():
        moved = Pool.objects.filter(pk=pool.pk, status__in=allowed).update(status=to, status_note=note[:300], **fields)
        if not moved:
            raise ConflictError("This cannot be done in the pool's current state.", code="pool_state")
        pool.refresh_from_db()
        _follow_after_commit(pool.pk)
    return pool


def _follow_after_commit(pool_id: int) -> None:
    transaction.on_commit(lambda: pool_follow_task.delay(pool_id))


def pool_approve(*, pool: Pool, note: str = "") -> Pool:
    """An operator lets investors join (and a suspended pool resume); the manager must be an
    approved manager (a revoked one's pools stay suspended)."""
    if not manager_approved(pool.manager):
        raise ConflictError(
            "The pool's manager is not an approved pool manager now.", code="pool_manager_not_approved"
        )
    now = timezone.now()
    fields = {"approved_at": pool.approved_at or now}
    return _move(
        pool, allowed=(Pool.Status.PENDING, Pool.Status.SUSPENDED), to=Pool.Status.APPROVED, note=note, **fields
    )


def pool_suspend(*, pool: Pool, note: str = "") -> Pool:
    """An operator pauses the pool: nobody joins, followers stop until it is approved again;
    each follower is told."""
    pool = _move(pool, allowed=(Pool.Status.PENDING, Pool.Status.APPROVED), to=Pool.Status.SUSPENDED, note=note)
    _tell_followers_suspended(pool)
    return pool


def _tell_followers_suspended(pool: Pool) -> None:
    stamp = timezone.now().isoformat()
    for member in PoolMember.objects.filter(pool=pool, status__in=FOLLOWING).select_related("investor"):
        notify(
            user=member.investor,
            event="pool_suspended",
            params={"pool_name": pool.name, "pool_id": str(pool.pk)},
            dedupe_key=f"pool_suspended:{member.pk}:{stamp}",
        )


def pool_close(*, pool: Pool, note: str = "") -> Pool:
    """The pool ends: followers stop; members keep their own money and leave."""
    return _move(
        pool,
        allowed=(Pool.Status.PENDING, Pool.Status.APPROVED, Pool.Status.SUSPENDED),
        to=Pool.Status.CLOSED,
        note=note,
        closed_at=timezone.now(),
    )
