"""Synthetic 1-minute markets of known character, generated with a fixed seed (tests and the
benchmark): mean-reverting (Ornstein-Uhlenbeck on log price), trending (drift), random walk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from analytics.services import Bar

START = datetime(2024, 1, 1, tzinfo=UTC)


def closes(kind: str, n: int, *, seed: int, price: float = 100.0, sigma: float = 0.0015) -> np.ndarray:
    rng = np.random.default_rng(seed)
    eps = rng.normal(0.0, sigma, n)
    x = np.empty(n)
    x[0] = 0.0
    if kind == "mean_reverting":
        theta = 0.02  # half-life ~35 minutes
        for i in range(1, n):
            x[i] = x[i - 1] * (1 - theta) + eps[i]
    elif kind == "trending":
        x = np.cumsum(eps + sigma * 0.6)
    elif kind == "random_walk":
        x = np.cumsum(eps)
    else:
        raise ValueError(kind)
    return price * np.exp(x)


def bars(kind: str, n: int, *, seed: int, price: float = 100.0, start: datetime = START) -> list[Bar]:
    c = closes(kind, n, seed=seed, price=price)
    rng = np.random.default_rng(seed + 1)
    o = np.concatenate(([c[0]], c[:-1]))
    wick = np.abs(rng.normal(0, 0.0004, n)) * c
    h = np.maximum(o, c) + wick
    low = np.minimum(o, c) - wick[::-1]
    vol = rng.uniform(5, 50, n)

    def d(v: float) -> Decimal:
        return Decimal(f"{v:.2f}")

    return [
        Bar(start + timedelta(minutes=i), d(o[i]), d(h[i]), d(low[i]), d(c[i]), Decimal(f"{vol[i]:.3f}"))
        for i in range(n)
    ]
