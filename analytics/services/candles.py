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
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min
from django.utils import timezone

from analytics.models import Candle, CandleGap, CandleSeries
from exchanges.client import Category, ExchangeClient, FeeRates, InstrumentRules
from exchanges.errors import ExchangeError

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


PAGE_LIMITS = {"okx": 300}  # candles per request where a venue serves fewer than 1000


def candles_download(
    *, series: CandleSeries, client: ExchangeClient, limit: int | None = None, max_pages: int = 50,
    days: int | None = None,
) -> int:
    """Backfill the series through the exchange port, paged forward from its cursor.

    One request (limit 1) learns the venue's newest minute. A new series starts `days` before
    it (SETKA_ANALYTICS_BACKFILL_DAYS); a stored one at the minute after its cursor, so an
    interrupted backfill resumes where it stopped and a finished one asks for nothing more.
    Each page asks for the candles from `start`; what it brings is upserted (never stored
    twice) and the next page starts after its last candle. A page that brings nothing while the
    venue has newer minutes is a hole: it is stepped over, and the minutes between the stored
    cursor and the next candle the venue has become a CandleGap when that candle is stored.
    Returns how many candles were written."""
    category = Category(series.category)
    limit = limit or PAGE_LIMITS.get(series.venue, 1000)
    latest = client.klines(category=category, symbol=series.symbol, interval="1", limit=1)
    if not latest:
        return 0
    newest = latest[-1].start.astimezone(UTC)
    if series.cursor is None:
        depth = days if days is not None else int(getattr(settings, "SETKA_ANALYTICS_BACKFILL_DAYS", 30))
        start = newest - timedelta(days=depth)
    else:
        start = series.cursor.astimezone(UTC) + MINUTE
    written = 0
    for _ in range(max_pages):
        if start > newest:
            break
        klines = client.klines(category=category, symbol=series.symbol, interval="1", limit=limit, start=start)
        fresh = [
            Bar(k.start.astimezone(UTC), k.open, k.high, k.low, k.close, k.volume)
            for k in klines
            if start <= k.start <= newest
        ]
        if not fresh:
            start += limit * MINUTE
            continue
        written += candles_upsert(series=series, bars=fresh)
        start = max(b.open_time for b in fresh) + MINUTE
    series.refresh_from_db()
    return written


def series_discover(*, venue: str, client: ExchangeClient, categories: Iterable[Category]) -> list[CandleSeries]:
    """Every instrument the venue lists (its instruments endpoint, through the port) as a
    series: new ones are created to be downloaded, known ones get their rules refreshed (and
    keep their source). Instruments not trading are left out."""
    out = []
    for category in categories:
        for rules in client.symbols(category=category):
            if rules.status not in ("Trading", "trading", ""):
                continue
            existing = CandleSeries.objects.filter(venue=venue, category=str(category), symbol=rules.symbol).first()
            source = existing.source if existing else CandleSeries.Source.EXCHANGE
            out.append(series_ensure(venue=venue, rules=rules, source=source))
    return out


def series_quote_refresh(*, series: CandleSeries, client: ExchangeClient) -> None:
    """The screener's live figures of a series from the venue's ticker: the bid/ask spread (in
    percent of the mid price) and, for perpetuals, the current funding rate."""
    ticker = client.ticker(category=Category(series.category), symbol=series.symbol)
    spread = None
    if ticker.bid_price and ticker.ask_price and ticker.ask_price >= ticker.bid_price > 0:
        mid = (ticker.bid_price + ticker.ask_price) / 2
        spread = ((ticker.ask_price - ticker.bid_price) / mid * 100).quantize(Decimal("0.00000001"))
    funding = None
    if series.category == Category.LINEAR:
        funding = ticker.funding_rate
        if funding is None:  # the venue's ticker does not carry it: its funding endpoint
            try:
                funding = client.funding_rate(category=Category.LINEAR, symbol=series.symbol)
            except ExchangeError as exc:
                logger.info("funding rate of %s unavailable: %s", series, exc)
    CandleSeries.objects.filter(pk=series.pk).update(
        spread_percent=spread, funding_rate=funding.quantize(Decimal("1e-10")) if funding is not None else None
    )


def market_data_venues() -> list[str]:
    """The venues whose market data is downloaded: every venue with an endpoint configured."""
    configured = getattr(settings, "SETKA_ANALYTICS_VENUES", None)
    if configured is not None:
        return list(configured)
    return ["bybit", *getattr(settings, "SETKA_VENUE_SIMULATOR_URLS", {})]


def candles_refresh_all(
    *, client_for_venue, venues: Iterable[str] | None = None, budget_seconds: float | None = None
) -> dict[str, int]:
    """The periodic refresh, venue by venue: the instrument list from the venue's instruments
    endpoint, then for every series of the venue its ticker figures and its new candles. One
    venue or series failing (venue down, symbol delisted) is recorded (on the series, or as -1
    under the venue's name) and does not stop the others.

    With a time budget, no new series is started once it is spent (the task must leave time for
    the screener); the series refreshed longest ago go first, so the next run picks up the ones
    left over, and each download resumes at its cursor."""
    from exchanges.venues import VENUES

    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else None
    out: dict[str, int] = {}
    for code in venues if venues is not None else market_data_venues():
        try:
            client = client_for_venue(code)
            spec = VENUES.get(code)
            series_discover(venue=code, client=client, categories=spec.categories if spec else (Category.SPOT,))
        except Exception as exc:  # noqa: BLE001 - recorded, the loop goes on
            logger.warning("instrument list of %s failed: %s", code, exc)
            out[code] = -1
            continue
        wanted = (CandleSeries.Source.EXCHANGE, CandleSeries.Source.SHIPPED)
        stale_first = (F("refreshed_at").asc(nulls_first=True), "id")
        for series in CandleSeries.objects.filter(venue=code, source__in=wanted).order_by(*stale_first):
            if deadline is not None and time.monotonic() >= deadline:
                out["deferred"] = out.get("deferred", 0) + 1
                continue
            try:
                series_quote_refresh(series=series, client=client)
                out[str(series)] = candles_download(series=series, client=client)
            except Exception as exc:  # noqa: BLE001 - recorded on the series, the loop goes on
                logger.warning("candle refresh of %s failed: %s", series, exc)
                CandleSeries.objects.filter(pk=series.pk).update(last_error=str(exc)[:300])
                out[str(series)] = -1
            # tried now, written or not: the series waits behind the others next time
            CandleSeries.objects.filter(pk=series.pk).update(refreshed_at=timezone.now())
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
