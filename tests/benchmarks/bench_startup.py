"""Process start benchmark: how long each of Setka's processes takes from spawn until it says it
is ready (the simulator: its port open; daphne: its port open; the worker: "ready."; beat:
"Starting"; the streams: "ready"). It is how long a process killed -9 is away before its
replacement serves again, and what every test stack pays per process.

Each kind is started ROUNDS times (default 3) on its own, nothing else running; printed: the
median and the slowest, in seconds.

Run: scripts/bench startup   (SETKA_BENCH_ROUNDS=5 for more rounds)"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from tests.stack import Stack

ROUNDS = int(os.environ.get("SETKA_BENCH_ROUNDS", "3"))
TOKEN = "bench-startup-token"


def main() -> None:
    env = {
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/setka_bench"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
        "SETKA_SIMULATOR_CONTROL_TOKEN": TOKEN,
    }
    print(f"process start -> ready, {ROUNDS} rounds each, one process at a time")
    with Stack(env=env, log_dir=tempfile.mkdtemp(prefix="bench-startup-")) as stack:
        sim = stack.start("simulator", state="", replay="")
        stack.env["SETKA_SIMULATOR_URL"] = sim.url
        stack.stop("simulator")
        for kind, options in (
            ("simulator", {"state": "", "replay": ""}),
            ("web", {}),
            ("worker", {"concurrency": 2}),
            ("beat", {}),
            ("streams", {}),
        ):
            times = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                stack.start(kind, timeout=120, **options)
                times.append(time.perf_counter() - started)
                stack.stop(kind)
            print(f"  {kind:<10} median {statistics.median(times):5.2f} s   slowest {max(times):5.2f} s")


if __name__ == "__main__":
    main()
