"""The grid screener: every stored series scored on liquidity, volatility and how range-bound
it is (analytics/factors.py), with a suggested range and grid count whose round trips per day
net of fees are counted on the series' own history by the kernel's sweep."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from analytics import factors as F
from analytics.models import CandleSeries, ScreenerRow
from analytics.services.candles import series_fees, series_rules
from bots.engine.candles import PricePath
from bots.engine.config import Direction, GridConfig, Spacing, Strategy
from bots.engine.sweep import sweep

WINDOW_MINUTES = 3 * 1440  # the last three days
GRID_COUNTS = (6, 12, 24, 48)
NOMINAL_INVESTMENT = Decimal(10000)  # quote; the figures are per round trip / per day, not per amount


def _windows(series_ids: list[int], window: int) -> dict[int, tuple]:
    """The last `window` minutes of each series, in one query: per series one row of arrays
    (time, open, high, low, close, volume as float64: scores, not money)."""
    if not series_ids:
        return {}
    if connection.vendor != "postgresql":
        return _windows_portable(series_ids, window)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT s.id, array_agg(extract(epoch from c.open_time)::bigint), "
            "array_agg(c.open::float8), array_agg(c.high::float8), "
            "array_agg(c.low::float8), array_agg(c.close::float8), "
            "array_agg(c.volume::float8) "
            "FROM analytics_candleseries s JOIN analytics_candle c ON c.venue = s.venue AND c.category = s.category "
            "AND c.symbol = s.symbol AND c.open_time > s.cursor - make_interval(mins => %s) "
            "WHERE s.id = ANY(%s) GROUP BY s.id",
            [window, series_ids],
        )
        rows = cur.fetchall()
    out = {}
    for r in rows:
        t = np.array(r[1], dtype=np.int64)
        order = np.argsort(t, kind="stable")
        out[r[0]] = (t[order], *(np.array(v, dtype=np.float64)[order] for v in r[2:]))
    return out


def _windows_portable(series_ids: list[int], window: int) -> dict[int, tuple]:
    """The same windows through the ORM, one query per series (the quick start's SQLite has no
    array_agg or make_interval)."""
    from datetime import timedelta

    from analytics.models import Candle

    out = {}
    for series in CandleSeries.objects.filter(pk__in=series_ids, cursor__isnull=False):
        if series.cursor is None:  # (filtered out above; for the type checker)
            continue
        rows = list(
            Candle.objects.filter(
                venue=series.venue,
                category=series.category,
                symbol=series.symbol,
                open_time__gt=series.cursor - timedelta(minutes=window),
            )
            .order_by("open_time")
            .values_list("open_time", "open", "high", "low", "close", "volume")
        )
        if not rows:
            continue
        t = np.array([int(r[0].timestamp()) for r in rows], dtype=np.int64)
        columns = [[float(r[i]) for r in rows] for i in range(1, 6)]  # type: ignore[arg-type]  # Decimal columns
        out[series.pk] = (t, *(np.array(col, dtype=np.float64) for col in columns))
    return out


def _suggest(series: CandleSeries, t, o, h, low, c) -> dict:
    """A range around the window's central 80 % of closes and the grid count whose spacing earns
    the most net of fees on this history (kernel sweep)."""
    rules, fees = series_rules(series), series_fees(series)
    tick = rules.tick_size
    lower = (Decimal(repr(float(np.quantile(c, 0.1)))) / tick).to_integral_value(ROUND_FLOOR) * tick
    upper = (Decimal(repr(float(np.quantile(c, 0.9)))) / tick).to_integral_value(ROUND_CEILING) * tick
    if upper <= lower:
        upper = lower + tick * 10
    strategy = Strategy.SPOT_GRID if series.category == "spot" else Strategy.LINEAR_GRID
    configs = [
        GridConfig(
            strategy=strategy,
            lower_price=lower,
            upper_price=upper,
            grid_count=n,
            spacing=Spacing.GEOMETRIC,
            investment=NOMINAL_INVESTMENT,
            direction=Direction.NEUTRAL,
        )
        for n in GRID_COUNTS
    ]
    path = PricePath(tick, F.path_ticks(o, h, low, c, float(tick)), t)
    days = len(c) / 1440
    best = None
    for config, row in zip(configs, sweep(configs, rules, path, fees=fees), strict=True):
        if row.error:
            continue
        step_pct = float((upper / lower) ** (Decimal(1) / config.grid_count) - 1) * 100
        net_pct = step_pct - 2 * float(fees.maker) * 100
        if net_pct <= 0:
            continue
        trips = row.grid_sells / days if days else 0.0
        candidate: dict[str, Any] = {
            "lower_price": str(lower),
            "upper_price": str(upper),
            "grid_count": config.grid_count,
            "spacing": "geometric",
            "net_profit_per_round_trip_percent": round(net_pct, 4),
            "round_trips_per_day": round(trips, 2),
            "net_grid_percent_per_day": round(trips * net_pct / config.grid_count, 4),
            "history_roi_percent": str(row.roi_percent.quantize(Decimal("0.01"))),
        }
        if best is None or candidate["net_grid_percent_per_day"] > best["net_grid_percent_per_day"]:
            best = candidate
    return best or {
        "lower_price": str(lower),
        "upper_price": str(upper),
        "grid_count": None,
        "round_trips_per_day": 0.0,
        "note": "no grid count earns more than its fees on this history",
    }


def screener_row_compute(
    *, series: CandleSeries, window: int = WINDOW_MINUTES, data: tuple | None = None
) -> dict | None:
    if data is None:
        data = _windows([series.pk], window).get(series.pk)
    if data is None or len(data[0]) < 240:
        return None
    t, o, h, low, c, v = data
    fx = F.factors(o, h, low, c, v)
    fx["spread_percent"] = float(series.spread_percent) if series.spread_percent is not None else None
    fx["spread_bps"] = round(float(series.spread_percent) * 100, 2) if series.spread_percent is not None else None
    fx["funding_rate"] = float(series.funding_rate) if series.funding_rate is not None else None
    fx["window_hours"] = round(len(c) / 60, 1)
    return {"factors": fx, "suggestion": _suggest(series, t, o, h, low, c), "score": fx["range_score"]}


def screener_refresh(*, series_ids: list[int] | None = None) -> int:
    """Recompute the screener rows (all series, or these); returns how many were written."""
    qs = CandleSeries.objects.filter(candle_count__gt=0, cursor__isnull=False)
    if series_ids is not None:
        qs = qs.filter(pk__in=series_ids)
    now = timezone.now()
    rows = []
    series_all = list(qs)
    windows = _windows([s.pk for s in series_all], WINDOW_MINUTES)
    for series in series_all:
        computed = screener_row_compute(series=series, data=windows.get(series.pk))
        if computed is None:
            continue
        rows.append(
            ScreenerRow(
                series=series,
                score=Decimal(repr(round(computed["score"], 4))),
                factors=computed["factors"],
                suggestion=computed["suggestion"],
                computed_at=now,
            )
        )
    with transaction.atomic():
        ScreenerRow.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["series"],
            update_fields=["score", "factors", "suggestion", "computed_at"],
        )
    return len(rows)
