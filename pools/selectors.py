"""Pool reads. Public figures come from records: the manager bot's fills (its profit book in
BotMetrics, its equity snapshots) and the pool's own NAV history, never from typed-in numbers."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from bots.models import Bot
from exchanges.models import ExchangeAccount
from metrics.models import BotMetrics, MetricSnapshot
from pools import accounting
from pools.models import Pool, PoolFee, PoolManager, PoolMember, PoolNav
from trading.models import Trade

ZERO = Decimal(0)
OPEN_MEMBERS = (PoolMember.Status.ACTIVE, PoolMember.Status.BELOW_MINIMUM)


def pools_public() -> QuerySet[Pool]:
    """Approved pools, with their investor count and followed total."""
    return (
        Pool.objects.filter(status=Pool.Status.APPROVED)
        .select_related("bot", "bot__exchange_account__exchange", "manager")
        .annotate(
            investors=Count("members", filter=Q(members__status__in=OPEN_MEMBERS)),
            followed=Sum("members__amount", filter=Q(members__status__in=OPEN_MEMBERS)),
        )
        .order_by("-approved_at", "-id")
    )


def pool_visible(*, pool_id: int, user) -> Pool | None:
    """An approved pool, or any pool of its manager; None otherwise (a 404 for everyone else)."""
    qs = Pool.objects.select_related("bot", "bot__exchange_account__exchange", "manager").annotate(
        investors=Count("members", filter=Q(members__status__in=OPEN_MEMBERS)),
        followed=Sum("members__amount", filter=Q(members__status__in=OPEN_MEMBERS)),
    )
    visible = Q(status=Pool.Status.APPROVED)
    if getattr(user, "is_authenticated", False):
        visible |= Q(manager=user)
    return qs.filter(visible, pk=pool_id).first()


def pools_managed(*, user) -> QuerySet[Pool]:
    return (
        Pool.objects.filter(manager=user)
        .select_related("bot", "bot__exchange_account__exchange")
        .annotate(
            investors=Count("members", filter=Q(members__status__in=OPEN_MEMBERS)),
            followed=Sum("members__amount", filter=Q(members__status__in=OPEN_MEMBERS)),
        )
    )


def memberships(*, user) -> QuerySet[PoolMember]:
    return PoolMember.objects.filter(investor=user).select_related("pool", "bot", "exchange_account")


def membership(*, user, member_id: int) -> PoolMember | None:
    return memberships(user=user).filter(pk=member_id).first()


def track_record(*, pool: Pool, now=None) -> dict:
    """The manager bot's verified live results: from its fills of record (the profit book in
    BotMetrics folds the stored Trades) and its equity snapshots."""
    now = now or timezone.now()
    bot = pool.bot
    metrics = BotMetrics.objects.filter(bot=bot).first()
    first_fill = Trade.objects.filter(bot=bot).order_by("executed_at").values_list("executed_at", flat=True).first()
    since = first_fill or bot.started_at or pool.created_at
    invested = Decimal(bot.investment)
    total = (metrics.realized_pnl + metrics.unrealized_pnl) if metrics else ZERO
    gross_profit = metrics.gross_profit if metrics else ZERO
    gross_loss = metrics.gross_loss if metrics else ZERO
    equity = list(MetricSnapshot.objects.filter(bot=bot).order_by("taken_at").values_list("equity", flat=True))
    navs = list(PoolNav.objects.filter(pool=pool).order_by("taken_at", "id").values_list("nav", flat=True))
    return {
        "simulated": pool.is_paper,
        "since": since,
        "age_days": max((now - since).days, 0),
        "invested": invested,
        "total_pnl": total.quantize(accounting.CENT),
        "roi_percent": (total / invested * 100).quantize(accounting.CENT) if invested else None,
        "profit_factor": (gross_profit / gross_loss).quantize(accounting.CENT) if gross_loss else None,
        "max_drawdown_percent": accounting.max_drawdown_percent([*equity, invested + total] if equity else []),
        "pool_max_drawdown_percent": accounting.max_drawdown_percent(navs),
        "trade_count": metrics.trade_count if metrics else 0,
        "cycle_count": metrics.cycle_count if metrics else 0,
    }


def manager_earnings(*, user) -> dict:
    """The manager's ledger, newest first: `total` is what investors have paid (earned), `accrued`
    what is owed and not paid yet (invoiced or about to be)."""
    fees = PoolFee.objects.filter(manager=user).select_related("pool", "payment")
    sums = fees.aggregate(
        paid=Sum("amount", filter=Q(paid_at__isnull=False)), accrued=Sum("amount", filter=Q(paid_at__isnull=True))
    )
    return {"total": sums["paid"] or ZERO, "accrued": sums["accrued"] or ZERO, "fees": fees[:200]}


def member_fees(*, member: PoolMember) -> QuerySet[PoolFee]:
    return PoolFee.objects.filter(member=member)


def manager_application(*, user) -> PoolManager | None:
    return PoolManager.objects.filter(user=user).first()


def manager_record(*, user) -> dict:
    """What an applicant has done, from fills of record: their bots on real-money accounts
    ("live") and, apart, on paper, demo and testnet accounts ("paper", simulated)."""
    out = {}
    mainnet = ExchangeAccount.Environment.MAINNET
    for key, accounts in (("live", Q(exchange_account__environment=mainnet)),
                          ("paper", ~Q(exchange_account__environment=mainnet))):
        bots = Bot.objects.filter(accounts, user=user)
        sums = BotMetrics.objects.filter(bot__in=bots).aggregate(
            realized=Sum("realized_pnl"), unrealized=Sum("unrealized_pnl"), trades=Sum("trade_count")
        )
        first = Trade.objects.filter(bot__in=bots).order_by("executed_at").values_list("executed_at", flat=True).first()
        total = (sums["realized"] or ZERO) + (sums["unrealized"] or ZERO)
        out[key] = {
            "bots": bots.count(),
            "trade_count": sums["trades"] or 0,
            "total_pnl": total.quantize(accounting.CENT),
            "since": first,
        }
    return out
