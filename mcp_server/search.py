"""Walk-forward parameter search for a spot grid (Optuna on the compiled sweep).

For a pair, a budget and a risk level it proposes the range (as a half-width around the price
at launch), the grid count, the spacing and the stop-loss / take-profit distances beyond the
range. Parameters are RELATIVE to the launch price, so one choice can be scored on many past
windows: each trial runs on the last TRAIN_WINDOWS windows of WINDOW candles before the
decision, and its score is a plateau score: the mean ROI over the windows of the trial AND its
neighbours (range ±15 %, grid count ±25 %), minus half their spread. A peak that only one
window and one exact setting liked scores low; a broad, steady region scores high.

The naive choice, what exchanges' "AI parameters" do, is the best single trial on the last
7 days (one window, no neighbours). `walk_forward` replays both on real history: decide at a
point, then run each choice on the next window it never saw (out of sample)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from bots.engine.candles import POINTS_PER_CANDLE, PricePath
from bots.engine.config import GridConfig
from bots.engine.sweep import sweep
from exchanges.client import FeeRates, InstrumentRules

DAY = 1440  # one-minute candles
WINDOW = 2 * DAY
TRAIN_WINDOWS = 3
NAIVE_DAYS = 7
RISK_WIDTH = {"low": (0.04, 0.15), "medium": (0.02, 0.10), "high": (0.01, 0.06)}  # half-range, share of price
RISK_STOP = {"low": (0.005, 0.04), "medium": (0.01, 0.08), "high": (0.02, 0.15)}  # stop loss below the range
GRID_COUNT = (4, 60)
NEIGHBOURS = ((1.0, 1.0), (0.85, 1.0), (1.15, 1.0), (1.0, 0.75), (1.0, 1.25))  # (width ×, count ×)


@dataclass(frozen=True)
class Params:
    """A grid relative to the launch price."""

    width: float  # half-range as a share of the price (0.05: ±5 %)
    grid_count: int
    spacing: str  # arithmetic | geometric
    stop_gap: float  # stop loss this share below the lower price
    take_gap: float  # take profit this share above the upper price

    def config(self, *, price: Decimal, budget: Decimal, tick: Decimal) -> GridConfig:
        def q(value: float) -> str:
            return str((price * Decimal(repr(value)) / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick)

        lower, upper = 1 - self.width, 1 + self.width
        return GridConfig.from_json(
            {
                "strategy": "spot_grid",
                "lower_price": q(lower),
                "upper_price": q(upper),
                "grid_count": int(self.grid_count),
                "spacing": self.spacing,
                "investment": str(budget),
                "stop_loss_price": q(lower * (1 - self.stop_gap)),
                "take_profit_price": q(upper * (1 + self.take_gap)),
            }
        )

    def near(self, width_x: float, count_x: float) -> Params:
        lo, hi = GRID_COUNT
        return Params(
            width=self.width * width_x,
            grid_count=min(hi, max(lo, round(self.grid_count * count_x))),
            spacing=self.spacing,
            stop_gap=self.stop_gap,
            take_gap=self.take_gap,
        )

    def to_json(self) -> dict:
        return {
            "range_half_width_percent": round(self.width * 100, 2),
            "grid_count": self.grid_count,
            "spacing": self.spacing,
            "stop_loss_below_range_percent": round(self.stop_gap * 100, 2),
            "take_profit_above_range_percent": round(self.take_gap * 100, 2),
        }


def window(path: PricePath, start: int, length: int) -> PricePath:
    """Candles [start, start + length) of `path` as their own path."""
    a, b = start * POINTS_PER_CANDLE, (start + length) * POINTS_PER_CANDLE
    return PricePath(path.tick, path.ticks[a:b], path.times[start : start + length])


def roi(
    params: list[Params], path: PricePath, *, rules: InstrumentRules, fees: FeeRates, budget: Decimal
) -> np.ndarray:
    """ROI (%) of each parameter set launched at the window's first price; -100 when it cannot run."""
    price = path.price(0)
    configs = [p.config(price=price, budget=budget, tick=rules.tick_size) for p in params]
    rows = sweep(configs, rules, path, fees=fees)
    return np.array([float(r.roi_percent) if not r.error else -100.0 for r in rows])


def _sample(trial, risk: str) -> Params:
    wl, wh = RISK_WIDTH[risk]
    sl, sh = RISK_STOP[risk]
    return Params(
        width=trial.suggest_float("width", wl, wh, log=True),
        grid_count=trial.suggest_int("grid_count", *GRID_COUNT),
        spacing=trial.suggest_categorical("spacing", ["arithmetic", "geometric"]),
        stop_gap=trial.suggest_float("stop_gap", sl, sh),
        take_gap=trial.suggest_float("take_gap", 0.005, 0.10),
    )


def _study(seed: int):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=16))


@dataclass(frozen=True)
class Choice:
    params: Params
    score: float  # the search's own figure (plateau score, or the naive peak ROI)


