"""The candle store: never a duplicate, gaps recorded, resumable downloads, monthly partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection

from analytics.models import Candle, CandleGap
from analytics.services import Bar, candles_download, candles_refresh_all, candles_upsert
from exchanges.client import Kline
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
    """The exchange port's klines as a venue serves them: its most recent `limit` minutes."""

    def __init__(self, all_bars):
        self.bars = all_bars
        self.now = 0
        self.calls = 0

    def klines(self, *, category, symbol, interval, limit):
        assert interval == "1"
        self.calls += 1
        window = self.bars[max(0, self.now - limit) : self.now]
        return [Kline(b.open_time, b.open, b.high, b.low, b.close, b.volume) for b in window]


def test_downloads_resume_at_the_cursor_and_a_window_the_venue_no_longer_serves_is_a_gap(make_series):
    series = make_series()
    venue = Venue(bars("random_walk", 400, seed=6))
    venue.now = 100
    assert candles_download(series=series, client=venue, limit=50) == 50
    venue.now = 130  # 30 new minutes: only those are written
    assert candles_download(series=series, client=venue, limit=50) == 30
    venue.now = 400  # the venue serves its last 50 minutes: 130..350 is lost, and said so
    assert candles_download(series=series, client=venue, limit=50) == 50
    series.refresh_from_db()
    assert series.candle_count == 130
    assert series.cursor == venue.bars[399].open_time
    gap = CandleGap.objects.get(series=series)
    assert (gap.start, gap.end) == (venue.bars[130].open_time, venue.bars[350].open_time)


def test_the_periodic_refresh_goes_on_when_one_venue_fails(make_series):
    ok, broken = make_series("OKUSDT"), make_series("BADUSDT", venue="okx")
    ok.source = broken.source = "exchange"
    ok.save(), broken.save()
    venue = Venue(bars("random_walk", 20, seed=7))
    venue.now = 20

    def client_for(code):
        if code == "okx":
            raise ConnectionError("okx is down")
        return venue

    result = candles_refresh_all(client_for_venue=client_for)
    broken.refresh_from_db()
    assert result[str(ok)] == 20 and result[str(broken)] == -1
    assert "okx is down" in broken.last_error


def test_every_stored_time_is_a_whole_minute_in_utc(make_series):
    series = make_series()
    with pytest.raises(ValueError):
        candles_upsert(series=series, bars=[Bar(datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC), *[D(1)] * 5)])
