"""The candle store: never a duplicate, gaps recorded, resumable downloads, monthly partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection

from analytics.models import Candle, CandleGap, CandleSeries
from analytics.services import Bar, candles_download, candles_refresh_all, candles_upsert
from exchanges.client import Category, Kline, Ticker
from tests.analytics.synthetic import START, bars

pytestmark = pytest.mark.django_db


def test_storing_the_same_candles_twice_keeps_one_copy_and_takes_the_newer_values(make_series):
    series = make_series()
    first = bars("random_walk", 120, seed=1)
    candles_upsert(series=series, bars=first)
    changed = [Bar(b.open_time, b.open, b.high + D("1"), b.low, b.close, b.volume + 1) for b in first[:10]]
    candles_upsert(series=series, bars=first + changed)
    series.refresh_from_db()
    assert Candle.objects.filter(symbol=series.symbol).count() == 120 == series.candle_count
    stored = Candle.objects.get(symbol=series.symbol, open_time=first[0].open_time)
    assert stored.high == first[0].high + 1
    assert series.cursor == first[-1].open_time and series.first_time == first[0].open_time
    assert not CandleGap.objects.filter(series=series).exists()


def test_missing_minutes_become_a_gap_and_refilling_them_removes_it(make_series):
    series = make_series()
    all_bars = bars("random_walk", 100, seed=2)
    candles_upsert(series=series, bars=all_bars[:40] + all_bars[55:])
    gap = CandleGap.objects.get(series=series)
    assert (gap.start, gap.end) == (all_bars[40].open_time, all_bars[55].open_time)
    candles_upsert(series=series, bars=all_bars[40:55])
    assert not CandleGap.objects.filter(series=series).exists()
    assert Candle.objects.filter(symbol=series.symbol).count() == 100


def test_candles_land_in_monthly_partitions_on_postgresql(make_series):
    series = make_series()
    late = START + timedelta(days=31)
    candles_upsert(series=series, bars=bars("random_walk", 5, seed=3) + bars("random_walk", 5, seed=4, start=late))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'analytics_candle' ORDER BY 1"
        )
        names = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT count(*) FROM analytics_candle_p202402")
        in_february = cur.fetchone()[0]
    assert {"analytics_candle_p202401", "analytics_candle_p202402"} <= set(names)
    assert in_february == 5


def test_a_bad_candle_is_refused_and_nothing_is_written(make_series):
    series = make_series()
    good = bars("random_walk", 3, seed=5)
    bad = Bar(good[-1].open_time + timedelta(minutes=1), D("10"), D("9"), D("8"), D("10"), D("1"))  # high < open
    with pytest.raises(ValueError):
        candles_upsert(series=series, bars=[*good, bad])
    assert not Candle.objects.filter(symbol=series.symbol).exists()


class Venue:
    """The exchange port's klines as a venue serves them: the newest `limit` minutes up to its
    present (`now` minutes have happened), or the first `limit` from `start`; minutes listed in
    `holes` it has no candle for; it lists `listed` instruments and quotes a ticker."""

    def __init__(self, all_bars, *, holes=(), listed=()):
        self.bars = all_bars
        self.now = len(all_bars)
        self.holes = set(holes)
        self.calls = 0
        self.listed = list(listed)

    def served(self):
        return [b for i, b in enumerate(self.bars[: self.now]) if i not in self.holes]

    def klines(self, *, category, symbol, interval, limit, start=None):
        assert interval == "1"
        self.calls += 1
        served = self.served()
        window = served[-limit:] if start is None else [b for b in served if b.open_time >= start][:limit]
        return [Kline(b.open_time, b.open, b.high, b.low, b.close, b.volume) for b in window]

    def symbols(self, *, category):
        return [r for r in self.listed if r.category == category]

    def ticker(self, *, category, symbol):
        last = self.served()[-1].close
        return Ticker(symbol, last, last - D("0.05"), last + D("0.05"), funding_rate=D("0.0001"))


def _stored(series):
    return list(Candle.objects.filter(symbol=series.symbol).order_by("open_time").values_list("open_time", flat=True))


def test_an_interrupted_backfill_resumes_without_duplicates_records_the_gap_and_then_fetches_nothing(make_series):
    series = make_series()
    venue = Venue(bars("random_walk", 400, seed=6), holes=range(150, 220))
    # interrupted after three pages of 50
    assert candles_download(series=series, client=venue, limit=50, max_pages=3, days=1) == 150
    series.refresh_from_db()
    assert series.cursor == venue.bars[149].open_time
    # resumed: from the minute after the cursor, over the hole, to the venue's present
    assert candles_download(series=series, client=venue, limit=50, days=1) == 180
    stored = _stored(series)
    assert stored == [b.open_time for b in venue.served()]
    assert len(stored) == len(set(stored)) == 330
    gap = CandleGap.objects.get(series=series)
    assert (gap.start, gap.end) == (venue.bars[150].open_time, venue.bars[220].open_time)
    # finished: a second run asks only for the venue's newest minute and writes nothing
    venue.calls = 0
    assert candles_download(series=series, client=venue, limit=50, days=1) == 0
    assert venue.calls == 1
    assert Candle.objects.filter(symbol=series.symbol).count() == 330


def test_a_new_series_starts_the_configured_days_before_the_venues_present(make_series, settings):
    settings.SETKA_ANALYTICS_BACKFILL_DAYS = 0
    series = make_series()
    venue = Venue(bars("random_walk", 100, seed=8))
    venue.now = 60
    assert candles_download(series=series, client=venue, limit=50) == 1  # just the present minute
    venue.now = 100
    assert candles_download(series=series, client=venue, limit=50) == 40
    assert _stored(series) == [b.open_time for b in venue.bars[59:100]]


def test_the_periodic_refresh_lists_every_venues_instruments_and_goes_on_when_one_venue_fails(make_series):
    from tests.analytics.conftest import rules

    listed = [rules("AAAUSDT"), rules("BBBUSDT"), rules("BBBUSDT", Category.LINEAR)]
    venue = Venue(bars("random_walk", 20, seed=7), listed=listed)

    def client_for(code):
        if code == "okx":
            raise ConnectionError("okx is down")
        return venue

    result = candles_refresh_all(client_for_venue=client_for, venues=["bybit", "okx"])
    assert result["okx"] == -1
    created = CandleSeries.objects.filter(venue="bybit").order_by("symbol", "category")
    assert [(s.symbol, s.category, s.source) for s in created] == [
        ("AAAUSDT", "spot", "exchange"),
        ("BBBUSDT", "linear", "exchange"),
        ("BBBUSDT", "spot", "exchange"),
    ]
    assert all(result[str(s)] == 20 and s.candle_count == 20 for s in created)
    spot, linear = created.get(symbol="AAAUSDT"), created.get(symbol="BBBUSDT", category="linear")
    mid = venue.bars[-1].close
    assert spot.spread_percent == (D("0.1") / mid * 100).quantize(D("0.00000001"))
    assert spot.funding_rate is None and linear.funding_rate == D("0.0001")


def test_one_series_failing_is_recorded_on_it(make_series):
    broken = make_series("BADUSDT")
    broken.source = "exchange"
    broken.save()

    class Down(Venue):
        def klines(self, **kw):
            raise ConnectionError("bybit timed out")

    result = candles_refresh_all(client_for_venue=lambda code: Down(bars("random_walk", 5, seed=1)), venues=["bybit"])
    broken.refresh_from_db()
    assert result[str(broken)] == -1 and "bybit timed out" in broken.last_error


def test_every_stored_time_is_a_whole_minute_in_utc(make_series):
    series = make_series()
    with pytest.raises(ValueError):
        candles_upsert(series=series, bars=[Bar(datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC), *[D(1)] * 5)])


def test_a_spent_time_budget_defers_the_rest_to_the_next_run_which_takes_them_first(make_series):
    from tests.analytics.conftest import rules

    venue = Venue(bars("random_walk", 10, seed=9), listed=[rules("AAAUSDT"), rules("BBBUSDT")])
    first = candles_refresh_all(client_for_venue=lambda code: venue, venues=["bybit"], budget_seconds=0)
    assert first == {"deferred": 2}
    assert not Candle.objects.exists()  # listed, nothing downloaded yet
    done = CandleSeries.objects.get(symbol="AAAUSDT")
    candles_download(series=done, client=venue)
    CandleSeries.objects.filter(pk=done.pk).update(refreshed_at=datetime.now(UTC))
    second = candles_refresh_all(client_for_venue=lambda code: venue, venues=["bybit"])
    # the never-refreshed series goes first
    assert list(second) == [str(CandleSeries.objects.get(symbol="BBBUSDT")), str(done)]
    assert second[str(done)] == 0 and Candle.objects.filter(symbol="BBBUSDT").count() == 10
