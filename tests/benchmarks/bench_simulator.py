"""Simulator benchmark: sustained orders/second over loopback and p50/p99 latency of place+cancel,
with raw signed HTTP (keep-alive requests sessions). The simulator runs in its own process.

    .venv/bin/python -m tests.benchmarks.bench_simulator   (about 20 s)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

TOKEN = "bench-token"


def start_simulator(state: str):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exchanges.simulator",
            "--port",
            "0",
            "--state",
            state,
            "--control-token",
            TOKEN,
            "--replay",
            "",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()
    base = line.split()[4]  # "Bybit V5 simulator on http://127.0.0.1:PORT ws://..."
    return proc, base


class Client:
    def __init__(self, base, key, secret):
        self.base, self.key, self.secret = base, key, secret
        self.s = requests.Session()
        self.s.trust_env = False

    def post(self, path, body):
        raw = json.dumps(body, separators=(",", ":"))
        ts = str(int(time.time() * 1000))
        sig = hmac.new(self.secret.encode(), f"{ts}{self.key}5000{raw}".encode(), hashlib.sha256).hexdigest()
        r = self.s.post(
            self.base + path,
            data=raw,
            headers={
                "X-BAPI-API-KEY": self.key,
                "X-BAPI-TIMESTAMP": ts,
                "X-BAPI-RECV-WINDOW": "5000",
                "X-BAPI-SIGN": sig,
                "Content-Type": "application/json",
            },
        )
        data = r.json()
        if data["retCode"] != 0:
            raise RuntimeError(data)
        return data["result"]


def account(base):
    ctl = requests.Session()
    ctl.trust_env = False
    ctl.headers["Authorization"] = f"Bearer {TOKEN}"
    acc = ctl.post(f"{base}/control/accounts", json={"funding": {"USDT": "100000000"}}).json()
    ctl.post(f"{base}/control/accounts/{acc['uid']}/limits", json={"multiplier": 100000})
    ctl.post(f"{base}/control/price", json={"symbol": "BTCUSDT", "price": "50000"})
    return Client(base, acc["api_key"], acc["api_secret"])


def place(c, link, price="40000"):
    return c.post(
        "/v5/order/create",
        {
            "category": "spot",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": price,
            "orderLinkId": link,
        },
    )


def latency(base, n=400):
    c = account(base)
    for i in range(20):  # warm-up
        place(c, f"w{i}")
        c.post("/v5/order/cancel", {"category": "spot", "symbol": "BTCUSDT", "orderLinkId": f"w{i}"})
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        place(c, f"l{i}")
        c.post("/v5/order/cancel", {"category": "spot", "symbol": "BTCUSDT", "orderLinkId": f"l{i}"})
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def throughput(base, threads=4, seconds=6.0):
    clients = [account(base) for _ in range(threads)]
    counts = [0] * threads
    stop = time.time() + seconds

    def run(i):
        c, n = clients[i], 0
        while time.time() < stop:
            # stay under the 500-open-orders cap: cancel every order after placing 400
            place(c, f"t{i}-{n}", price=str(30000 + n % 400))
            n += 1
            if n % 400 == 0:
                c.post("/v5/order/cancel-all", {"category": "spot", "symbol": "BTCUSDT"})
        counts[i] = n

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / (time.time() - t0)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_simulator(os.path.join(tmp, "bench.sqlite3"))
        try:
            p50, p99 = latency(base)
            rate = throughput(base)
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"simulator place+cancel latency (raw signed HTTP, keep-alive, 1 client): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"simulator sustained order placement (4 client threads, SQLite write-through): {rate:.0f} orders/s")


if __name__ == "__main__":
    main()
