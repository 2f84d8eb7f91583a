"""Followers follow their manager's bot: same strategy, scaled to each investor's amount, on the
investor's own account. A change of the manager's bot (start, stop, new range, restart) reaches
here through bots.hooks after commit and queues `pool_follow_task`; beat runs the same pass every
minute as a safety net. The pass is idempotent: a follower in step is left alone."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from bots.models import Bot
from bots.services import bot_reconfigure, bot_start, bot_stop
from config.errors import DomainError
from notifications.services import notify
from pools import accounting
from pools.models import Pool, PoolMember
from pools.tasks import pool_follow_task

logger = logging.getLogger(__name__)

RUNNING = (Bot.Status.STARTING, Bot.Status.RUNNING, Bot.Status.ERROR)
SCALED = ("take_profit_pnl", "stop_loss_pnl")  # money figures; prices and percentages stay as they are
FOLLOWING = (PoolMember.Status.ACTIVE, PoolMember.Status.BELOW_MINIMUM)


def follower_config(*, lead: Bot, amount: Decimal) -> dict:
    """The manager bot's configuration for an investor's `amount`."""
    config = dict(lead.config)
    base = Decimal(lead.investment)
    config["investment"] = format(amount, "f")
    for key in SCALED:
        if config.get(key) not in (None, ""):
            config[key] = format(accounting.scale(Decimal(str(config[key])), amount=amount, base=base), "f")
    return config


def pool_manager_bot_changed(bot_id: int) -> None:
    """bots.hooks listener (called after commit): a manager's or a follower's bot changed, so
    the pool's followers are brought in step by the follow task."""
    pool_ids = set(
        Pool.objects.filter(Q(bot_id=bot_id) | Q(members__bot_id=bot_id)).values_list("pk", flat=True).distinct()
    )
    for pool_id in sorted(pool_ids):
        pool_follow_task.delay(pool_id)


def _tell_below_minimum(*, member: PoolMember, pool: Pool, reason: str, generation: int) -> None:
    notify(
        user=member.investor,
        event="pool_follow_paused",
        params={"pool_name": pool.name, "pool_id": str(pool.pk), "reason": reason},
        dedupe_key=f"pool_follow_paused:{member.pk}:{generation}:{member.amount}",
    )


def member_follow(*, pool: Pool, lead: Bot, member: PoolMember) -> str:
    """Bring one follower in step. Returns what was done: "ok" | "stopping" | "started" |
    "stopped" | "below_minimum" | "waiting"."""
    follower = Bot.objects.get(pk=member.bot_id) if member.bot_id else None
    if follower is None:
        return "ok"
    lead_running = pool.status == Pool.Status.APPROVED and lead.status == Bot.Status.RUNNING
    lead_stopped = pool.status != Pool.Status.APPROVED or lead.status in (Bot.Status.STOPPING, Bot.Status.STOPPED)
    if lead_stopped:
        if follower.status in RUNNING:
            bot_stop(bot=follower, reason="The pool's manager stopped the strategy.", code="pool_paused")
            return "stopped"
        return "ok"
    if not lead_running:
        return "waiting"  # the manager's bot is starting or recovering: followers keep what they have
    in_step = member.followed_generation == lead.generation and Decimal(follower.investment) == member.amount
    if in_step and follower.status in RUNNING:
        return "ok"
    if in_step and member.status == PoolMember.Status.BELOW_MINIMUM:
        return "below_minimum"  # told already; a new run of the manager or a new amount tries again
    if follower.status in RUNNING:
        bot_stop(bot=follower, reason="The pool's manager changed the strategy.", code="pool_follow")
        return "stopping"  # its stop comes back here through the hook
    if follower.status == Bot.Status.STOPPING:
        return "stopping"
    config = follower_config(lead=lead, amount=member.amount)
    try:
        bot_reconfigure(bot=follower, user=member.investor, config=config, accept_warnings=True)
        with transaction.atomic():
            bot_start(bot=follower)
            PoolMember.objects.filter(pk=member.pk).update(
                status=PoolMember.Status.ACTIVE, status_note="", followed_generation=lead.generation
            )
    except DomainError as exc:
        PoolMember.objects.filter(pk=member.pk).update(
            status=PoolMember.Status.BELOW_MINIMUM, status_note=exc.message[:300], followed_generation=lead.generation
        )
        member.refresh_from_db()
        _tell_below_minimum(member=member, pool=pool, reason=exc.message, generation=lead.generation)
        return "below_minimum"
    return "started"


def pool_follow(*, pool_id: int) -> dict[int, str]:
    """One pass over the pool's followers; {member id: what was done}."""
    pool = Pool.objects.select_related("bot").get(pk=pool_id)
    lead = pool.bot
    done = {}
    for member in PoolMember.objects.filter(pool=pool, status__in=FOLLOWING).select_related("investor"):
        try:
            done[member.pk] = member_follow(pool=pool, lead=lead, member=member)
        except Exception:  # one investor's exchange trouble must not hold the others back
            logger.exception("pool %s: follower of member %s not brought in step", pool.pk, member.pk)
            done[member.pk] = "error"
    return done


def pools_follow_all() -> int:
    """Beat's safety net: every pool with followers gets a pass."""
    ids = (
        PoolMember.objects.filter(status__in=FOLLOWING, bot__isnull=False).values_list("pool_id", flat=True).distinct()
    )
    for pool_id in sorted(set(ids)):
        pool_follow(pool_id=pool_id)
    return len(set(ids))
