"""Analytics speed. Run: scripts/bench analytics (or .venv/bin/python -m tests.benchmarks.bench_analytics
with DATABASE_URL/REDIS_URL set). Uses the database it is pointed at (setka_bench by default).

Prints:
- the import of the shipped real days (skipped when already stored);
- a backtest of a month of real 1-minute BTCUSDT candles (42,915, 2021-04-20 .. 2021-05-20) with
  a 100-line spot grid, end to end: request (validation, quota) -> candles read from PostgreSQL
  -> kernel over the month + the in-sample and out-of-sample runs -> stored result row.
  Target (issue 15): < 1 s;
- a screener refresh over every shipped symbol plus 100 synthetic ones (a week of 1-minute
  candles each, fixed seeds, written once with COPY). Target: < 10 s.
Best of 3 after a warm-up (the machine is shared)."""

from __future__ import annotations

import io
import os
import statistics
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from analytics.models import Backtest, CandleSeries  # noqa: E402
from analytics.services import backtest_create, backtest_run, partitions_ensure, screener_refresh, series_ensure  # noqa: E402
from tests.analytics.conftest import SPOT_FEES, rules  # noqa: E402
from tests.analytics.synthetic import START, closes  # noqa: E402

SYNTHETIC = 100
WEEK = 7 * 1440
CONFIG = {
    "strategy": "spot_grid",
    "lower_price": "42000",
    "upper_price": "62000",
    "grid_count": 100,
    "spacing": "geometric",
    "investment": "10000",
}


def timed(fn, repeat: int = 3) -> tuple[float, list[float]]:
    fn()  # warm-up (numba cache load, query plans)
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return min(runs), runs


def synthetic_markets() -> None:
    """100 synthetic series, a week each: a third each mean-reverting, random walk, trending."""
    kinds = ("mean_reverting", "random_walk", "trending")
    todo = []
    for i in range(SYNTHETIC):
        series = series_ensure(
            venue="synthetic", rules=rules(f"SYN{i:03d}USDT"), fees=SPOT_FEES, source=CandleSeries.Source.SYNTHETIC
        )
        if series.candle_count < WEEK:
            todo.append((i, series))
    if not todo:
        return
    t0 = time.perf_counter()
    partitions_ensure(times=[START, START + timedelta(minutes=WEEK)])
    buf = io.StringIO()
    for i, series in todo:
        c = closes(kinds[i % 3], WEEK, seed=1000 + i, price=10.0 + i)
        o = [c[0], *c[:-1]]
        for m in range(WEEK):
            hi, lo = max(o[m], c[m]) * 1.0004, min(o[m], c[m]) * 0.9996
            t = START + timedelta(minutes=m)
            buf.write(
                f"synthetic\tspot\t{series.symbol}\t{t.isoformat()}\t{o[m]:.2f}\t{hi:.2f}\t{lo:.2f}\t{c[m]:.2f}\t10\n"
            )
    buf.seek(0)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM analytics_candle WHERE venue = 'synthetic'")
        with cur.cursor.copy(
            "COPY analytics_candle (venue, category, symbol, open_time, open, high, low, close, volume) FROM STDIN"
        ) as copy:
            copy.write(buf.getvalue())
    CandleSeries.objects.filter(venue="synthetic").update(
        candle_count=WEEK, first_time=START, cursor=START + timedelta(minutes=WEEK - 1)
    )
    print(f"synthetic markets: {len(todo)} x {WEEK} candles written with COPY in {time.perf_counter() - t0:.1f}s")


def main() -> None:
    t0 = time.perf_counter()
    call_command("analytics_import_shipped", stdout=io.StringIO())
    print(f"shipped real days: imported or already stored in {time.perf_counter() - t0:.1f}s")
    btc = CandleSeries.objects.get(venue="bybit", category="spot", symbol="BTCUSDT")
    user, _ = get_user_model().objects.get_or_create(email="bench-analytics@example.com", defaults={"language": "en"})

    def month() -> Backtest:
        Backtest.objects.filter(user=user).delete()  # the free plan's daily quota
        bt = backtest_create(
            user=user,
            series_id=btc.id,
            config=CONFIG,
            period_start=btc.first_time,
            period_end=btc.cursor + timedelta(minutes=1),
        )
        return backtest_run(backtest_id=bt.pk)

    best, runs = timed(month)
    bt = Backtest.objects.filter(user=user).latest("id")
    print(
        f"backtest, a month of 1-minute candles ({bt.summary['candles']} candles, 100 lines, "
        f"{bt.summary['fills']} fills, walk-forward split) request -> stored result: best {best * 1000:.0f} ms, "
        f"median {statistics.median(runs) * 1000:.0f} ms (target < 1000 ms)"
    )

    synthetic_markets()
    count = CandleSeries.objects.filter(candle_count__gt=0).count()
    best, runs = timed(lambda: screener_refresh(), repeat=2)
    print(
        f"screener refresh over {count} series (every shipped symbol + {SYNTHETIC} synthetic; the screener reads each one's last three days of "
        f"1-minute candles): best {best:.2f} s, runs {', '.join(f'{r:.2f}' for r in runs)} (target < 10 s)"
    )


if __name__ == "__main__":
    main()
