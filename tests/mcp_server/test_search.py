"""Walk-forward parameter search on the real candles shipped with the simulator.

The figures are in `scripts/bench search` (per-window table and win count on BTCUSDT, ETHUSDT
and the FTX BTC-PERP series). These tests assert the protocol: a decision reads only the candles
before it (garbage in the scored window changes the score, never the choice), the maximin is
exact despite its pruning, and the suggestion is a valid, reproducible configuration."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from bots.engine.candles import POINTS_PER_CANDLE, PricePath
from mcp_server import search
from mcp_server.adapters import candles

BUDGET = Decimal(1000)
HORIZON = search.NAIVE_DAYS * search.DAY  # the first decision of a walk-forward


@pytest.fixture(scope="module")
def eth():
    return candles.price_path("ETHUSDT")


def _garbage_after(path: PricePath, start: int) -> PricePath:
    """`path` with every candle from `start` on replaced by a saw-tooth that swings ±30 % of the
    price at `start` (a made-up market nothing before `start` could predict)."""
    ticks = path.ticks.copy()
    base = int(ticks[start * POINTS_PER_CANDLE])
    n = len(ticks) - start * POINTS_PER_CANDLE
    swing = (0.3 * base * np.sin(np.arange(n) / 97.0)).astype(np.int64)
    ticks[start * POINTS_PER_CANDLE :] = base + swing
    return PricePath(path.tick, ticks, path.times)


def test_the_scored_window_never_influences_the_choice(eth):
    rules = candles.spot_rules("ETHUSDT")
    real = search.window(eth, 0, HORIZON + search.WINDOW)  # one decision, one scored window
    fake = _garbage_after(real, HORIZON)
    kw = dict(symbol="ETHUSDT", rules=rules, fees=candles.SPOT_FEES, budget=BUDGET, trials=32)
    [honest] = search.walk_forward(real, **kw)
    [garbled] = search.walk_forward(fake, **kw)
    assert honest.decided_at == int(eth.times[HORIZON - 1])  # decided on the week before, nothing more
    assert garbled.suggested == honest.suggested and garbled.naive == honest.naive
    # the garbage reached the scoring: the same choices score differently on it
    assert (garbled.suggested_roi, garbled.naive_roi) != (honest.suggested_roi, honest.naive_roi)


def test_training_windows_end_before_the_decision():
    n = HORIZON + 5 * search.STRIDE
    starts = search.training_windows(n)
    assert starts[0] == n - search.WINDOW  # the last one ends exactly at the decision
    assert all(s + search.WINDOW <= n and s >= search.VOL_LOOKBACK for s in starts)
    assert all(a - b == search.STRIDE for a, b in zip(starts, starts[1:], strict=False))


def test_volatility_reads_only_the_candles_before_the_launch(eth):
    fake = _garbage_after(eth, HORIZON)
    assert search.volatility(fake, HORIZON) == search.volatility(eth, HORIZON)
    assert search.volatility(fake, HORIZON + search.DAY) != search.volatility(eth, HORIZON + search.DAY)


def test_pruned_maximin_picks_what_brute_force_picks(eth):
    rules = candles.spot_rules("ETHUSDT")
    n = HORIZON + 6 * search.DAY  # a decision with 19 training windows behind it
    history = search.window(eth, 0, n)
    windows = [
        (search.window(history, s, search.WINDOW), search.volatility(history, s)) for s in search.training_windows(n)
    ]
    rng = np.random.default_rng(3)
    recipes = [
        search.Recipe(
            float(rng.uniform(0.3, 4)), int(rng.integers(4, 61)), "arithmetic", float(rng.uniform(0.05, 2)), 0.5
        )
        for _ in range(40)
    ]
    scores, complete = search._maximin(
        recipes, windows, risk="medium", rules=rules, fees=candles.SPOT_FEES, budget=BUDGET
    )
    full = np.array(
        [
            search.roi(
                [r.at(sigma, "medium") for r in recipes], path, rules=rules, fees=candles.SPOT_FEES, budget=BUDGET
            )
            for path, sigma in windows
        ]
    ).min(axis=0)
    assert int(np.argmax(scores)) == int(np.argmax(full))
    assert scores[complete] == pytest.approx(full[complete])  # every complete score is the true worst window
    assert not complete.all()  # and the pruning did skip work


def test_suggestion_is_a_valid_reproducible_config(eth):
    rules = candles.spot_rules("ETHUSDT")
    first = search.suggest(eth, rules=rules, fees=candles.SPOT_FEES, budget=BUDGET, risk="low", trials=16)
    again = search.suggest(eth, rules=rules, fees=candles.SPOT_FEES, budget=BUDGET, risk="low", trials=16)
    assert first == again
    config = first["suggested"]["config"]
    price = Decimal(first["price"])
    lower, upper = Decimal(config["lower_price"]), Decimal(config["upper_price"])
    assert lower < price < upper and Decimal(config["stop_loss_price"]) < lower < upper < Decimal(
        config["take_profit_price"]
    )
    low, high = search.RISK_WIDTH["low"]
    assert low * 100 <= first["suggested"]["range_half_width_percent"] <= high * 100
    assert "out_of_sample_roi_percent" in first["naive_best_of_last_7_days"]
