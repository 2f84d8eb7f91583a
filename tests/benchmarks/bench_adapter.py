"""Adapter speed on loopback, per venue. Run: .venv/bin/python -m tests.benchmarks.bench_adapter [venue ...]
(default: bybit okx binance mexc kucoin).

For each venue, starts its twin as a separate process on a free port (as in production: another
process), then, through the venue's adapter (BybitClient on pybit; CcxtClient on ccxt for the
others: signing, our retries and rate limiter):
- latency of place_order and cancel_order (p50/p99 over a few hundred pairs), spread over many
  accounts so that Bybit's per-account limits (spot create 20/s) do not dominate the figure;
- sustained orders/s: threads placing+cancelling for a few seconds on many accounts;
- orders/s on ONE account with the client-side limiter (the ceiling the venue allows: Bybit spot
  20/s, OKX 30/s, Binance 10/s on the twin) and how often the venue refused (limit violations: 0).
Takes about 20 s per venue."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import django  # noqa: E402

django.setup()

from exchanges.adapters.bybit import BybitClient  # noqa: E402
from exchanges.adapters.ccxt_adapter import CcxtClient  # noqa: E402
from exchanges.client import Category, OrderType, PlaceOrder, Side  # noqa: E402
from exchanges.ratelimit import LocalWindowStore, RateLimiter  # noqa: E402
from exchanges.simulator.control import SimulatorControl  # noqa: E402
from exchanges.venues import venue as venue_spec  # noqa: E402

TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(state_dir: str, venue: str = "bybit") -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchanges.simulator", "--port", str(port), "--state",
         os.path.join(state_dir, f"{venue}.db"), "--control-token", TOKEN, "--replay", "", "--venue", venue],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    control = SimulatorControl(base, TOKEN, timeout=2)
    deadline = time.monotonic() + 20
    while True:
        try:
            control.status()
            return proc, base
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("simulator did not start") from None
            time.sleep(0.1)


def client(base, account, n, venue="bybit"):
    limiter = RateLimiter(account_key=f"bench:{venue}:{n}", store=LocalWindowStore())
    if venue == "bybit":
        return BybitClient(api_key=account.api_key, api_secret=account.api_secret, base_url=base, timeout=5,
                           limiter=limiter)
    limiter._limits = dict(venue_spec(venue).rate_limits)  # noqa: SLF001 - the venue's own budget
    return CcxtClient(venue_code=venue, api_key=account.api_key, api_secret=account.api_secret,
                      passphrase=account.passphrase, base_url=base, timeout=5, limiter=limiter)


def order(i: int, tag: str) -> PlaceOrder:
    return PlaceOrder(category=Category.SPOT, symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.LIMIT,
                      qty=Decimal("0.001"), price=Decimal("30000") + i % 500, client_order_id=f"{tag}x{i}")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def bench_latency(clients, pairs=300) -> dict:
    place, cancel = [], []
    for i in range(pairs):
        c = clients[i % len(clients)]
        t0 = time.perf_counter()
        c.place_order(order(i, "lat"))
        t1 = time.perf_counter()
        c.cancel_order(category=Category.SPOT, symbol="BTCUSDT", client_order_id=f"latx{i}")
        t2 = time.perf_counter()
        place.append((t1 - t0) * 1000)
        cancel.append((t2 - t1) * 1000)
    both = [a + b for a, b in zip(place, cancel, strict=True)]
    return {"pairs": pairs, "place_p50_ms": statistics.median(place), "place_p99_ms": pct(place, 99),
            "cancel_p50_ms": statistics.median(cancel), "cancel_p99_ms": pct(cancel, 99),
            "pair_p50_ms": statistics.median(both), "pair_p99_ms": pct(both, 99)}


def bench_sustained(clients, threads=4, seconds=5.0) -> dict:
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def work(t):
        mine = clients[t::threads]
        i = 0
        while time.monotonic() < stop:
            c = mine[i % len(mine)]
            link = f"sus{t}x{i}"
            c.place_order(order(i, f"sus{t}"))
            c.cancel_order(category=Category.SPOT, symbol="BTCUSDT", client_order_id=link)
            counts[t] += 1
            i += 1

    started = time.monotonic()
    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    elapsed = time.monotonic() - started
    return {"threads": threads, "seconds": round(elapsed, 2), "orders_per_s": sum(counts) / elapsed,
            "calls_per_s": 2 * sum(counts) / elapsed}


def bench_one_account(c, seconds=4.0) -> dict:
    n = 0
    stop = time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < stop:
        c.place_order(order(n, "one"))
        n += 1
    elapsed = time.monotonic() - started
    return {"orders_per_s": n / elapsed, "exchange_retries": c.retries, "limiter_wait_s": round(c.limiter.waited_seconds, 2)}


def bench_batch(base, control, venue, rounds=5, size=20) -> dict:
    """A grid launch: `size` limit orders through place_orders on a fresh account (one batch
    request per venue batch: Bybit 10, OKX 20; Binance and MEXC one request per order)."""
    took = []
    for r in range(rounds):
        c = client(base, control.create_account(funding={"USDT": "1000000"}), 200 + r, venue)
        c.instrument_rules(category=Category.SPOT, symbol="BTCUSDT")
        batch = [order(i, f"bat{r}") for i in range(size)]
        t0 = time.perf_counter()
        results = c.place_orders(batch)
        took.append((time.perf_counter() - t0) * 1000)
        assert all(x.placed for x in results), [x.error for x in results if x.error]
    return {"size": size, "rounds": rounds, "p50_ms": statistics.median(took), "max_ms": max(took)}


def run(venue: str) -> None:
    with tempfile.TemporaryDirectory() as state_dir:
        proc, base = start_simulator(state_dir, venue)
        try:
            control = SimulatorControl(base, TOKEN)
            control.set_price("BTCUSDT", "50000")
            accounts = [control.create_account(funding={"USDT": "1000000"}) for _ in range(24)]
            clients = [client(base, a, n, venue) for n, a in enumerate(accounts)]
            for c in clients:  # warm up connections and instrument caches (ccxt loads markets once per client)
                c.instrument_rules(category=Category.SPOT, symbol="BTCUSDT")
            latency = bench_latency(clients)
            sustained = bench_sustained(clients)
            one = bench_one_account(client(base, control.create_account(funding={"USDT": "1000000"}), 99, venue))
            batch = bench_batch(base, control, venue)
        finally:
            proc.terminate()
            proc.wait(10)
    adapter = "BybitClient (pybit)" if venue == "bybit" else "CcxtClient (ccxt)"
    limit = {"bybit": "Bybit spot limit 20/s", "okx": "OKX twin 30/s", "binance": "Binance twin 10/s",
             "mexc": "MEXC twin 5/s", "kucoin": "KuCoin twin 45/s"}[venue]
    print(f"bench_adapter [{venue}]: {adapter} -> {venue} twin process on loopback")
    print(f"  place_order   p50 {latency['place_p50_ms']:.2f} ms   p99 {latency['place_p99_ms']:.2f} ms")
    print(f"  cancel_order  p50 {latency['cancel_p50_ms']:.2f} ms   p99 {latency['cancel_p99_ms']:.2f} ms")
    print(f"  place+cancel  p50 {latency['pair_p50_ms']:.2f} ms   p99 {latency['pair_p99_ms']:.2f} ms "
          f"({latency['pairs']} pairs)")
    print(f"  sustained     {sustained['orders_per_s']:.0f} orders/s placed+cancelled "
          f"({sustained['calls_per_s']:.0f} calls/s, {sustained['threads']} threads, {sustained['seconds']} s)")
    print(f"  one account   {one['orders_per_s']:.1f} orders/s with the rate limiter "
          f"({limit}; limit violations answered by the venue: {one['exchange_retries']})")
    per = venue_spec(venue).batch_create
    print(f"  launch of {batch['size']}  p50 {batch['p50_ms']:.1f} ms  max {batch['max_ms']:.1f} ms through place_orders "
          f"({f'{per} per batch request' if per > 1 else 'one request per order'}; {batch['rounds']} launches)")


def main() -> None:
    for venue in sys.argv[1:] or ["bybit", "okx", "binance", "mexc", "kucoin"]:
        run(venue)


if __name__ == "__main__":
    main()
