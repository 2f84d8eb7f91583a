"""The backfill through the real adapters against the venues' twins: Bybit pages a bounded
[start, end] range through pybit, OKX pages by before/after through ccxt (300 a page), Binance by
startTime; the refresh lists each venue's instruments and reads spread and funding (Bybit's
linear ticker, Binance's premiumIndex, OKX's public funding-rate), which the screener shows."""

from __future__ import annotations

import pytest

from analytics.models import Candle, CandleGap, CandleSeries
from analytics.services import candles_download, candles_refresh_all
from exchanges.adapters.bybit import BybitClient
from exchanges.adapters.ccxt_adapter import CcxtClient
from exchanges.client import Category
from exchanges.ratelimit import LocalWindowStore, RateLimiter
from exchanges.simulator.testing import running_simulator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", params=["bybit", "okx", "binance"])
def twin(request, tmp_path_factory):
    state = tmp_path_factory.mktemp(f"backfill-{request.param}") / "state.sqlite3"
    with running_simulator(state_path=str(state), control_token="backfill", venue=request.param) as handle:
        yield handle


def public_client(twin):
    limiter = RateLimiter(account_key=f"md:{twin.venue}", store=LocalWindowStore())
    if twin.venue == "bybit":
        return BybitClient(api_key="", api_secret="", base_url=twin.base_url, timeout=5.0, limiter=limiter)
    return CcxtClient(venue_code=twin.venue, api_key="", api_secret="", passphrase="", base_url=twin.base_url,
                      timeout=5.0, limiter=limiter)


def test_a_day_is_downloaded_in_pages_resumes_after_an_interruption_and_is_then_complete(twin):
    client = public_client(twin)
    rules = client.instrument_rules(category=Category.LINEAR, symbol="ETHUSDT")
    from analytics.services import series_ensure

    series = series_ensure(venue=twin.venue, rules=rules)
    first = candles_download(series=series, client=client, days=1, limit=300, max_pages=2)
    assert first == 600  # interrupted after two pages of 300
    rest = candles_download(series=series, client=client, days=1)
    assert first + rest == 1441  # a day and its present minute
    times = list(Candle.objects.filter(venue=twin.venue, symbol="ETHUSDT", category="linear").values_list(
        "open_time", flat=True))
    assert len(times) == len(set(times)) == 1441
    series.refresh_from_db()
    assert series.candle_count == 1441 and not CandleGap.objects.filter(series=series).exists()
    assert candles_download(series=series, client=client, days=1) == 0


def test_the_refresh_lists_the_venues_instruments_and_quotes_their_spread(twin, settings):
    settings.SETKA_ANALYTICS_BACKFILL_DAYS = 0
    client = public_client(twin)
    result = candles_refresh_all(client_for_venue=lambda code: client, venues=[twin.venue])
    listed = {(s.category, s.symbol) for s in CandleSeries.objects.filter(venue=twin.venue)}
    assert {("spot", "BTCUSDT"), ("linear", "BTCUSDT"), ("spot", "ETHUSDT")} <= listed
    assert all(n >= 0 for n in result.values()), result
    btc = CandleSeries.objects.get(venue=twin.venue, category="spot", symbol="BTCUSDT")
    assert btc.spread_percent is not None and btc.spread_percent >= 0 and btc.candle_count >= 1
    perp = CandleSeries.objects.get(venue=twin.venue, category="linear", symbol="BTCUSDT")
    assert perp.funding_rate is not None and perp.last_error == ""
    assert btc.funding_rate is None  # spot has none


def test_a_screener_row_of_a_perpetual_carries_the_venues_funding_rate(twin, settings, user_client):
    from decimal import Decimal

    from analytics.services import screener_refresh, series_ensure

    settings.SETKA_ANALYTICS_BACKFILL_DAYS = 0
    twin.control.settle_funding("BTCUSDT", rate="-0.00025")  # the rate of this and the next periods
    client = public_client(twin)
    series = series_ensure(venue=twin.venue, rules=client.instrument_rules(category=Category.LINEAR, symbol="BTCUSDT"))
    assert candles_download(series=series, client=client, days=1) > 1000
    candles_refresh_all(client_for_venue=lambda code: client, venues=[twin.venue])
    assert CandleSeries.objects.get(pk=series.pk).funding_rate == Decimal("-0.00025")
    assert screener_refresh() >= 1
    rows = user_client.get(f"/api/analytics/screener/?venue={twin.venue}").json()["results"]
    (perp,) = [r for r in rows if (r["series"]["category"], r["series"]["symbol"]) == ("linear", "BTCUSDT")]
    assert perp["factors"]["funding_rate"] == -0.00025
