"""Billing reads: the plan in force, usage against its limits, payments, the profit-share figure
and the "no new cycles" flag the bot tick reads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from billing.models import CycleHold, Payment, Plan, ProfitShareMonth, ProviderPayout, Subscription

FREE_PLAN = "free"
PAID_STATUSES = (
    Subscription.Status.TRIAL,
    Subscription.Status.ACTIVE,
    Subscription.Status.PAST_DUE,
    Subscription.Status.GRACE,
)


def plan_free() -> Plan:
    return Plan.objects.get(code=FREE_PLAN)


def plans_public():
    return Plan.objects.filter(is_public=True).order_by("sort_order", "id")


def subscription_of(*, user) -> Subscription | None:
    return Subscription.objects.select_related("plan").filter(user=user).first()


def plan_effective(*, user, subscription: Subscription | None = None) -> Plan:
    """The plan whose limits apply now: the subscribed one while trial/active/past due/grace,
    otherwise the free plan."""
    sub = subscription if subscription is not None else subscription_of(user=user)
    if sub is not None and sub.status in PAID_STATUSES:
        return sub.plan
    return plan_free()


def live_bots(*, user, exclude_bot_id: int | None = None):
    """The user's bots that run (or are starting/stopping) on a real venue (not paper)."""
    from bots.models import Bot
    from exchanges.models import ExchangeAccount

    qs = Bot.objects.filter(user=user, status__in=Bot.ACTIVE_STATUSES).exclude(
        exchange_account__environment=ExchangeAccount.Environment.PAPER
    )
    if exclude_bot_id is not None:
        qs = qs.exclude(pk=exclude_bot_id)
    return qs


def usage(*, user) -> dict:
    bots = live_bots(user=user)
    return {
        "live_bots": bots.count(),
        "live_investment": bots.aggregate(total=Sum("investment"))["total"] or Decimal(0),
        "exchanges": bots.values("exchange_account__exchange_id").distinct().count(),
    }


def bot_new_cycles_allowed(*, bot_id: int) -> bool:
    """False while the bot is held by billing (its plan lapsed): the tick then places only the
    orders that close what the bot already holds, never ones that open a new cycle."""
    return not CycleHold.objects.filter(bot_id=bot_id).exists()


def held_bot_ids(*, user) -> list[int]:
    return list(CycleHold.objects.filter(bot__user=user).values_list("bot_id", flat=True))


def payments_of(*, user):
    return Payment.objects.filter(user=user).select_related("plan")


def payment_of(*, user, payment_id: int) -> Payment | None:
    return payments_of(user=user).filter(pk=payment_id).first()


def bot_realized_grid_profit(*, bot) -> Decimal:
    """The one place billing reads realized grid profit (today: metrics' running book; when the
    engine's profit book lands, only this function changes)."""
    from metrics.models import BotMetrics

    value = BotMetrics.objects.filter(bot=bot).values_list("grid_profit", flat=True).first()
    return Decimal(value or 0)


def month_start(now=None) -> date:
    now = now or timezone.now()
    return now.date().replace(day=1)


def profit_share_month(*, user, now=None) -> ProfitShareMonth | None:
    return ProfitShareMonth.objects.filter(user=user, month=month_start(now)).first()


def payout_status_text(*, payout_id: int) -> str:
    """One line for an operator: the rail, its status, the provider's id or why it was canceled."""
    payout = ProviderPayout.objects.filter(pk=payout_id).first()
    if payout is None:
        return "-"
    tail = f": {payout.cancellation_reason}" if payout.cancellation_reason else ""
    ident = f" {payout.provider_payout_id}" if payout.provider_payout_id else ""
    return f"{payout.rail}{ident} {payout.get_status_display().lower()}{tail}"


def payout_statuses(*, payout_ids: list[int]) -> dict[int, str]:
    """Provider status of many payouts at once (by billing's payout id)."""
    return dict(ProviderPayout.objects.filter(pk__in=payout_ids).values_list("pk", "status"))
