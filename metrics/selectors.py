"""Read queries of the API: figures, dashboard aggregates, filtered lists. Every query takes the
requesting user and never returns another user's rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from metrics.models import BotMetrics, Cycle, MetricSnapshot

# bots.models.Bot.ACTIVE_STATUSES (metrics sits below bots; tests/metrics keep the two equal).
ACTIVE_STATUSES = ("starting", "running", "stopping", "error")
HUNDRED = Decimal(100)
DAYS_PER_YEAR = Decimal(365)
SECONDS_PER_DAY = Decimal(86400)
PERCENT = Decimal("0.0001")  # percentages to 4 decimal places
DAYS = Decimal("0.0001")
# Annualised figures (grid APR, total APR) mean nothing over a few minutes (a 0.1 % gain in ten
# minutes "is" 5,000 % a year): they are null (shown as "—") until the bot has run this long.
APR_MIN_DAYS = Decimal(1)  # 24 hours


def _days_running(bot, now: datetime) -> Decimal:
    if not bot.started_at:
        return Decimal(0)
    end = bot.stopped_at if bot.stopped_at and bot.status in ("stopped", "draft") else now
    seconds = max((end - bot.started_at).total_seconds(), 0)
    return (Decimal(int(seconds)) / SECONDS_PER_DAY).quantize(DAYS)


def _ratio_percent(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (numerator / denominator * HUNDRED).quantize(PERCENT)


def metrics_figures(
    *,
    bot,
    metrics: BotMetrics | None,
    now: datetime | None = None,
    with_24h: bool = True,
    cycles_24h: int | None = None,
) -> dict:
    """The `metrics` object of docs/api-contract.md for one bot (Decimals; the serializer makes
    strings). APRs and ROI are percentages; APRs are null until the bot has run APR_MIN_DAYS,
    and each carries the sign of the profit it annualises (total APR: of total_pnl).
    `cycles_24h`: the count already read for many bots at once (metrics_cycles_24h_by_bot)."""
    now = now or timezone.now()
    invested = Decimal(bot.investment)
    if metrics is None:
        zero = Decimal(0)
        metrics = BotMetrics(
            invested=invested, quote_balance=invested, grid_profit=zero, realized_pnl=zero, unrealized_pnl=zero,
            fees_quote=zero, funding=zero, gross_profit=zero, gross_loss=zero, base_position=zero, cost_basis=zero,
        )
    grid_profit = Decimal(metrics.grid_profit)
    unrealized = Decimal(metrics.unrealized_pnl)
    funding = Decimal(metrics.funding)
    # The profit book's total (bots.engine.book.ProfitBook.total_pnl): realized + inventory + funding.
    total = Decimal(metrics.realized_pnl) + unrealized + funding
    days = _days_running(bot, now)
    profit_factor = None
    if metrics.gross_loss:
        profit_factor = (metrics.gross_profit / metrics.gross_loss).quantize(PERCENT)
    grid_apr = total_apr = None
    if days >= APR_MIN_DAYS and invested:
        grid_apr = (grid_profit / invested / days * DAYS_PER_YEAR * HUNDRED).quantize(PERCENT)
        total_apr = (total / invested / days * DAYS_PER_YEAR * HUNDRED).quantize(PERCENT)
    if not with_24h:
        cycles_24h = None
    elif cycles_24h is None:
        cycles_24h = Cycle.objects.filter(bot_id=bot.pk, closed_at__gte=now - timedelta(hours=24)).count()
    return {
        "invested": invested,
        "grid_profit": grid_profit,
        "realized_pnl": metrics.realized_pnl,
        "unrealized_pnl": unrealized,
        "total_pnl": total,
        "current_value": invested + total,
        "fees": metrics.fees_quote,
        "funding": funding,
        "profit_factor": profit_factor,
        "roi_percent": _ratio_percent(total, invested),
        "grid_apr": grid_apr,
        "total_apr": total_apr,
        "days_running": days,
        "trade_count": metrics.trade_count,
        "cycle_count": metrics.cycle_count,
        "cycle_count_24h": cycles_24h,
        "base_position": metrics.base_position,
        "last_price": metrics.last_price,
        "drift_detected": metrics.drift_detected_at is not None,
    }


def metrics_cycles_24h_by_bot(*, bot_ids, now: datetime) -> dict[int, int]:
    from django.db.models import Count

    rows = (
        Cycle.objects.filter(bot_id__in=list(bot_ids), closed_at__gte=now - timedelta(hours=24))
        .values("bot_id")
        .annotate(n=Count("id"))
    )
    return {r["bot_id"]: r["n"] for r in rows}


def user_metrics_totals(*, bots, now: datetime | None = None) -> dict:
    """Totals across one user's bots (bots.selectors.user_bots, metrics joined): invested (active
    bots), current value, grid profit, total PnL (all bots, including stopped ones), ROI on the
    invested amount of those bots."""
    now = now or timezone.now()
    bots = list(bots)
    cycles = metrics_cycles_24h_by_bot(bot_ids=[b.pk for b in bots], now=now)
    zero = Decimal(0)
    totals: dict[str, Any] = {
        "bot_count": len(bots),
        "active_bot_count": 0,
        "invested": zero,
        "current_value": zero,
        "grid_profit": zero,
        "unrealized_pnl": zero,
        "total_pnl": zero,
        "fees": zero,
        "funding": zero,
        "trade_count": 0,
        "cycle_count": 0,
        "cycle_count_24h": 0,
        "roi_percent": None,
    }
    all_invested = zero
    for bot in bots:
        if bot.status == "draft":
            continue
        figures = metrics_figures(bot=bot, metrics=getattr(bot, "metrics", None), now=now, with_24h=False)
        active = bot.status in ACTIVE_STATUSES
        if active:
            totals["active_bot_count"] += 1
            totals["invested"] += figures["invested"]
            totals["current_value"] += figures["current_value"]
        all_invested += figures["invested"]
        for key in ("grid_profit", "unrealized_pnl", "total_pnl", "fees", "funding", "trade_count", "cycle_count"):
            totals[key] += figures[key]
        totals["cycle_count_24h"] += cycles.get(bot.pk, 0)
    totals["roi_percent"] = _ratio_percent(totals["total_pnl"], all_invested)
    return totals


def bot_metrics_series(*, bot, since: datetime | None = None, limit: int = 2000) -> list[dict]:
    qs = MetricSnapshot.objects.filter(bot=bot)
    if since:
        qs = qs.filter(taken_at__gte=since)
    rows = list(qs.order_by("-taken_at")[:limit].values("taken_at", "price", "equity", "grid_profit", "total_pnl"))
    rows.reverse()
    return [
        {
            "time": r["taken_at"],
            "price": r["price"],
            "equity": r["equity"],
            "grid_profit": r["grid_profit"],
            "total_pnl": r["total_pnl"],
        }
        for r in rows
    ]


def metrics_or_none(bot):
    try:
        return bot.metrics
    except BotMetrics.DoesNotExist:
        return None
