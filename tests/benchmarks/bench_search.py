"""Walk-forward table: the suggested parameters (plateau score on three earlier windows) against
the naive "best of the last 7 days", out of sample on the next two days, on the real candles
shipped with the simulator. `scripts/bench search`."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from mcp_server import search  # noqa: E402
from mcp_server.adapters import candles  # noqa: E402


def main() -> None:
    total_wins = total = 0
    sums = [0.0, 0.0]
    print(f"{'symbol':8} {'decided at (UTC)':17} {'suggested %':>11} {'naive %':>8}  winner")
    for symbol in candles.symbols():
        began = time.monotonic()
        path = candles.price_path(symbol)
        rows = search.walk_forward(
            path,
            symbol=symbol,
            rules=candles.spot_rules(symbol),
            fees=candles.SPOT_FEES,
            budget=Decimal(1000),
            trials=32,
        )
        for r in rows:
            at = datetime.fromtimestamp(r.decided_at, UTC).strftime("%Y-%m-%d %H:%M")
            print(
                f"{symbol:8} {at:17} {r.suggested_roi:11.2f} {r.naive_roi:8.2f}  "
                f"{'suggested' if r.suggested_wins else 'naive'}"
            )
            sums[0] += r.suggested_roi
            sums[1] += r.naive_roi
        total_wins += sum(r.suggested_wins for r in rows)
        total += len(rows)
        print(f"  ({symbol}: {time.monotonic() - began:.1f}s)")
    print(
        f"suggested wins {total_wins} of {total} windows; sum of out-of-sample ROI: "
        f"suggested {sums[0]:.2f} %, naive {sums[1]:.2f} %"
    )


if __name__ == "__main__":
    main()
