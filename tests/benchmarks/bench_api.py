"""API latency benchmark: dashboard, bot detail and trade list for a user with 50 bots and
200,000 trades, on PostgreSQL, served by one daphne process, next to trivial DRF endpoints.

    cd /work/main && DATABASE_URL=postgres://postgres@127.0.0.1:5432/setka_bench \
        REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python -m tests.benchmarks.bench_api

The benchmark database is created and filled (COPY) on the first run and reused afterwards.
Prints p50/p95 latency of sequential requests and requests/s with 4 concurrent clients. The
client runs on the same 2 cores as the server, so requests/s is a floor, not a ceiling."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/setka_bench")
if not BENCH_DB_URL.rstrip("/").endswith("setka_bench"):
    BENCH_DB_URL = "postgres://postgres@127.0.0.1:5432/setka_bench"  # never fill someone else's database
os.environ["DATABASE_URL"] = BENCH_DB_URL
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("SETKA_CACHE_PREFIX", "setka-bench")

N_BOTS = 50
N_TRADES = 200_000
EMAIL = "bench-api@example.com"
SEQUENTIAL = int(os.environ.get("BENCH_REQUESTS", "150"))
CONCURRENT_SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'setka_bench'").fetchone()
        if not exists:
            conn.execute("CREATE DATABASE setka_bench")


def fill_database():
    """Migrate, then create the user, 50 bots, orders and 200,000 trades (once)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from bots.models import Bot
    from exchanges.models import Exchange, ExchangeAccount
    from metrics.models import BotMetrics, Cycle, MetricSnapshot

    call_command("migrate", verbosity=0)
    user = User.objects.filter(email=EMAIL).first()
    if user and Bot.objects.filter(user=user).count() == N_BOTS:
        return user
    if user:
        user.delete()
    user = User.objects.create_user(EMAIL, "bench-password-123", access_granted_at=timezone.now())
    exchange, _ = Exchange.objects.get_or_create(code="bybit", defaults={"name": "Bybit", "is_active": True})
    account = ExchangeAccount.objects.create(
        user=user, exchange=exchange, label="bench", environment="paper", api_key="K" * 18, api_secret="S" * 36,
        api_key_hint="KKKK…KKKK",
    )
    started = timezone.now() - timedelta(days=30)
    bots = Bot.objects.bulk_create(
        Bot(
            user=user, exchange_account=account, name=f"Bench {i}", symbol="BTCUSDT", status="running",
            config={"strategy": "spot_grid", "lower_price": "50000", "upper_price": "60000", "grid_count": 10,
                    "spacing": "arithmetic", "investment": "1000"},
            investment=Decimal("1000"), started_at=started, instrument={"base_coin": "BTC", "quote_coin": "USDT"},
        )
        for i in range(N_BOTS)
    )
    per_bot = N_TRADES // N_BOTS
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with connection.cursor() as cursor:
        raw = cursor.connection
        # One order per trade pair (buy at level 2, sell at level 3), then the trades.
        with raw.cursor() as cur:
            with cur.copy(
                "COPY trading_order (bot_id, user_id, symbol, client_order_id, exchange_order_id, purpose, level, side,"
                " order_type, price, qty, filled_qty, avg_price, status, reject_reason, send_attempts, created_at,"
                " updated_at) FROM STDIN"
            ) as copy:
                for bot in bots:
                    for j in range(per_bot):
                        side = "Buy" if j % 2 == 0 else "Sell"
                        price = "50000" if side == "Buy" else "51000"
                        ts = t0 + timedelta(seconds=j * 13)
                        copy.write_row((bot.pk, user.pk, "BTCUSDT", f"b{bot.pk}-{j}", f"x{bot.pk}-{j}", "grid",
                                        2 if side == "Buy" else 3, side, "Limit", price, "0.01", "0.01", price,
                                        "filled", "", 1, ts, ts))
            cur.execute("SELECT id, bot_id, side, price, created_at FROM trading_order WHERE user_id = %s ORDER BY id",
                        (user.pk,))
            orders = cur.fetchall()
            with cur.copy(
                "COPY trading_trade (bot_id, order_id, user_id, symbol, exec_id, side, price, qty, fee, fee_coin,"
                " is_maker, realized_pnl, executed_at, created_at) FROM STDIN"
            ) as copy:
                for order_id, bot_id, side, price, ts in orders:
                    fee, coin, pnl = ("0.00001", "BTC", "0") if side == "Buy" else ("0.51", "USDT", "9.49")
                    copy.write_row((bot_id, order_id, user.pk, "BTCUSDT", f"e{order_id}", side, price, "0.01", fee,
                                    coin, True, pnl, ts, ts))
        cursor.execute("ANALYZE trading_trade")
        cursor.execute("ANALYZE trading_order")
    now = timezone.now()
    BotMetrics.objects.bulk_create(
        BotMetrics(bot=bot, invested=Decimal(1000), grid_profit=Decimal("18980"), realized_pnl=Decimal("18980"),
                   unrealized_pnl=Decimal("12.5"), fees_quote=Decimal("1520"), gross_profit=Decimal("18980"),
                   base_position=Decimal("0.0099"), quote_balance=Decimal("500"), cost_basis=Decimal("495"),
                   last_price=Decimal("51250"), trade_count=per_bot, cycle_count=per_bot // 2)
        for bot in bots
    )
    Cycle.objects.bulk_create(
        Cycle(bot=bot, order_id=orders[i * per_bot + 2 * k + 1][0], level=3, profit=Decimal("9.49"),
              closed_at=now - timedelta(minutes=10 * k))
        for i, bot in enumerate(bots) for k in range(150)
    )
    MetricSnapshot.objects.bulk_create(
        MetricSnapshot(bot=bot, taken_at=now - timedelta(minutes=5 * k), price=Decimal("51000"),
                       equity=Decimal("1100"), grid_profit=Decimal("90"), total_pnl=Decimal("100"))
        for bot in bots for k in range(288)
    )
    return user


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_daphne(port: int) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({
        "DJANGO_DEBUG": "0",
        "SETKA_THROTTLE_USER": "10000000/min",
        "SETKA_THROTTLE_ANON": "10000000/min",
        "SETKA_THROTTLE_IP": "10000000/min",
        "LOG_LEVEL": "WARNING",
    })
    # The server's log goes to a file: an unread pipe would fill up and stall the server.
    log = tempfile.NamedTemporaryFile(prefix="setka-bench-daphne-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    process.log_path = log.name
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(Path(log.name).read_text()[-2000:]) from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("daphne did not start")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def measure(session_factory, url: str) -> dict:
    session = session_factory()
    for _ in range(5):  # warm-up (connections, caches)
        assert session.get(url).status_code < 300, url
    latencies = []
    for _ in range(SEQUENTIAL):
        start = time.perf_counter()
        response = session.get(url)
        latencies.append((time.perf_counter() - start) * 1000)
        assert response.status_code < 300, (url, response.status_code, response.text[:200])
    count = 0
    stop = time.monotonic() + CONCURRENT_SECONDS

    def worker():
        nonlocal count
        s = session_factory()
        while time.monotonic() < stop:
            s.get(url)
            count += 1

    start = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        for _ in range(4):
            pool.submit(worker)
    elapsed = time.monotonic() - start
    return {"p50": statistics.median(latencies), "p95": percentile(latencies, 95), "rps": count / elapsed,
            "bytes": len(response.content)}


def main() -> None:
    ensure_database()
    t = time.perf_counter()
    user = fill_database()
    print(f"data ready in {time.perf_counter() - t:.1f}s (50 bots, {N_TRADES} trades, user {user.pk})")
    import requests

    from accounts.tokens import ACCESS_COOKIE, access_token_issue
    from apicommon.pagination import TradeCursorPagination
    from bots.models import Bot
    from trading.models import Trade

    token = access_token_issue(user=user)
    bot = Bot.objects.filter(user=user).order_by("id").first()
    deep = Trade.objects.filter(user=user).order_by("-executed_at", "-id").values_list("executed_at", "id")[150_000]
    deep_cursor = TradeCursorPagination()._encode(list(deep), reverse=False)
    from django.db.models import Q

    after = Q(executed_at__lte=deep[0]) & (Q(executed_at__lt=deep[0]) | Q(id__lt=deep[1]))
    plan = Trade.objects.filter(user=user).filter(after).order_by("-executed_at", "-id")[:51].explain(analyze=True)
    print("plan of the page at row 150,000:", " | ".join(line.strip() for line in plan.splitlines()[:3]))
    port = free_port()
    server = start_daphne(port)
    base = f"http://127.0.0.1:{port}"

    def session_factory():
        s = requests.Session()
        s.cookies.set(ACCESS_COOKIE, token, domain="127.0.0.1", path="/")
        return s

    endpoints = [
        ("baseline: GET /api/auth/csrf/ (trivial DRF)", "/api/auth/csrf/"),
        ("baseline: GET /api/auth/session/ (auth lookup)", "/api/auth/session/"),
        ("GET /api/dashboard/", "/api/dashboard/"),
        ("GET /api/bots/{id}/", f"/api/bots/{bot.pk}/"),
        ("GET /api/bots/ (50 bots, page 50)", "/api/bots/"),
        ("GET /api/trades/ (first page of 50)", "/api/trades/"),
        ("GET /api/trades/?cursor= (page at row 150,000)", f"/api/trades/?cursor={deep_cursor}"),
        ("GET /api/trades/?bot=&side=Sell", f"/api/trades/?bot={bot.pk}&side=Sell"),
    ]
    try:
        print(f"{'endpoint':52} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8}")
        for label, path in endpoints:
            r = measure(session_factory, base + path)
            print(f"{label:52} {r['p50']:8.1f} {r['p95']:8.1f} {r['rps']:8.0f}")
        # CSV export of one bot's 4,000 trades, streamed
        start = time.perf_counter()
        response = session_factory().get(f"{base}/api/trades/export.csv?bot={bot.pk}", stream=True)
        size = sum(len(chunk) for chunk in response.iter_content(65536))
        print(f"CSV export of {N_TRADES // N_BOTS} trades: {size} bytes in {(time.perf_counter() - start) * 1000:.0f} ms")
        start = time.perf_counter()
        response = session_factory().get(f"{base}/api/trades/export.csv", stream=True)
        chunks = response.iter_content(65536)
        first = next(chunks)
        ttfb = (time.perf_counter() - start) * 1000
        size = len(first) + sum(len(chunk) for chunk in chunks)
        total = (time.perf_counter() - start) * 1000
        print(f"CSV export of all {N_TRADES} trades: first bytes after {ttfb:.0f} ms, {size / 1e6:.1f} MB in {total:.0f} ms")
    finally:
        server.terminate()
        server.wait(10)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
