"""Import the real 1-minute days shipped with the simulator (exchanges/simulator/data) into the
candle store, for every market the simulator replays them on, so backtests and the screener work
offline. Idempotent: candles are upserted on their key; an already complete series is skipped."""

from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path

from django.core.management.base import BaseCommand

from analytics.models import CandleSeries
from analytics.services import candles_upsert, read_shipped_csv, screener_refresh, series_ensure
from exchanges.client import Category, InstrumentRules

DATA = Path(__file__).resolve().parents[3] / "exchanges" / "simulator" / "data"
# The twin's instruments (exchanges/simulator/instruments.py) and the file it replays for each.
FILES = {
    "BTCUSDT": "binance_spot_BTCUSDT_1m_2021-04-20_2021-05-20.csv.gz",
    "ETHUSDT": "binance_spot_ETHUSDT_1m_2021-04-20_2021-05-20.csv.gz",
    "LTCUSDT": "coinbase_LTCUSD_1m_2018-04-04_2018-04-06.csv.gz",
}
RULES = [
    InstrumentRules(
        "BTCUSDT", Category.SPOT, "BTC", "USDT", D("0.01"), D("0.000001"), D("0.000048"), D("71.73956243"), D("5")
    ),
    InstrumentRules(
        "ETHUSDT", Category.SPOT, "ETH", "USDT", D("0.01"), D("0.00001"), D("0.00062"), D("1229.2336343"), D("5")
    ),
    InstrumentRules("LTCUSDT", Category.SPOT, "LTC", "USDT", D("0.01"), D("0.00001"), D("0.03"), D("11000"), D("5")),
    InstrumentRules("BTCUSDT", Category.LINEAR, "BTC", "USDT", D("0.10"), D("0.001"), D("0.001"), D("1190"), D("5")),
    InstrumentRules("ETHUSDT", Category.LINEAR, "ETH", "USDT", D("0.01"), D("0.01"), D("0.01"), D("7240"), D("5")),
    InstrumentRules("LTCUSDT", Category.LINEAR, "LTC", "USDT", D("0.01"), D("0.1"), D("0.1"), D("70000"), D("5")),
]


class Command(BaseCommand):
    help = "Import the shipped real 1-minute candles into the candle store (offline)."

    def add_arguments(self, parser):
        parser.add_argument("--venue", default="bybit")
        parser.add_argument("--symbols", nargs="*", default=None)

    def handle(self, *args, venue="bybit", symbols=None, **options):
        t0 = time.perf_counter()
        cache: dict[str, list] = {}
        touched = []
        for rules in RULES:
            if symbols and rules.symbol not in symbols:
                continue
            path = DATA / FILES[rules.symbol]
            if not path.exists():
                self.stdout.write(f"{path.name}: missing, skipped")
                continue
            bars = cache.get(rules.symbol) or cache.setdefault(rules.symbol, read_shipped_csv(path))
            series = series_ensure(venue=venue, rules=rules, source=CandleSeries.Source.SHIPPED)
            touched.append(series.pk)
            if series.candle_count == len(bars):
                self.stdout.write(f"{series}: {len(bars)} candles already stored")
                continue
            n = candles_upsert(series=series, bars=bars)
            series.refresh_from_db()
            self.stdout.write(f"{series}: {n} candles stored, {series.gaps.count()} gap range(s)")
        screener_refresh(series_ids=touched)
        self.stdout.write(f"done in {time.perf_counter() - t0:.1f}s")
