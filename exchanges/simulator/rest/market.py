"""Public market endpoints."""

from __future__ import annotations

import bisect
import time
from dataclasses import replace
from decimal import Decimal

from .. import feed, wire
from ..instruments import INSTRUMENTS, SYMBOLS
from ..models import BybitError
from .params import _category, _int


def market_time(sim, key, p, units):
    ns = time.time_ns()
    return {"timeSecond": str(ns // 1_000_000_000), "timeNano": str(ns)}


def instruments_info(sim, key, p, units):
    if p.get("category") in ("inverse", "option"):  # valid categories the simulator lists nothing in
        return {"category": p["category"], "list": [], "nextPageCursor": ""}
    cat = _category(p)
    items = [
        i
        for (c, s), i in INSTRUMENTS.items()
        if c == cat
        and (not p.get("symbol") or s == p["symbol"])
        and (not p.get("baseCoin") or i.base_coin == p["baseCoin"])
    ]
    out = {"category": cat, "list": [i.to_wire() for i in items]}
    if cat != "spot":
        out["nextPageCursor"] = ""
    return out


def tickers(sim, key, p, units):
    cat = _category(p)
    syms = [p["symbol"]] if p.get("symbol") else [s for s in SYMBOLS if (cat, s) in INSTRUMENTS]
    for s in syms:
        sim.engine.instrument(cat, s)
    return {"category": cat, "list": [wire.ticker(sim.engine, cat, s) for s in syms]}


def orderbook(sim, key, p, units):
    cat = _category(p)
    inst = sim.engine.instrument(cat, p.get("symbol"))
    depth = _int(p, "limit", 1 if cat == "spot" else 25, 1, 1000 if cat == "spot" else 500)
    bids, asks = wire.book(sim.engine, cat, inst.symbol, depth)
    now = sim.clock()
    m = sim.engine.markets[(cat, inst.symbol)]
    return {"s": inst.symbol, "b": bids, "a": asks, "ts": now, "u": m.trade_seq + 1, "seq": m.trade_seq + 1, "cts": now}


INTERVALS = {
    "1": 1,
    "3": 3,
    "5": 5,
    "15": 15,
    "30": 30,
    "60": 60,
    "120": 120,
    "240": 240,
    "360": 360,
    "720": 720,
    "D": 1440,
    "W": 10080,
}


def _anchored(window, price: Decimal, tick: Decimal, reference: Decimal):
    """Scale `window` so that the present candle (close `reference`) closes at `price`."""
    ratio = price / reference if reference else Decimal(1)

    def scaled(value: Decimal) -> Decimal:
        return ((value * ratio) / tick).to_integral_value() * tick

    return [
        replace(c, open=scaled(c.open), high=scaled(c.high), low=scaled(c.low), close=scaled(c.close))
        for c in window
    ]


def kline(sim, key, p, units):
    cat = p.get("category") or "linear"
    inst = sim.engine.instrument(cat, p.get("symbol"))
    minutes = INTERVALS.get(str(p.get("interval")))
    if minutes is None:
        raise BybitError(10001, "params error: interval invalid")
    limit = _int(p, "limit", 200, 1, 1000)
    state = sim.engine.replays.get(inst.symbol)
    path = state["csv"] if state else str(feed.default_csv(inst.symbol))
    try:
        candles = feed.load_candles(path)
    except OSError:
        candles = ()
    end_idx = state["index"] if state and state["index"] else len(candles)
    end_ms = _int(p, "end", 0, 0, 2**62) or None
    start_ms = _int(p, "start", 0, 0, 2**62) or None
    if start_ms:
        # A page of history: the first `limit` intervals from `start` (up to `end` and the
        # present), as Bybit serves a bounded [start, end] range.
        lo = bisect.bisect_left(candles, start_ms, hi=end_idx, key=lambda c: c.ts)
        hi = end_idx
        if end_ms:
            hi = min(hi, bisect.bisect_right(candles, end_ms, hi=end_idx, key=lambda c: c.ts))
        window = candles[lo : max(lo, min(hi, lo + limit * minutes))]
    else:
        window = candles[max(0, end_idx - (limit + 1) * minutes) : end_idx]
    if not state and window:
        # No replay: the price was set through the control API. Keep the real market's shape
        # but anchor it to the current price, so the chart and the ticker agree.
        window = _anchored(window, sim.engine.price(cat, inst.symbol), inst.tick_size, candles[end_idx - 1].close)
    buckets: dict[int, list] = {}
    step = minutes * 60_000
    for c in window:
        buckets.setdefault(c.ts - c.ts % step, []).append(c)
    rows = []
    for start in sorted(buckets, reverse=True):
        if end_ms and start > end_ms or start_ms and start < start_ms:
            continue
        cs = buckets[start]
        vol = sum((c.volume for c in cs), Decimal(0))
        turnover = sum((c.volume * c.close for c in cs), Decimal(0))
        rows.append(
            [
                str(start),
                wire.s(cs[0].open),
                wire.s(max(c.high for c in cs)),
                wire.s(min(c.low for c in cs)),
                wire.s(cs[-1].close),
                wire.s(vol),
                wire.s(turnover.quantize(Decimal("0.0001"))),
            ]
        )
        if len(rows) >= limit:
            break
    return {"category": cat, "symbol": inst.symbol, "list": rows}


def recent_trade(sim, key, p, units):
    cat = _category(p)
    inst = sim.engine.instrument(cat, p.get("symbol"))
    m = sim.engine.markets[(cat, inst.symbol)]
    return {
        "category": cat,
        "list": [
            {
                "execId": str(m.trade_seq),
                "symbol": inst.symbol,
                "price": wire.s(m.last),
                "size": "0",
                "side": "Buy",
                "time": str(sim.clock()),
                "isBlockTrade": False,
            }
        ],
    }
