"""Reads of the analytics app: candles as the engine sees them, series, backtests, screener."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.db import connection
from django.db.models import QuerySet

from analytics.models import Backtest, CandleSeries, ScreenerRow
from bots.engine.candles import Candle as EngineCandle
from bots.engine.candles import PricePath


def series_list() -> QuerySet[CandleSeries]:
    return CandleSeries.objects.order_by("venue", "category", "symbol")


def series_get(*, series_id: int) -> CandleSeries:
    return CandleSeries.objects.get(pk=series_id)


def candles_engine(
    *, series: CandleSeries, start: datetime | None = None, end: datetime | None = None
) -> list[EngineCandle]:
    """The series' 1-minute candles in [start, end), oldest first, as engine candles (Decimal).
    Read with one query straight into the engine's record (a month is ~43,000 rows)."""
    sql = (
        "SELECT open_time, open, high, low, close, volume FROM analytics_candle "
        "WHERE venue = %s AND category = %s AND symbol = %s"
    )
    params: list = [series.venue, series.category, series.symbol]
    if start is not None:
        sql += " AND open_time >= %s"
        params.append(start)
    if end is not None:
        sql += " AND open_time < %s"
        params.append(end)
    sql += " ORDER BY open_time"
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return [EngineCandle(int(t.timestamp()), o, h, low, c, v) for t, o, h, low, c, v in rows]


def _where(series: CandleSeries, start, end) -> tuple[str, dict]:
    where = "venue = %(venue)s AND category = %(category)s AND symbol = %(symbol)s"
    params: dict = {"venue": series.venue, "category": series.category, "symbol": series.symbol}
    if start is not None:
        where += " AND open_time >= %(start)s"
        params["start"] = start
    if end is not None:
        where += " AND open_time < %(end)s"
        params["end"] = end
    return where, params


