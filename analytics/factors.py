"""The screener's factors of one candle series: pure numpy, no Django.

Floats are fine here: these are scores and estimates shown to a person, never money that moves
(the expected round trips are counted by the kernel's sweep, on a path in whole ticks).
Each factor is explained in words in analytics/explain.py (ru/en)."""

from __future__ import annotations

import math

import numpy as np

HOUR = 60


def hourly(o, h, low, c, v):
    """1-minute arrays -> hourly OHLCV (the trailing partial hour dropped)."""
    n = len(c) // HOUR * HOUR
    if n == 0:
        return o[:0], h[:0], low[:0], c[:0], v[:0]
    sl = slice(len(c) - n, len(c))
    shape = (-1, HOUR)
    return (
        o[sl].reshape(shape)[:, 0],
        h[sl].reshape(shape).max(axis=1),
        low[sl].reshape(shape).min(axis=1),
        c[sl].reshape(shape)[:, -1],
        v[sl].reshape(shape).sum(axis=1),
    )


def true_range(h, low, c):
    prev = np.concatenate(([c[0]], c[:-1]))
    return np.maximum(h - low, np.maximum(np.abs(h - prev), np.abs(low - prev)))


def efficiency_ratio(c) -> float:
    """Kaufman: net move / path length, 0 (pure back-and-forth) .. 1 (straight line)."""
    path = np.abs(np.diff(c)).sum()
    return float(abs(c[-1] - c[0]) / path) if path > 0 else 0.0


def choppiness(h, low, c) -> float:
    """Choppiness index over the whole window: 100·log10(ΣTR / (max high − min low)) / log10(n);
    ~100 = sideways, ~0 = trending."""
    n = len(c)
    span = float(h.max() - low.min())
    if n < 2 or span <= 0:
        return 0.0
    return float(100 * math.log10(true_range(h, low, c).sum() / span) / math.log10(n))


def variance_ratio(c, k: int = 16) -> float:
    """Lo-MacKinlay: Var(k-step log returns) / (k·Var(1-step)); < 1 mean-reverting, ~1 random
    walk, > 1 trending."""
    lp = np.log(c)
    r1 = np.diff(lp)
    rk = lp[k:] - lp[:-k]
    v1 = r1.var()
    return float(rk.var() / (k * v1)) if v1 > 0 and len(rk) > 1 else 1.0


def half_life(c) -> float:
    """Mean-reversion half-life in candles from an AR(1) fit of Δlog p on log p; inf if the
    series does not revert."""
    lp = np.log(c)
    x = lp[:-1] - lp[:-1].mean()
    y = np.diff(lp)
    denom = float((x * x).sum())
    if denom <= 0:
        return math.inf
    beta = float((x * (y - y.mean())).sum() / denom)
    return -math.log(2) / beta if beta < 0 else math.inf


def clip01(x: float) -> float:
    return 0.0 if x != x else min(1.0, max(0.0, x))


def factors(o, h, low, c, v) -> dict:
    """Every factor of the window (1-minute arrays as float64)."""
    ho, hh, hl, hc, hv = hourly(o, h, low, c, v)
    price = float(c[-1])
    last_day = slice(max(0, len(c) - 1440), len(c))
    quote_volume = float((c[last_day] * v[last_day]).sum())
    atr = float(true_range(hh[-24:], hl[-24:], hc[-24:]).mean()) if len(hc) else 0.0
    r1 = np.diff(np.log(c))
    realized = float(r1.std() * math.sqrt(1440 * 365) * 100) if len(r1) > 1 else 0.0
    er = efficiency_ratio(hc) if len(hc) > 2 else efficiency_ratio(c)
    chop = choppiness(hh, hl, hc) if len(hc) > 2 else choppiness(h, low, c)
    vr = variance_ratio(c)
    hl_minutes = half_life(c)
    window_minutes = len(c)
    hi, lo = float(h.max()), float(low.min())
    # Range-bound score 0..100: four equal parts, each 1 when the factor says "sideways".
    parts = {
        "efficiency": clip01(1 - er / 0.5),
        "choppiness": clip01((chop - 38.2) / (61.8 - 38.2)),
        "variance_ratio": clip01((1.0 - vr) / 0.5 + 0.5) if vr < 1.5 else 0.0,
        "half_life": clip01(1 - math.log10(max(hl_minutes, 1)) / math.log10(max(window_minutes, 10)))
        if math.isfinite(hl_minutes)
        else 0.0,
    }
    score = 25 * sum(parts.values())
    return {
        "price": price,
        "quote_volume_24h": quote_volume,
        "atr_percent": atr / price * 100 if price else 0.0,
        "realized_vol_percent": realized,
        "efficiency_ratio": er,
        "choppiness": chop,
        "variance_ratio": vr,
        "half_life_hours": hl_minutes / 60 if math.isfinite(hl_minutes) else None,
        "range_high": hi,
        "range_low": lo,
        "to_range_high_percent": (hi - price) / price * 100 if price else 0.0,
        "to_range_low_percent": (price - lo) / price * 100 if price else 0.0,
        "range_score": score,
        "range_score_parts": parts,
    }


def path_ticks(o, h, low, c, tick: float):
    """The engine's candle path (open, nearer extreme with high on a tie, other, close) in whole
    ticks, vectorised (bots.engine.candles.PricePath semantics, rounded half-even)."""
    high_first = (h - o) <= (o - low)
    p1 = np.where(high_first, h, low)
    p2 = np.where(high_first, low, h)
    pts = np.stack([o, p1, p2, c], axis=1).reshape(-1)
    return np.rint(pts / tick).astype(np.int64)
