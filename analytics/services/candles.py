"""The market data store: 1-minute candles per (venue, category, symbol).

Candles come through the exchange port (ExchangeClient.klines, interval "1") or from the real
days shipped with the simulator (management command analytics_import_shipped). They are
upserted in bulk on their natural key, so a candle is never stored twice whatever is
re-downloaded; the series' cursor (newest stored open time) is where the next download resumes;
minutes missing between stored candles are recorded as CandleGap ranges. On PostgreSQL the table
is partitioned by month; the partitions a batch needs are created before it is written.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from analytics.models import Candle, CandleGap, CandleSeries
from exchanges.client import Category, ExchangeClient, FeeRates, InstrumentRules

logger = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
BATCH = 5000
# What a venue charges when the account's own rates are unknown (public market data has none).
DEFAULT_FEES = {
    Category.SPOT: FeeRates(maker=Decimal("0.001"), taker=Decimal("0.001")),
    Category.LINEAR: FeeRates(maker=Decimal("0.0002"), taker=Decimal("0.00055")),
}


@dataclass(frozen=True, slots=True)
class Bar:
    open_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def series_ensure(
    *, venue: str, rules: InstrumentRules, fees: FeeRates | None = None, source: str = CandleSeries.Source.EXCHANGE
) -> CandleSeries:
    """The series of this instrument, created or its rules refreshed."""
    fees = fees or DEFAULT_FEES[Category(rules.category)]
    series, _ = CandleSeries.objects.update_or_create(
        venue=venue,
        category=str(rules.category),
        symbol=rules.symbol,
        defaults={
            "source": source,
            "base_coin": rules.base_coin,
            "quote_coin": rules.quote_coin,
            "tick_size": rules.tick_size,
            "qty_step": rules.qty_step,
            "min_qty": rules.min_qty,
            "max_qty": rules.max_qty,
            "min_notional": rules.min_notional,
            "maker_fee": fees.maker,
            "taker_fee": fees.taker,
        },
    )
    return series


def series_rules(series: CandleSeries) -> InstrumentRules:
    return InstrumentRules(
        symbol=series.symbol,
        category=Category(series.category),
        base_coin=series.base_coin,
        quote_coin=series.quote_coin,
        tick_size=series.tick_size.normalize(),
        qty_step=series.qty_step.normalize(),
        min_qty=series.min_qty.normalize(),
        max_qty=series.max_qty.normalize(),
        min_notional=series.min_notional.normalize(),
    )


def series_fees(series: CandleSeries) -> FeeRates:
    return FeeRates(maker=series.maker_fee.normalize(), taker=series.taker_fee.normalize())


def _month_start(t: datetime) -> datetime:
    return datetime(t.year, t.month, 1, tzinfo=UTC)


def _next_month(t: datetime) -> datetime:
    return datetime(t.year + (t.month == 12), t.month % 12 + 1, 1, tzinfo=UTC)


def partitions_ensure(*, times: Iterable[datetime]) -> list[str]:
    """Create the monthly partitions these open times fall in (PostgreSQL; no-op elsewhere)."""
    if connection.vendor != "postgresql":
        return []
    months = sorted({_month_start(t.astimezone(UTC)) for t in times})
    names = []
    with connection.cursor() as cur:
        for month in months:
            name = f"analytics_candle_p{month:%Y%m}"
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF analytics_candle FOR VALUES FROM (%s) TO (%s)",
                [month, _next_month(month)],
            )
            names.append(name)
    return names


def _gaps(previous: datetime | None, times: Sequence[datetime]) -> list[tuple[datetime, datetime]]:
    gaps = []
    last = previous
    for t in times:
        if last is not None and t - last > MINUTE:
            gaps.append((last + MINUTE, t))
        last = t if last is None or t > last else last
    return gaps


def candles_upsert(*, series: CandleSeries, bars: Sequence[Bar]) -> int:
    """Store these candles (insert or overwrite by key), mark the minutes missing after the
    series' cursor as gaps, advance the cursor. Returns how many candles were written."""
    if not bars:
        return 0
    # One row per minute (the last value given wins), oldest first.
    bars = sorted({b.open_time: b for b in bars}.values(), key=lambda b: b.open_time)
    for b in bars:
        if b.open_time.second or b.open_time.microsecond:
            raise ValueError(f"a 1-minute candle must open on a whole minute: {b.open_time.isoformat()}")
        if not (b.low <= min(b.open, b.close) and max(b.open, b.close) <= b.high and b.low > 0 and b.volume >= 0):
            raise ValueError(f"inconsistent candle at {b.open_time.isoformat()}")
    with transaction.atomic():
        series = CandleSeries.objects.select_for_update().get(pk=series.pk)
        partitions_ensure(times=(bars[0].open_time, bars[-1].open_time, *(b.open_time for b in bars[::1440])))
        rows = [
            Candle(
                venue=series.venue,
                category=series.category,
                symbol=series.symbol,
                open_time=b.open_time,
                open=b.open,
                high=b.high,
                low=b.low,
                close=b.close,
                volume=b.volume,
            )
            for b in bars
        ]
        if connection.vendor == "postgresql":
            _copy_upsert(rows)
        else:
            for i in range(0, len(rows), BATCH):
                Candle.objects.bulk_create(
                    rows[i : i + BATCH],
                    update_conflicts=True,
                    unique_fields=["venue", "category", "symbol", "open_time"],
                    update_fields=["open", "high", "low", "close", "volume"],
                )
        after_cursor = [b.open_time for b in bars if series.cursor is None or b.open_time > series.cursor]
        gaps = _gaps(series.cursor, after_cursor)
        CandleGap.objects.bulk_create(
            [CandleGap(series=series, start=s, end=e) for s, e in gaps], ignore_conflicts=True
        )
        # A re-download that filled a recorded gap removes it.
        filled = [b.open_time for b in bars if series.cursor is not None and b.open_time <= series.cursor]
        if filled:
            CandleGap.objects.filter(series=series, start__in=filled, end__lte=filled[-1] + MINUTE).delete()
        stats = _series_candles(series).aggregate(n=Count("open_time"), first=Min("open_time"), last=Max("open_time"))
        series.candle_count = stats["n"]
        series.first_time = stats["first"]
        series.cursor = stats["last"]
        series.refreshed_at = timezone.now()
        series.last_error = ""
        series.save(update_fields=["candle_count", "first_time", "cursor", "refreshed_at", "last_error"])
    return len(rows)


