"""Walk-forward parameter search for a spot grid (Optuna on the compiled sweep).

For a pair, a budget and a risk level it proposes the range (as a half-width around the price
at launch), the grid count, the spacing and the stop-loss / take-profit distances beyond the
range. The search works on a RECIPE anchored to recent volatility: the half-width, the stop gap
and the take gap are multiples of sigma, the standard deviation of one-minute log returns over
the two days before the launch, scaled to the two-day horizon (clipped to the risk level's
bounds). One recipe therefore means a wide grid in a wild market and a narrow one in a calm
market, and it can be scored fairly on many past windows, each resolved with the sigma known at
that window's start.

Choice by walk-forward, robustly: Optuna samples `trials` recipes; each is run on EVERY two-day
window that starts every 12 hours in the history before the decision (each window ends before
the decision), and its score is its WORST window ROI (maximin). A recipe that one regime loved
and another punished scores low; what survives every past regime wins. The maximin is exact but
cheap: once a few recipes are fully scored, a recipe whose running minimum is already below
the best complete score is pruned (its minimum can only fall further).

The naive choice, what exchanges' "AI parameters" do, is the best single trial by in-sample ROI
on the last 7 days (absolute parameters, one window). `walk_forward` replays both on real
history: decide at a point from the candles before it only, then run each choice on the next
window it never saw (out of sample)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from bots.engine.candles import POINTS_PER_CANDLE, PricePath
from bots.engine.config import GridConfig
from bots.engine.sweep import sweep
from exchanges.client import FeeRates, InstrumentRules

DAY = 1440  # one-minute candles
WINDOW = 2 * DAY
STRIDE = DAY // 2  # a training window starts every 12 hours
VOL_LOOKBACK = WINDOW  # sigma from the two days before a launch
NAIVE_DAYS = 7
TRIALS = 256
RISK_WIDTH = {"low": (0.04, 0.15), "medium": (0.02, 0.10), "high": (0.01, 0.06)}  # half-range, share of price
RISK_STOP = {"low": (0.005, 0.04), "medium": (0.01, 0.08), "high": (0.02, 0.15)}  # stop loss below the range
TAKE_GAP = (0.005, 0.10)
GRID_COUNT = (4, 60)
# recipe ranges, in multiples of sigma
WIDTH_X = (0.3, 4.0)
STOP_X = (0.05, 2.0)
TAKE_X = (0.05, 1.5)
FULL_FIRST = 8  # recipes scored on every window before pruning starts
PROBE = 4  # windows every recipe is scored on before the first FULL_FIRST are picked


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


def _clip(value: float, bounds: tuple[float, float]) -> float:
    return min(bounds[1], max(bounds[0], value))


@dataclass(frozen=True)
class Recipe:
    """A grid in units of recent volatility: resolved to Params with the sigma at a launch."""

    width_x: float
    grid_count: int
    spacing: str
    stop_x: float
    take_x: float

    def at(self, sigma: float, risk: str) -> Params:
        return Params(
            width=_clip(self.width_x * sigma, RISK_WIDTH[risk]),
            grid_count=self.grid_count,
            spacing=self.spacing,
            stop_gap=_clip(self.stop_x * sigma, RISK_STOP[risk]),
            take_gap=_clip(self.take_x * sigma, TAKE_GAP),
        )

    def to_json(self) -> dict:
        return {
            "range_half_width_sigmas": round(self.width_x, 3),
            "grid_count": self.grid_count,
            "spacing": self.spacing,
            "stop_loss_sigmas": round(self.stop_x, 3),
            "take_profit_sigmas": round(self.take_x, 3),
        }


def volatility(path: PricePath, end: int) -> float:
    """Sigma at a launch after candle `end` - 1: the standard deviation of the one-minute log
    returns of the VOL_LOOKBACK candles before `end`, scaled to the WINDOW horizon. Only candles
    before `end` are read."""
    closes = path.closes[max(0, end - VOL_LOOKBACK) : end].astype(float)
    if len(closes) < 3:
        raise ValueError("volatility needs candles before the launch")
    return float(np.diff(np.log(closes)).std() * math.sqrt(WINDOW))


def _sample(trial, risk: str) -> Params:
    wl, wh = RISK_WIDTH[risk]
    sl, sh = RISK_STOP[risk]
    return Params(
        width=trial.suggest_float("width", wl, wh, log=True),
        grid_count=trial.suggest_int("grid_count", *GRID_COUNT),
        spacing=trial.suggest_categorical("spacing", ["arithmetic", "geometric"]),
        stop_gap=trial.suggest_float("stop_gap", sl, sh),
        take_gap=trial.suggest_float("take_gap", *TAKE_GAP),
    )


def _sample_recipe(trial) -> Recipe:
    return Recipe(
        width_x=trial.suggest_float("width_x", *WIDTH_X, log=True),
        grid_count=trial.suggest_int("grid_count", *GRID_COUNT),
        spacing=trial.suggest_categorical("spacing", ["arithmetic", "geometric"]),
        stop_x=trial.suggest_float("stop_x", *STOP_X, log=True),
        take_x=trial.suggest_float("take_x", *TAKE_X, log=True),
    )


def _study(seed: int, sampler=None):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        direction="maximize", sampler=sampler or optuna.samplers.TPESampler(seed=seed, n_startup_trials=16)
    )


@dataclass(frozen=True)
class Choice:
    params: Params  # resolved for a launch right after the history searched
    score: float  # the search's own figure (worst training-window ROI, or the naive peak ROI)
    recipe: Recipe | None = field(default=None)  # the volatility-anchored rule (suggested choice only)


def training_windows(n: int) -> list[int]:
    """Starts of the training windows for a decision after candle n - 1: every STRIDE back
    from the last window that ends at the decision, while VOL_LOOKBACK candles precede it."""
    return list(range(n - WINDOW, VOL_LOOKBACK - 1, -STRIDE))


def _maximin(
    recipes: list[Recipe],
    windows: list[tuple[PricePath, float]],
    *,
    risk: str,
    rules: InstrumentRules,
    fees: FeeRates,
    budget: Decimal,
) -> tuple[np.ndarray, np.ndarray]:
    """Worst-window ROI of each recipe (exact for every recipe that could be the best; -inf for
    the pruned ones) and whether it was scored on every window."""

    def run(idx: list[int], w: int) -> np.ndarray:
        path, sigma = windows[w]
        return roi([recipes[i].at(sigma, risk) for i in idx], path, rules=rules, fees=fees, budget=budget)

    n, m = len(recipes), len(windows)
    low = np.full(n, np.inf)
    done = np.zeros((n, m), dtype=bool)
    everyone = list(range(n))
    for w in range(min(PROBE, m)):
        low = np.minimum(low, run(everyone, w))
        done[:, w] = True
    first = [int(i) for i in np.argsort(-low, kind="stable")[:FULL_FIRST]]
    rest_windows = list(range(min(PROBE, m), m))
    harm = {}
    for w in rest_windows:
        got = run(first, w)
        harm[w] = float(got.mean())
        low[first] = np.minimum(low[first], got)
        done[first, w] = True
    bar = float(low[first].max())
    # A recipe is pruned iff its worst window is below the bar, whatever the order: the
    # windows that hurt the first ones most go first, so the losers drop out early.
    rest_windows.sort(key=lambda w: harm[w])
    alive = [i for i in everyone if i not in set(first) and low[i] >= bar]
    for w in rest_windows:
        if not alive:
            break
        low[alive] = np.minimum(low[alive], run(alive, w))
        done[alive, w] = True
        alive = [i for i in alive if low[i] >= bar]
    complete: np.ndarray = np.asarray(done.all(axis=1))
    return np.where(complete, low, -np.inf), complete


def search(
    history: PricePath,
    *,
    rules: InstrumentRules,
    fees: FeeRates,
    budget: Decimal,
    risk: str = "medium",
    trials: int = TRIALS,
    batch: int = 16,
    seed: int = 7,
) -> tuple[Choice, Choice]:
    """(suggested, naive) for a launch right after `history` (needs NAIVE_DAYS of candles).
    Reads nothing but `history`."""
    import optuna

    if risk not in RISK_WIDTH:
        raise ValueError("risk is low, medium or high")
    n = history.candles
    if n < NAIVE_DAYS * DAY:
        raise ValueError(f"the search needs {NAIVE_DAYS} days of candles")
    starts = training_windows(n)
    windows = [(window(history, s, WINDOW), volatility(history, s)) for s in starts]
    walk = _study(seed, optuna.samplers.RandomSampler(seed=seed))
    asked = [walk.ask() for _ in range(trials)]
    recipes = [_sample_recipe(t) for t in asked]
    scores, complete = _maximin(recipes, windows, risk=risk, rules=rules, fees=fees, budget=budget)
    for t, score, full in zip(asked, scores, complete, strict=True):
        if full:
            walk.tell(t, float(score))
        else:
            walk.tell(t, state=optuna.trial.TrialState.PRUNED)
    best = int(np.argmax(scores))  # ties: the earliest trial
    recipe = recipes[best]
    suggested = Choice(recipe.at(volatility(history, n), risk), float(scores[best]), recipe)

    last7 = window(history, n - NAIVE_DAYS * DAY, NAIVE_DAYS * DAY)
    peak = _study(seed)
    for _ in range(0, trials, batch):
        asked = [peak.ask() for _ in range(batch)]
        params = [_sample(t, risk) for t in asked]
        for t, value in zip(asked, roi(params, last7, rules=rules, fees=fees, budget=budget), strict=True):
            peak.tell(t, float(value))
    return suggested, _choice(peak.best_trial)


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
    trials: int = TRIALS,
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
    trials: int = TRIALS,
    at_price: Decimal | None = None,
    tick: Decimal | None = None,
) -> dict:
    """The suggestion for launching now (after the last candle of `path`), with its proof: the
    search runs on everything but the last window, both choices are then run on that window
    (out of sample), and the parameters are given as a configuration at the last price. The
    suggested recipe is resolved with the volatility of the last two days (now); the naive
    choice is absolute, as exchanges give it."""
    n = path.candles
    history = window(path, 0, n - WINDOW)
    suggested, naive = search(history, rules=rules, fees=fees, budget=budget, risk=risk, trials=trials)
    s_roi, n_roi = roi(
        [suggested.params, naive.params], window(path, n - WINDOW, WINDOW), rules=rules, fees=fees, budget=budget
    )
    recipe = suggested.recipe
    if recipe is None:  # search() always sets it on the suggested choice
        raise RuntimeError("the suggested choice carries its recipe")
    sigma_now = volatility(path, n)
    now = recipe.at(sigma_now, risk)
    price = (at_price if at_price else path.price(len(path) - 1)).normalize()
    tick = (tick or rules.tick_size).normalize()
    return {
        "symbol": rules.symbol,
        "risk": risk,
        "budget": str(budget),
        "price": format(price, "f"),
        "suggested": {
            **now.to_json(),
            "config": now.config(price=price, budget=budget, tick=tick).to_json(),
            "out_of_sample_roi_percent": round(float(s_roi), 2),
            "worst_training_window_roi_percent": round(suggested.score, 2),
            "recipe": recipe.to_json(),
            "volatility_two_days_percent": round(sigma_now * 100, 2),
        },
        "naive_best_of_last_7_days": {
            **naive.params.to_json(),
            "config": naive.params.config(price=price, budget=budget, tick=tick).to_json(),
            "out_of_sample_roi_percent": round(float(n_roi), 2),
        },
        "out_of_sample_window_hours": WINDOW // 60,
        "method": "walk-forward: range, stop and take profit are multiples of the last two days' volatility; "
        "among the sampled recipes the one with the best WORST return over every two-day window (one "
        "every 12 hours) before the held-out window wins; then both choices run on the held-out window "
        "they never saw",
    }
