"""The screener on synthetic markets of known character (fixed seeds): the mean-reverting one is
ranked first, every factor says what it should, and each factor is explained in ru and en."""

from __future__ import annotations

import pytest

from analytics.explain import FACTORS
from analytics.models import ScreenerRow
from analytics.services import candles_upsert, screener_refresh
from tests.analytics.synthetic import bars

pytestmark = pytest.mark.django_db

MINUTES = 3 * 1440
KINDS = ("trending", "random_walk", "mean_reverting")


@pytest.fixture
def markets(make_series):
    out = {}
    for n, kind in enumerate(KINDS):
        series = make_series(f"{kind.upper().replace('_', '')}USDT")
        candles_upsert(series=series, bars=bars(kind, MINUTES, seed=100 + n))
        out[kind] = series
    return out


def test_the_mean_reverting_market_is_ranked_first_and_the_trend_last(markets, user_client):
    assert screener_refresh() == 3
    body = user_client.get("/api/analytics/screener/").json()
    ranked = [row["series"]["symbol"] for row in body["results"]]
    assert ranked == ["MEANREVERTINGUSDT", "RANDOMWALKUSDT", "TRENDINGUSDT"]
    f = {row["series"]["symbol"]: row["factors"] for row in body["results"]}
    mr, rw, tr = f["MEANREVERTINGUSDT"], f["RANDOMWALKUSDT"], f["TRENDINGUSDT"]
    assert mr["variance_ratio"] < 0.8 < rw["variance_ratio"] < 1.25
    assert tr["efficiency_ratio"] > rw["efficiency_ratio"] > mr["efficiency_ratio"]
    assert mr["half_life_hours"] is not None and mr["half_life_hours"] < 3
    assert mr["choppiness"] > tr["choppiness"]


def test_the_suggested_grid_earns_more_than_its_fees_and_trades_most_on_the_ranging_market(markets):
    screener_refresh()
    rows = {r.series.symbol: r for r in ScreenerRow.objects.select_related("series")}
    mr = rows["MEANREVERTINGUSDT"].suggestion
    assert mr["grid_count"] and mr["net_profit_per_round_trip_percent"] > 0
    assert mr["round_trips_per_day"] > rows["TRENDINGUSDT"].suggestion["round_trips_per_day"]
    assert float(mr["lower_price"]) < rows["MEANREVERTINGUSDT"].factors["price"] < float(mr["upper_price"])


def test_sorting_filtering_and_every_factor_explained_in_both_languages(markets, user_client):
    screener_refresh()
    by_volume = user_client.get("/api/analytics/screener/?sort=-quote_volume_24h").json()
    volumes = [r["factors"]["quote_volume_24h"] for r in by_volume["results"]]
    assert volumes == sorted(volumes, reverse=True)
    assert user_client.get("/api/analytics/screener/?venue=okx").json()["results"] == []
    explain = by_volume["explain"]
    for name in (
        "efficiency_ratio",
        "choppiness",
        "variance_ratio",
        "half_life_hours",
        "atr_percent",
        "quote_volume_24h",
        "round_trips_per_day",
        "range_score",
    ):
        assert explain[name]["ru"] and explain[name]["en"] and explain[name]["ru"] != explain[name]["en"]
    assert set(FACTORS) >= set(explain)


def test_the_screener_needs_a_login(api_client):
    assert api_client.get("/api/analytics/screener/").status_code in (401, 403)


def test_the_portable_windows_equal_the_postgresql_ones(markets):
    """The quick start's SQLite reads the windows through the ORM; they are the same arrays
    as PostgreSQL's one-query read (times, open, high, low, close, volume)."""
    import numpy as np

    from analytics.services.screener import WINDOW_MINUTES, _windows, _windows_portable

    ids = [s.pk for s in markets.values()]
    fast, portable = _windows(ids, WINDOW_MINUTES), _windows_portable(ids, WINDOW_MINUTES)
    assert set(fast) == set(portable) == set(ids)
    for pk in ids:
        assert len(fast[pk][0]) > 1000
        for a, b in zip(fast[pk], portable[pk], strict=True):
            np.testing.assert_array_equal(a, b)


def test_rows_of_every_venue_carry_it_filter_by_it_and_sort_by_spread_and_funding(make_series, user_client):
    from decimal import Decimal as D

    from analytics.models import CandleSeries
    from exchanges.client import Category

    quotes = {  # (venue, category): spread % from the ticker, funding rate
        ("bybit", Category.LINEAR): (D("0.02"), D("0.0001")),
        ("okx", Category.LINEAR): (D("0.005"), D("-0.0003")),
        ("binance", Category.SPOT): (D("0.01"), None),
    }
    for n, ((venue, category), (spread, funding)) in enumerate(quotes.items()):
        series = make_series("ABCUSDT", category, venue=venue)
        candles_upsert(series=series, bars=bars("random_walk", 600, seed=200 + n))
        CandleSeries.objects.filter(pk=series.pk).update(spread_percent=spread, funding_rate=funding)
    screener_refresh()
    body = user_client.get("/api/analytics/screener/?sort=spread_bps").json()
    assert body["venues"] == ["binance", "bybit", "okx"]
    assert [(r["series"]["venue"], r["factors"]["spread_bps"]) for r in body["results"]] == [
        ("okx", 0.5),
        ("binance", 1.0),
        ("bybit", 2.0),
    ]
    by_funding = user_client.get("/api/analytics/screener/?sort=-funding_rate").json()["results"]
    assert [(r["series"]["venue"], r["factors"]["funding_rate"]) for r in by_funding] == [
        ("bybit", 0.0001),
        ("okx", -0.0003),
        ("binance", None),  # spot: no funding, last
    ]
    only_okx = user_client.get("/api/analytics/screener/?venue=okx").json()["results"]
    assert [(r["series"]["venue"], r["series"]["symbol"]) for r in only_okx] == [("okx", "ABCUSDT")]
    for name in ("spread_bps", "funding_rate"):
        explain = body["explain"][name]
        assert "basis points" in explain["en"] or "funding" in explain["en"]
        assert explain["ru"] and explain["ru"] != explain["en"]
