"""Reads of the analytics app: candles as the engine sees them, series, backtests, screener."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from analytics.models import Backtest, CandleSeries, ScreenerRow
from bots.engine.candles import Candle as EngineCandle


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


def backtests_of(*, user) -> QuerySet[Backtest]:
    return Backtest.objects.filter(user=user).select_related("series")


def backtest_of(*, user, backtest_id: int) -> Backtest:
    """The user's backtest; another user's id raises DoesNotExist (answered 404)."""
    return backtests_of(user=user).get(pk=backtest_id)


def screener_rows() -> QuerySet[ScreenerRow]:
    return ScreenerRow.objects.select_related("series").order_by("-score")
