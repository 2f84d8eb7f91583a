"""Screener -> backtest -> launch from the result, in a real browser on a phone and a desktop
(issue 15): the screener lists a stored market with its factors explained, one click opens the
backtest form with the suggested range, the worker runs it with a progress bar, the result shows
the figures and the walk-forward split, and "launch this configuration" opens the create form
prefilled with that configuration."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _db, login, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


@pytest.fixture(scope="module")
def market(e2e_stack, django_db_blocker):
    """Two real days of BTC/USDT in the candle store and the screener computed over them."""

    def make():
        from analytics.management.commands.analytics_import_shipped import DATA, FILES, RULES
        from analytics.services import candles_upsert, read_shipped_csv, screener_refresh, series_ensure

        series = series_ensure(venue="bybit", rules=RULES[0])
        candles_upsert(series=series, bars=read_shipped_csv(DATA / FILES["BTCUSDT"])[: 2 * 1440])
        screener_refresh(series_ids=[series.pk])
        return series.pk

    return _db(django_db_blocker, make)


def test_screener_to_backtest_to_a_prefilled_create_form(page, base_url, market, django_db_blocker):
    email, password = make_user(django_db_blocker)
    login(page, email, password, next_path="/screener")
    row = page.get_by_test_id("screener-row-BTCUSDT-spot")
    expect(row).to_be_visible(timeout=15000)
    expect(row).to_contain_text("BTCUSDT")
    expect(row).to_contain_text("bybit")  # every row says its exchange; the list filters by it
    expect(page.get_by_test_id("screener-venue")).to_be_visible()
    row.get_by_test_id("screener-backtest").click()
    expect(page).to_have_url(re.compile(r"/backtests\?"))
    lower = page.get_by_test_id("backtest-lower").locator("input")
    lower = lower if lower.count() else page.get_by_test_id("backtest-lower")
    expect(lower).not_to_have_value("")
    suggested_lower = lower.input_value()
    start = page.get_by_test_id("backtest-start").locator("input")
    expect(start if start.count() else page.get_by_test_id("backtest-start")).not_to_have_value("")  # markets loaded
    expect(page.get_by_test_id("backtest-run")).to_be_enabled()
    page.get_by_test_id("backtest-run").click()
    expect(page).to_have_url(re.compile(r"/backtests/\d+$"), timeout=15000)
    expect(page.get_by_test_id("backtest-summary")).to_be_visible(timeout=60000)
    expect(page.get_by_test_id("backtest-walk")).to_be_visible()
    expect(page.get_by_test_id("backtest-equity")).to_be_visible()
    # the equity and drawdown lines are drawn from the stored curve
    expect(page.get_by_test_id("backtest-equity").locator("polyline").first).to_have_attribute(
        "points", re.compile(r"\d+(\.\d+)?,\d+(\.\d+)? \d")
    )
    expect(page.get_by_test_id("grid-chart")).to_be_visible()  # candles, grid lines and fills
    expect(page.get_by_test_id("grid-chart").locator("canvas").first).to_be_visible(timeout=15000)
    page.get_by_test_id("backtest-launch").click()
    expect(page).to_have_url(re.compile(r"/bots/create\?backtest=\d+"))
    create_lower = page.get_by_test_id("lower").locator("input")
    create_lower = create_lower if create_lower.count() else page.get_by_test_id("lower")
    expect(create_lower).to_have_value(suggested_lower, timeout=15000)