def search(
    history: PricePath,
    *,
    rules: InstrumentRules,
    fees: FeeRates,
    budget: Decimal,
    risk: str = "medium",
    trials: int = 48,
    batch: int = 16,
    seed: int = 7,
) -> tuple[Choice, Choice]:
    """(suggested, naive) for a launch right after `history` (needs NAIVE_DAYS of candles)."""
    if risk not in RISK_WIDTH:
        raise ValueError("risk is low, medium or high")
    n = history.candles
    if n < NAIVE_DAYS * DAY:
        raise ValueError(f"the search needs {NAIVE_DAYS} days of candles")
    train = [window(history, n - (k + 1) * WINDOW, WINDOW) for k in range(TRAIN_WINDOWS)]
    last7 = window(history, n - NAIVE_DAYS * DAY, NAIVE_DAYS * DAY)
    walk, peak = _study(seed), _study(seed)
    for _ in range(0, trials, batch):
        asked = [walk.ask() for _ in range(batch)]
        params = [_sample(t, risk) for t in asked]
        around = [p.near(wx, cx) for p in params for wx, cx in NEIGHBOURS]
        per_window = np.stack([roi(around, w, rules=rules, fees=fees, budget=budget) for w in train])
        per_window = per_window.reshape(len(train), len(params), len(NEIGHBOURS))
        for t, i in zip(asked, range(len(params)), strict=True):
            cells = per_window[:, i, :]
            walk.tell(t, float(cells.mean() - 0.5 * cells.std()))
        asked = [peak.ask() for _ in range(batch)]
        params = [_sample(t, risk) for t in asked]
        for t, value in zip(asked, roi(params, last7, rules=rules, fees=fees, budget=budget), strict=True):
            peak.tell(t, float(value))
    return _choice(walk.best_trial), _choice(peak.best_trial)


def _choice(trial) -> Choice:
    p = trial.params
    return Choice(Params(p["width"], p["grid_count"], p["spacing"], p["stop_gap"], p["take_gap"]), float(trial.value))


@dataclass(frozen=True)
class WindowResult:
    symbol: str
    decided_at: int  # unix seconds: the last candle the search saw
    suggested_roi: float  # out of sample, the next WINDOW candles
    naive_roi: float
    suggested: Params
    naive: Params

    @property
    def suggested_wins(self) -> bool:
        return self.suggested_roi > self.naive_roi


def walk_forward(
    path: PricePath,
    *,
    symbol: str,
    rules: InstrumentRules,
    fees: FeeRates,
    budget: Decimal,
    risk: str = "medium",
    step: int = WINDOW,
    trials: int = 48,
) -> list[WindowResult]:
    """Decide at every `step` once NAIVE_DAYS are behind, score both choices on the next window."""
    out = []
    decision = NAIVE_DAYS * DAY
    while decision + WINDOW <= path.candles:
        history = window(path, 0, decision)
        suggested, naive = search(history, rules=rules, fees=fees, budget=budget, risk=risk, trials=trials)
        future = window(path, decision, WINDOW)
        s, n = roi([suggested.params, naive.params], future, rules=rules, fees=fees, budget=budget)
        out.append(
            WindowResult(symbol, int(path.times[decision - 1]), float(s), float(n), suggested.params, naive.params)
        )
        decision += step
    return out


def suggest(
    path: PricePath,
    *,
    rules: InstrumentRules,
    fees: FeeRates,
    budget: Decimal,
    risk: str = "medium",
    trials: int = 48,
    at_price: Decimal | None = None,
    tick: Decimal | None = None,
) -> dict:
    """The suggestion for launching now (after the last candle of `path`), with its proof: the
    search runs on everything but the last window, both choices are then run on that window
    (out of sample), and the parameters are given as a configuration at the last price."""
    n = path.candles
    history = window(path, 0, n - WINDOW)
    suggested, naive = search(history, rules=rules, fees=fees, budget=budget, risk=risk, trials=trials)
    s_roi, n_roi = roi(
        [suggested.params, naive.params], window(path, n - WINDOW, WINDOW), rules=rules, fees=fees, budget=budget
    )
    price = (at_price if at_price else path.price(len(path) - 1)).normalize()
    tick = (tick or rules.tick_size).normalize()
    return {
        "symbol": rules.symbol,
        "risk": risk,
        "budget": str(budget),
        "price": format(price, "f"),
        "suggested": {
            **suggested.params.to_json(),
            "config": suggested.params.config(price=price, budget=budget, tick=tick).to_json(),
            "out_of_sample_roi_percent": round(float(s_roi), 2),
        },
        "naive_best_of_last_7_days": {
            **naive.params.to_json(),
            "config": naive.params.config(price=price, budget=budget, tick=tick).to_json(),
            "out_of_sample_roi_percent": round(float(n_roi), 2),
        },
        "out_of_sample_window_hours": WINDOW // 60,
        "method": "walk-forward: trained on the 3 two-day windows before the held-out window, scored on a plateau "
        "(neighbouring settings too), then both choices run on the held-out window they never saw",
    }
