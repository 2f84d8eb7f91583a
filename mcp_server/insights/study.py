"""Trade study of one bot and of a user's portfolio, from the same books the bot page shows
(metrics.BotMetrics: the one profit book folded over the fills; metrics.Cycle; trading.Trade;
metrics.MetricSnapshot). Decimal for money, floats only for shares and statistics."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import ExtractHour

ZERO = Decimal(0)


def _s(value) -> str:
    value = Decimal(value or 0)
    return format(value.normalize(), "f") if value else "0"


def bot_attribution(*, bot) -> dict:
    """Where the profit came from: completed grid cycles, the inventory (coins bought and
    still held or sold outside the grid, valued at the last price), fees (already inside both
    figures: shown so the user sees what the exchange took), funding (perpetuals)."""
    from metrics.models import BotMetrics

    m = BotMetrics.objects.filter(bot_id=bot.pk).first()
    if m is None:
        return {"grid": "0", "inventory": "0", "fees": "0", "funding": "0", "total": "0"}
    grid = m.grid_profit
    inventory = m.realized_pnl - m.grid_profit + m.unrealized_pnl
    funding = m.funding
    return {
        "grid": _s(grid),
        "inventory": _s(inventory),
        "fees": _s(m.fees_quote),
        "funding": _s(funding),
        "total": _s(grid + inventory + funding),
    }


def bot_fills(*, bot) -> dict:
    """Fills per hour of day (UTC) and completed cycles per grid level with their profit."""
    from metrics.models import Cycle
    from trading.models import Trade

    by_hour = dict(
        Trade.objects.filter(bot=bot).annotate(h=ExtractHour("executed_at")).values_list("h").annotate(n=Count("id"))
    )
    levels = (
        Cycle.objects.filter(bot=bot).values("level").annotate(n=Count("id"), profit=Sum("profit")).order_by("level")
    )
    return {
        "fills_per_hour": [by_hour.get(h, 0) for h in range(24)],
        "cycles_per_level": [{"level": r["level"], "cycles": r["n"], "profit": _s(r["profit"])} for r in levels],
    }


def bot_cycle_gaps(*, bot) -> dict:
    """Time between consecutive completed cycles (minutes): how busy the grid is. The open
    time of each cycle is not stored, so this is the cadence, not each cycle's own duration."""
    from metrics.models import Cycle

    times = list(Cycle.objects.filter(bot=bot).order_by("closed_at").values_list("closed_at", flat=True))
    gaps = sorted((b - a).total_seconds() / 60 for a, b in zip(times, times[1:], strict=False))
    if not gaps:
        return {"cycles": len(times), "median_minutes": None, "p90_minutes": None}
    return {
        "cycles": len(times),
        "median_minutes": round(gaps[len(gaps) // 2], 1),
        "p90_minutes": round(gaps[min(len(gaps) - 1, int(len(gaps) * 0.9))], 1),
    }


def bot_range_exits(*, bot) -> dict:
    """How often and how far the price left the grid's range, from the bot's price snapshots."""
    from metrics.models import MetricSnapshot

    config = bot.config or {}
    try:
        lower, upper = Decimal(str(config["lower_price"])), Decimal(str(config["upper_price"]))
    except (KeyError, ArithmeticError):
        return {"snapshots": 0, "outside_share": None, "exits": 0, "max_below_percent": None, "max_above_percent": None}
    prices = [
        p for p in MetricSnapshot.objects.filter(bot=bot).order_by("taken_at").values_list("price", flat=True) if p
    ]
    outside = [p < lower or p > upper for p in prices]
    exits = sum(1 for a, b in zip([False, *outside], outside, strict=False) if b and not a)
    below = max((float((lower - p) / lower * 100) for p in prices if p < lower), default=0.0)
    above = max((float((p - upper) / upper * 100) for p in prices if p > upper), default=0.0)
    return {
        "snapshots": len(prices),
        "outside_share": round(sum(outside) / len(prices), 4) if prices else None,
        "exits": exits,
        "max_below_percent": round(below, 2),
        "max_above_percent": round(above, 2),
    }


def bot_study(*, bot, language: str = "en") -> dict:
    study = {
        "bot_id": bot.pk,
        "symbol": bot.symbol,
        "attribution": bot_attribution(bot=bot),
        **bot_fills(bot=bot),
        "cycle_cadence": bot_cycle_gaps(bot=bot),
        "range": bot_range_exits(bot=bot),
    }
    study["facts"] = study_facts(study)
    from mcp_server.insights.summary import study_summary

    study["summary"] = study_summary(facts=study["facts"], language=language)
    return study


def study_facts(study: dict) -> list[str]:
    """The study as plain sentences: what a person reads when no language model is configured."""
    a = study["attribution"]
    facts = [
        f"Profit {a['total']} USDT: grid cycles {a['grid']}, inventory {a['inventory']}, funding {a['funding']}; "
        f"fees paid {a['fees']} (already inside these figures)."
    ]
    if Decimal(a["inventory"]) < 0 < Decimal(a["grid"]) and -Decimal(a["inventory"]) > Decimal(a["grid"]):
        facts.append("The coins held lost more than the grid earned: the price moved away from the range.")
    hours = study["fills_per_hour"]
    if sum(hours):
        busiest = max(range(24), key=hours.__getitem__)
        facts.append(f"Most fills happen at {busiest:02d}:00-{busiest:02d}:59 UTC ({hours[busiest]} of {sum(hours)}).")
    levels = study["cycles_per_level"]
    if levels:
        top = max(levels, key=lambda r: r["cycles"])
        facts.append(f"Level {top['level']} completed the most cycles ({top['cycles']}).")
    r = study["range"]
    if r["snapshots"]:
        facts.append(
            f"The price was outside the range {round((r['outside_share'] or 0) * 100)} % of the time "
            f"({r['exits']} exits; furthest {r['max_below_percent']} % below, {r['max_above_percent']} % above)."
        )
    return facts


def portfolio_study(*, user) -> dict:
    """Across the user's bots: totals, each bot's share of the capital and of the profit, and
    the concentration by coin (the share of capital in the largest symbol)."""
    from bots.selectors import user_bots
    from metrics.models import BotMetrics

    bots = list(user_bots(user=user))
    metrics = {m.bot_id: m for m in BotMetrics.objects.filter(bot__in=bots)}
    capital = sum((b.investment or ZERO for b in bots), ZERO)
    rows = []
    per_symbol: dict[str, Decimal] = defaultdict(lambda: ZERO)
    statuses = Counter(b.status for b in bots)
    total_profit = ZERO
    for b in bots:
        m = metrics.get(b.pk)
        profit = (m.realized_pnl + m.unrealized_pnl) if m else ZERO
        total_profit += profit
        per_symbol[b.symbol] += b.investment or ZERO
        rows.append(
            {
                "bot_id": b.pk,
                "name": b.name,
                "symbol": b.symbol,
                "status": b.status,
                "investment": _s(b.investment),
                "profit": _s(profit),
                "capital_share": round(float(b.investment / capital), 4) if capital else None,
            }
        )
    largest = max(per_symbol.items(), key=lambda kv: kv[1], default=(None, ZERO))
    return {
        "bots": rows,
        "statuses": dict(statuses),
        "capital": _s(capital),
        "profit": _s(total_profit),
        "roi_percent": round(float(total_profit / capital * 100), 2) if capital else None,
        "by_symbol": {k: _s(v) for k, v in sorted(per_symbol.items())},
        "largest_symbol": largest[0],
        "largest_symbol_share": round(float(largest[1] / capital), 4) if capital else None,
    }