def _copy_upsert(rows: list[Candle]) -> None:
    """PostgreSQL: COPY into a temporary table, then one INSERT ... ON CONFLICT DO UPDATE (a
    month of candles in about a second instead of tens of seconds of INSERT batches)."""
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS analytics_candle_in (LIKE analytics_candle INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE analytics_candle_in")
        with cur.cursor.copy(
            "COPY analytics_candle_in (venue, category, symbol, open_time, open, high, low, close, volume) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row((r.venue, r.category, r.symbol, r.open_time, r.open, r.high, r.low, r.close, r.volume))
        cur.execute(
            "INSERT INTO analytics_candle SELECT * FROM analytics_candle_in "
            "ON CONFLICT (venue, category, symbol, open_time) DO UPDATE SET open = EXCLUDED.open, "
            "high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume"
        )


def _series_candles(series: CandleSeries):
    return Candle.objects.filter(venue=series.venue, category=series.category, symbol=series.symbol)


def candles_download(*, series: CandleSeries, client: ExchangeClient, limit: int = 1000, max_pages: int = 10) -> int:
    """Fetch the candles newer than the series' cursor through the exchange port and store them.

    The port serves the most recent `limit` minutes per call; pages are requested until a page
    brings nothing new (the cursor reached the venue's present) or max_pages. Everything older
    than the first candle the venue still serves, after the cursor, is recorded as a gap."""
    written = 0
    for _ in range(max_pages):
        klines = client.klines(category=Category(series.category), symbol=series.symbol, interval="1", limit=limit)
        cursor = series.cursor
        fresh = [
            Bar(k.start.astimezone(UTC), k.open, k.high, k.low, k.close, k.volume)
            for k in klines
            if cursor is None or k.start > cursor
        ]
        if not fresh:
            break
        written += candles_upsert(series=series, bars=fresh)
        series.refresh_from_db()
        if len(fresh) < len(klines) or len(klines) < limit:
            break
    return written


def candles_refresh_all(*, client_for_venue) -> dict[str, int]:
    """The periodic refresh: every downloaded series gets its new candles. One series failing
    (venue down, symbol delisted) is recorded on it and does not stop the others."""
    out: dict[str, int] = {}
    for series in CandleSeries.objects.filter(source=CandleSeries.Source.EXCHANGE).order_by("id"):
        try:
            out[str(series)] = candles_download(series=series, client=client_for_venue(series.venue))
        except Exception as exc:  # noqa: BLE001 - recorded on the series, the loop goes on
            logger.warning("candle refresh of %s failed: %s", series, exc)
            CandleSeries.objects.filter(pk=series.pk).update(last_error=str(exc)[:300])
            out[str(series)] = -1
    return out


def read_shipped_csv(path: Path) -> list[Bar]:
    """timestamp_ms,open,high,low,close,volume (gzipped or not), header line first."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    reader = csv.reader(io.StringIO(raw.decode()))
    next(reader, None)
    return [
        Bar(
            datetime.fromtimestamp(int(r[0]) // 1000, tz=UTC),
            Decimal(r[1]),
            Decimal(r[2]),
            Decimal(r[3]),
            Decimal(r[4]),
            Decimal(r[5]),
        )
        for r in reader
        if len(r) >= 6
    ]