def price_path(*, series: CandleSeries, start: datetime | None = None, end: datetime | None = None) -> PricePath | None:
    """The series' candles in [start, end) as the engine's price path, equal to
    PricePath.from_candles over the stored Decimals (each point price/tick rounded half-even, the
    nearer extreme first, high on a tie), without a Decimal object per candle: prices are read as
    one row of arrays; price/tick is exact in float64 for every point not within 1e-6 of a half
    tick, and any point that is makes the whole path be computed in PostgreSQL's numeric instead.
    None when there are no candles."""
    tick = series.tick_size.normalize()
    where, params = _where(series, start, end)
    sql = (
        "SELECT array_agg(extract(epoch from open_time)::bigint ORDER BY open_time), "
        "array_agg(open::float8 ORDER BY open_time), array_agg(high::float8 ORDER BY open_time), "
        "array_agg(low::float8 ORDER BY open_time), array_agg(close::float8 ORDER BY open_time), "
        "array_agg((high - open) <= (open - low) ORDER BY open_time) "
        f"FROM analytics_candle WHERE {where}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    if not row or row[0] is None:
        return None
    times = np.array(row[0], dtype=np.int64)
    x = np.array(row[1:5], dtype=np.float64) / float(tick)
    frac = x - np.floor(x)
    if np.any(np.abs(frac - 0.5) < 1e-6):
        return _price_path_numeric(series, tick, where, params)
    o, h, low, c = np.rint(x).astype(np.int64)
    return _assemble(tick, times, o, h, low, c, np.array(row[5], dtype=bool))


def _assemble(tick, times, o, h, low, c, high_first) -> PricePath:
    pts = np.stack([o, np.where(high_first, h, low), np.where(high_first, low, h), c], axis=1).reshape(-1)
    return PricePath(tick, pts, times)


def _price_path_numeric(series: CandleSeries, tick, where: str, params: dict) -> PricePath:
    def ticks(col: str) -> str:
        x = f"({col} / %(tick)s::numeric)"
        return f"(CASE WHEN {x} - trunc({x}) = 0.5 THEN trunc({x}) + mod(trunc({x}), 2) ELSE round({x}) END)::bigint"

    sql = (
        "SELECT array_agg(extract(epoch from open_time)::bigint ORDER BY open_time), "
        f"array_agg({ticks('open')} ORDER BY open_time), array_agg({ticks('high')} ORDER BY open_time), "
        f"array_agg({ticks('low')} ORDER BY open_time), array_agg({ticks('close')} ORDER BY open_time), "
        "array_agg((high - open) <= (open - low) ORDER BY open_time) "
        f"FROM analytics_candle WHERE {where}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, {**params, "tick": tick})
        row = cur.fetchone()
    times, o, h, low, c = (np.array(v, dtype=np.int64) for v in row[:5])
    return _assemble(tick, times, o, h, low, c, np.array(row[5], dtype=bool))


def candles_bucketed(
    *, series: CandleSeries, start: datetime, end: datetime, max_bars: int = 720
) -> tuple[int, list[dict]]:
    """The period's candles merged into bars of a whole number of minutes (at most `max_bars`),
    for a chart: (bar minutes, [{time, open, high, low, close, volume}] with decimals as strings)."""
    minutes_total = max(1, int((end - start).total_seconds() // 60))
    minutes = next((m for m in (1, 5, 15, 30, 60, 120, 240, 720, 1440) if minutes_total / m <= max_bars), 1440)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT extract(epoch from b)::bigint, (array_agg(open ORDER BY open_time))[1], max(high), min(low), "
            "(array_agg(close ORDER BY open_time DESC))[1], sum(volume) FROM (SELECT date_bin(make_interval(mins => %s), "
            "open_time, timestamptz '2000-01-01') AS b, open_time, open, high, low, close, volume FROM analytics_candle "
            "WHERE venue = %s AND category = %s AND symbol = %s AND open_time >= %s AND open_time < %s) AS w "
            "GROUP BY b ORDER BY b",
            [minutes, series.venue, series.category, series.symbol, start, end],
        )
        rows = cur.fetchall()
    plain = lambda d: format(d.normalize(), "f")  # noqa: E731
    return minutes, [
        {"time": t, "open": plain(o), "high": plain(h), "low": plain(low), "close": plain(c), "volume": plain(v)}
        for t, o, h, low, c, v in rows
    ]


def backtests_of(*, user) -> QuerySet[Backtest]:
    return Backtest.objects.filter(user=user).select_related("series")


def backtest_of(*, user, backtest_id: int) -> Backtest:
    """The user's backtest; another user's id raises DoesNotExist (answered 404)."""
    return backtests_of(user=user).get(pk=backtest_id)


def screener_rows() -> QuerySet[ScreenerRow]:
    return ScreenerRow.objects.select_related("series").order_by("-score")


SCREENER_SORTS = {
    "score",
    "quote_volume_24h",
    "atr_percent",
    "realized_vol_percent",
    "round_trips_per_day",
    "symbol",
    "venue",
    "spread_bps",
    "funding_rate",
}


def screener_venues() -> list[str]:
    """The venues the screener has rows of (the page's exchange filter)."""
    return sorted({row.series.venue for row in screener_rows()})


def screener_list(
    *, venue: str = "", category: str = "", sort: str = "-score", min_volume: float = 0.0, series_json
) -> list[dict]:
    """The screener's rows as the API and the MCP server show them: filtered by venue, category
    and 24 h volume, sorted by `sort` (a SCREENER_SORTS field, '-' for descending; anything else
    keeps the score order). `series_json` renders a row's series."""
    rows = [
        {
            "series": series_json(row.series),
            "score": str(row.score),
            "factors": row.factors,
            "suggestion": row.suggestion,
            "computed_at": row.computed_at,
        }
        for row in screener_rows()
        if (not venue or row.series.venue == venue) and (not category or row.series.category == category)
    ]
    rows = [r for r in rows if (r["factors"].get("quote_volume_24h") or 0) >= min_volume]
    key = sort.lstrip("-")
    if key in SCREENER_SORTS:

        def value(r):
            if key in ("symbol", "venue"):
                return (r["series"][key], r["series"]["symbol"])
            if key in ("spread_bps", "funding_rate"):  # unknown figures last whichever way
                known = r["factors"].get(key) is not None
                figure = r["factors"].get(key) or 0
                return (known, figure) if sort.startswith("-") else (not known, figure)
            if key == "score":
                return float(r["score"])
            if key == "round_trips_per_day":
                return r["suggestion"].get("round_trips_per_day") or 0
            return r["factors"].get(key) or 0

        rows.sort(key=value, reverse=sort.startswith("-"))
    return rows


def series_json(s: CandleSeries) -> dict:
    """A market series as the API and the MCP server show it."""
    return {
        "id": s.id,
        "venue": s.venue,
        "category": s.category,
        "symbol": s.symbol,
        "source": s.source,
        "first_time": s.first_time,
        "last_time": s.cursor,
        "candles": s.candle_count,
        "tick_size": str(s.tick_size.normalize()),
        "maker_fee": str(s.maker_fee.normalize()),
        "taker_fee": str(s.taker_fee.normalize()),
    }
