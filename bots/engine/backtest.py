"""Backtests: the live engine replayed on candles, compiled (kernel.py) or driven in pure Python.

Both paths share one semantics, the live bot's on the simulator (exchanges/simulator):
- the price walks the candle path (candles.PricePath: open, nearer extreme, other, close, on
  the tick); the bot waits for its start trigger (targets.trigger_reached between two points),
  then launches at that point's price: size_grid, launch_plan, the launch market order filled
  at that price paying the taker fee;
- at every later point the resting orders it reaches fill completely at their own price paying
  the maker fee (buys highest first, then sells lowest first: the simulator's book order), the
  targets are checked on the total PnL at that price (check_targets), a hit runs stop_plan (the
  close order filled at market, taker fee) and ends the run, and after fills the planner
  (plan_tick) places the counter orders;
- profit is the one profit book (book.ProfitBook) folded over the fills in order: cycles, grid
  profit, realized and inventory PnL, fees. Equity is the account's cash and base valued at the
  price.

`backtest(..., engine="kernel")` (default) runs kernel.run_grid in whole integers and converts
to Decimal at the end; `engine="reference"` drives the real planner in Decimal. Tests prove
they give the same fills, cycles and profit to the smallest unit. Partial fills are off (every
fill is complete: the kernel assumes the market's volume is enough), liquidation and funding
are not simulated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor
from typing import TYPE_CHECKING

from exchanges.client import FeeRates, InstrumentRules, OrderType, Side

from .book import BookFill, ProfitBook
from .candles import POINTS_PER_CANDLE, Candle, PricePath
from .config import Direction, GridConfig, OnStop
from .ids import close_order_id, grid_order_id, initial_order_id
from .planner import CLOSE, GRID, INITIAL, LevelOrder, PlannedOrder, launch_plan, plan_tick, stop_plan
from .sizing import Sizing, size_grid
from .targets import check_targets, trigger_reached

if TYPE_CHECKING:
    import numpy as np  # imported where used: the engine loads without it

ZERO = Decimal(0)
STOP_KINDS = {
    1: ("stop_loss", "price"),
    2: ("stop_loss", "pnl"),
    3: ("stop_loss", "roi"),
    4: ("take_profit", "price"),
    5: ("take_profit", "pnl"),
    6: ("take_profit", "roi"),
}


@dataclass(frozen=True, slots=True)
class BacktestFill:
    time: int  # unix seconds of the candle
    client_order_id: str
    side: Side
    level: int | None
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_coin: str
    purpose: str  # "grid" | "initial" | "close"
    realized: Decimal = ZERO  # PnL the book realized on this fill
    point: int = 0  # index of the path point (4 per candle)


@dataclass(frozen=True, slots=True)
class Cycle:
    interval: int  # lower line of the pair (buy line i, sell line i+1)
    time: int
    qty: Decimal
    profit: Decimal


@dataclass(frozen=True, slots=True)
class StopEvent:
    kind: str  # "take_profit" | "stop_loss"
    code: str  # "price" | "pnl" | "roi"
    reason: str
    time: int
    price: Decimal
    point: int


@dataclass
class BacktestResult:
    sizing: Sizing | None  # None: the trigger was never reached
    start_price: Decimal  # the launch price (or the first point's when never launched)
    end_price: Decimal
    candles: int  # candles the run went through (up to a stop)
    fills: list[BacktestFill]
    cycles: list[Cycle]
    grid_profit: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal  # inventory PnL at the end price
    total_pnl: Decimal  # the book's figure: what the bot page shows
    fees_paid: Decimal  # every fee valued in quote at its fill price
    fees: dict[str, Decimal]  # per coin, as charged
    quote_balance: Decimal  # spot: quote held; linear: cash (margin + realized - fees)
    base_balance: Decimal  # spot: base held; linear: signed position
    equity: Decimal  # quote_balance + base_balance × end price (linear: + position value)
    equity_curve: list[Decimal]  # at each candle close up to the end
    investment: Decimal
    launched_at: int | None  # unix seconds of the launch (None: the trigger never came)
    stop: StopEvent | None = None
    open_orders: list[PlannedOrder] = field(default_factory=list)
    engine: str = "kernel"
    max_drawdown: Decimal = ZERO  # largest fall of equity from a peak, at candle closes

    @property
    def cycle_count(self) -> int:
        return len(self.cycles)

    @property
    def inventory_pnl(self) -> Decimal:
        """Realized outside the grid (launch inventory sold, close on stop)."""
        return self.realized_pnl - self.grid_profit


# ------------------------------------------------------------------------------ shared parts


def _path(candles: Sequence[Candle] | PricePath, rules: InstrumentRules) -> PricePath:
    if isinstance(candles, PricePath):
        if candles.tick != rules.tick_size:
            raise ValueError("the price path was built for another tick size")
        return candles
    candles = list(candles)
    if not candles:
        raise ValueError("backtest needs at least one candle")
    return PricePath.from_candles(candles, rules.tick_size)


def launch_point(config: GridConfig, path: PricePath) -> int | None:
    """The first path point where the start trigger is reached (0 without a trigger; None when
    it never is): trigger_reached between each point and the one before it."""
    trigger = config.trigger_price
    if trigger is None:
        return 0
    ticks = path.ticks
    t = Fraction(trigger) / Fraction(path.tick)
    lo_t, hi_t = floor(t), ceil(t)
    if t == lo_t and int(ticks[0]) == lo_t:
        return 0
    import numpy as np

    lo = np.minimum(ticks[:-1], ticks[1:])
    hi = np.maximum(ticks[:-1], ticks[1:])
    hits = np.flatnonzero((lo <= lo_t) & (hi >= hi_t))
    return int(hits[0]) + 1 if len(hits) else None


def _fee(fill_purpose: str, side: Side, qty: Decimal, price: Decimal, fees: FeeRates, spot: bool, rules) -> tuple:
    rate = fees.maker if fill_purpose == GRID else fees.taker
    if spot and side is Side.BUY:
        return qty * rate, rules.base_coin
    return qty * price * rate, rules.quote_coin


def _finish(
    *,
    config: GridConfig,
    rules: InstrumentRules,
    path: PricePath,
    sizing: Sizing | None,
    start: int | None,
    raw_fills: list[tuple],
    end: int,
    stop: tuple | None,
    curve: list[Decimal],
    quote: Decimal,
    base: Decimal,
    open_orders: list[PlannedOrder],
    engine: str,
    max_drawdown: Decimal,
) -> BacktestResult:
    """Fold the fills through the profit book and assemble the result (shared by both paths).
    raw_fills: (point, client_order_id, side, level, price, qty, fee, fee_coin, purpose)."""
    book = ProfitBook(
        category="spot" if config.is_spot else "linear",
        base_coin=rules.base_coin,
        quote_coin=rules.quote_coin,
        invested=config.investment,
    )
    fills: list[BacktestFill] = []
    cycles: list[Cycle] = []
    end_price = path.price(end)
    reason = ""

    def stop_reason() -> str:  # the words the live bot stores, on the figure before the close
        hit = check_targets(config, price=end_price, total_pnl=book.total_pnl(end_price), invested=config.investment)
        return hit.reason if hit is not None else ""

    for n, (point, cid, side, level, price, qty, fee, coin, purpose) in enumerate(raw_fills, start=1):
        if purpose == CLOSE and stop is not None:
            reason = stop_reason()
        r = book.apply(BookFill(side.value, price, qty, fee, coin, level, purpose, trade_id=n))
        t = path.time(point)
        fills.append(BacktestFill(t, cid, side, level, price, qty, fee, coin, purpose, r.realized_pnl, point))
        if r.closes_cycle:
            cycles.append(Cycle(level - 1 if side is Side.SELL else level, t, qty, r.realized_pnl))
    if stop is not None and not reason:
        reason = stop_reason()
    spot = config.is_spot
    equity = quote + base * end_price if spot else config.investment + quote + base * end_price
    stop_event = None
    if stop is not None:
        kind, code = stop[0], stop[1]
        stop_event = StopEvent(kind, code, reason, path.time(end), end_price, end)
    return BacktestResult(
        sizing=sizing,
        start_price=path.price(start if start is not None else 0),
        end_price=end_price,
        candles=end // POINTS_PER_CANDLE + 1,
        fills=fills,
        cycles=cycles,
        grid_profit=book.grid_profit,
        realized_pnl=book.realized_pnl,
        unrealized_pnl=book.unrealized(end_price),
        total_pnl=book.total_pnl(end_price),
        fees_paid=book.fees_quote,
        fees=dict(book.fees),
        quote_balance=quote if spot else config.investment + quote,
        base_balance=base,
        equity=equity,
        equity_curve=curve,
        investment=config.investment,
        launched_at=path.time(start) if start is not None else None,
        stop=stop_event,
        open_orders=open_orders,
        engine=engine,
        max_drawdown=max_drawdown,
    )


def _not_launched(config, rules, path, engine) -> BacktestResult:
    n = path.candles
    return _finish(
        config=config,
        rules=rules,
        path=path,
        sizing=None,
        start=None,
        raw_fills=[],
        end=len(path) - 1,
        stop=None,
        curve=[config.investment] * n,
        quote=config.investment if config.is_spot else ZERO,
        base=ZERO,
        open_orders=[],
        engine=engine,
        max_drawdown=ZERO,
    )


# ------------------------------------------------------------------------------- the kernel


@dataclass(frozen=True)
class KernelSpec:
    """One configuration in the kernel's integer units (see kernel.py)."""

    params: np.ndarray  # int64[PARAMS]
    levels: np.ndarray  # int64[N+1] ticks
    minq: np.ndarray  # int64[N+1] steps
    fd: int
    money: Decimal  # value of one money unit M in quote
    fine: Decimal  # value of one fine quantity unit in base
    sizing: Sizing


def _fee_denominator(fees: FeeRates) -> int:
    d = 0
    for rate in (fees.maker, fees.taker):
        exp = rate.normalize().as_tuple().exponent
        d = max(d, -exp if isinstance(exp, int) else 0)
    return 10**d


def _units(value: Decimal, unit: Decimal) -> Fraction:
    return Fraction(value) / Fraction(unit)


def kernel_spec(
    config: GridConfig, rules: InstrumentRules, *, fees: FeeRates, path: PricePath, start: int
) -> KernelSpec:
    """Size the grid at the launch point's price and express it in integers. Raises ConfigError
    like launch_plan (investment too small...) and OverflowError when the numbers do not fit."""
    import numpy as np

    from . import kernel as K

    price = path.price(start)
    sizing = size_grid(config, rules, price=price, fees=fees)
    if not sizing.meets_minimums:  # what launch_plan refuses, in its words
        launch_plan(config, rules, price=price, sizing=sizing, bot_id=1, generation=1)
    levels_d = sizing.levels
    tick, step = rules.tick_size, rules.qty_step
    fd = _fee_denominator(fees)
    money = tick * step / fd
    fine = step / fd

    def steps_exact(q: Decimal) -> int:
        units, rest = divmod(q, step)
        if rest:
            raise ValueError(f"quantity {q} is not on the step {step}")
        return int(units)

    n = len(levels_d) - 1
    levels = np.array([int(x / tick) for x in levels_d], dtype=np.int64)
    if any(levels[i] * tick != levels_d[i] for i in (0, n)):
        raise ValueError("grid lines are not on the tick")
    # planner._min_qty_at in steps: max(min_qty, qty_up(min_notional / price), step)
    mn = Fraction(rules.min_notional) / (Fraction(tick) * Fraction(step))
    by_qty = max(ceil(Fraction(rules.min_qty) / Fraction(step)), 1)
    minq = np.maximum(-((-mn.numerator) // (mn.denominator * levels)), by_qty).astype(np.int64)
    p = np.zeros(K.PARAMS, dtype=np.int64)
    p[K.P_N] = n
    p[K.P_SPOT] = 1 if config.is_spot else 0
    if sizing.initial_base_qty > 0:  # launch_plan's initial market order
        p[K.P_INIT_SIDE] = -1 if (config.is_linear and config.direction == Direction.SHORT) else 1
        p[K.P_INIT_QTY] = steps_exact(sizing.initial_base_qty)
    p[K.P_FD] = fd
    am, at = int(fees.maker * fd), int(fees.taker * fd)
    p[K.P_MAKER], p[K.P_TAKER] = am, at
    p[K.P_MAKER_BASE] = am if config.is_spot else 0
    p[K.P_MAX_Q] = floor(_units(rules.max_qty, step))
    p[K.P_START] = start
    invest = _units(config.investment, money)
    if invest.denominator != 1:  # never: the investment has at most 18 places, M is finer
        raise OverflowError("investment is finer than the kernel's money unit")
    p[K.P_INVEST] = int(invest)
    p[K.P_ON_STOP] = {OnStop.KEEP: 0, OnStop.SELL_BASE: 1, OnStop.CLOSE_POSITION: 2}[config.on_stop]
    p[K.P_MIN_QTY] = ceil(_units(rules.min_qty, step))
    p[K.P_MIN_NOTIONAL] = ceil(Fraction(rules.min_notional) / (Fraction(tick) * Fraction(step)))
    short = config.is_linear and config.direction == Direction.SHORT
    if config.stop_loss_price is not None:
        t = _units(config.stop_loss_price, tick)
        p[K.P_SL_PRICE], p[K.P_SL_DIR] = (ceil(t), 2) if short else (floor(t), 1)
    if config.take_profit_price is not None:
        t = _units(config.take_profit_price, tick)
        p[K.P_TP_PRICE], p[K.P_TP_DIR] = (floor(t), 1) if short else (ceil(t), 2)
    inv = Fraction(config.investment)
    m = Fraction(money)
    for value, slot, flag, threshold in (
        (config.stop_loss_pnl, K.P_SL_PNL, K.P_HAS_SL_PNL, lambda v: floor(-Fraction(v) / m)),
        (config.stop_loss_roi, K.P_SL_ROI, K.P_HAS_SL_ROI, lambda v: floor(-Fraction(v) * inv / 100 / m)),
        (config.take_profit_pnl, K.P_TP_PNL, K.P_HAS_TP_PNL, lambda v: ceil(Fraction(v) / m)),
        (config.take_profit_roi, K.P_TP_ROI, K.P_HAS_TP_ROI, lambda v: ceil(Fraction(v) * inv / 100 / m)),
    ):
        if value is not None:
            p[slot] = max(-(1 << 62), min(1 << 62, threshold(value)))
            p[flag] = 1
            p[K.P_PNL_TARGETS] = 1
    p[K.P_Q] = steps_exact(sizing.qty_per_grid)
    p[K.P_EMPTY] = sizing.empty_level
    # every product the kernel forms must stay well inside int64
    top = max(int(levels[-1]), path.max_tick)
    qty_bound = int(p[K.P_INIT_QTY]) + 4 * (n + 1) * max(int(p[K.P_Q]), 1)
    if qty_bound * top * fd >= K.LIMIT // 4 or int(invest) >= K.LIMIT // 4:
        raise OverflowError("amounts too large for the kernel's integers")
    p[K.P_BASE_LIMIT] = K.LIMIT // top  # checked after every fill (and the stop) in the kernel
    return KernelSpec(p, levels, minq, fd, money, fine, sizing)


def _run_kernel(config, rules, path: PricePath, *, fees, bot_id, generation) -> BacktestResult | None:
    """The compiled path; None when the kernel cannot do this configuration exactly."""
    import numpy as np

    from . import kernel as K

    start = launch_point(config, path)
    if start is None:
        return _not_launched(config, rules, path, "kernel")
    try:
        spec = kernel_spec(config, rules, fees=fees, path=path, start=start)
    except OverflowError:
        return None
    capacity = 4096
    out = np.zeros(K.SUMMARY, dtype=np.int64)
    curve = np.zeros(path.candles, dtype=np.int64)
    n = len(spec.levels) - 1
    while True:
        fills = np.zeros((capacity, K.FILL_COLS), dtype=np.int64)
        cnt, oqty, oseq = K.order_arrays(n)
        K.run_grid(path.ticks, spec.levels, spec.minq, spec.params, fills, curve, out, cnt, oqty, oseq)
        if out[K.S_STATUS] == 1:
            capacity = int(out[K.S_FILLS]) + 16
            continue
        break
    if out[K.S_STATUS] != 0:
        return None
    spot = config.is_spot
    tick, step = rules.tick_size, rules.qty_step
    levels = spec.sizing.levels
    raw = []
    level: int | None
    for row in fills[: int(out[K.S_FILLS])]:
        point, line, side_i, qty_i, seq, kind, price_i = (int(x) for x in row)
        side = Side.BUY if side_i == K.BUY else Side.SELL
        qty = qty_i * step
        if kind == K.KIND_GRID:
            price, purpose, level = levels[line], GRID, line
            cid = grid_order_id(bot_id, generation, line, side, seq)
        else:
            price = price_i * tick
            purpose, level = (INITIAL, None) if kind == K.KIND_INITIAL else (CLOSE, None)
            cid = (
                initial_order_id(bot_id, generation)
                if kind == K.KIND_INITIAL
                else close_order_id(bot_id, generation, 0)
            )
        fee, coin = _fee(purpose, side, qty, price, fees, spot, rules)
        raw.append((point, cid, side, level, price, qty, fee, coin, purpose))
    end = int(out[K.S_END])
    m = spec.money
    stop = None
    if out[K.S_STOP]:
        stop_kind, code = STOP_KINDS[int(out[K.S_STOP])]
        stop = (stop_kind, code, "")
    ncurve = end // POINTS_PER_CANDLE + 1
    base = int(out[K.S_BASE]) * spec.fine
    quote = int(out[K.S_QUOTE]) * m
    result = _finish(
        config=config,
        rules=rules,
        path=path,
        sizing=spec.sizing,
        start=start,
        raw_fills=raw,
        end=end,
        stop=stop,
        curve=[int(v) * m for v in curve[:ncurve]],
        quote=quote,
        base=base,
        open_orders=_kernel_open_orders(cnt, oqty, oseq, levels, step, bot_id, generation),
        engine="kernel",
        max_drawdown=int(out[K.S_MAX_DRAWDOWN]) * m,
    )
    return result


def _kernel_open_orders(cnt, oqty, oseq, levels, step, bot_id, generation) -> list[PlannedOrder]:
    """The kernel's open orders in the simulator's book order (buys highest first, then sells)."""
    from . import kernel as K

    out = []
    n = len(levels) - 1
    for side_i, lines in ((K.BUY, range(n, -1, -1)), (K.SELL, range(n + 1))):
        side = Side.BUY if side_i == K.BUY else Side.SELL
        for j in lines:
            for s in range(int(cnt[j, side_i])):
                out.append(
                    PlannedOrder(
                        grid_order_id(bot_id, generation, j, side, int(oseq[j, side_i, s])),
                        side,
                        OrderType.LIMIT,
                        levels[j],
                        int(oqty[j, side_i, s]) * step,
                        j,
                        GRID,
                    )
                )
    return out


# ---------------------------------------------------------------------------- the reference


class _OpenBook:
    """The simulator's resting orders: buys by (-price, placement), sells by (price, placement)."""

    def __init__(self) -> None:
        self.buys: list[tuple[Decimal, int, PlannedOrder]] = []
        self.sells: list[tuple[Decimal, int, PlannedOrder]] = []
        self.n = 0

    def add(self, o: PlannedOrder) -> None:
        assert o.price is not None  # only limit orders rest on the book
        self.n += 1
        if o.side is Side.BUY:
            self.buys.append((-o.price, self.n, o))
            self.buys.sort(key=lambda x: (x[0], x[1]))
        else:
            self.sells.append((o.price, self.n, o))
            self.sells.sort(key=lambda x: (x[0], x[1]))

    def crossed(self, price: Decimal) -> list[PlannedOrder]:
        out = []
        while self.buys and -self.buys[0][0] >= price:
            out.append(self.buys.pop(0)[2])
        while self.sells and self.sells[0][0] <= price:
            out.append(self.sells.pop(0)[2])
        return out

    def resting(self) -> list[PlannedOrder]:
        return [x[2] for x in self.buys] + [x[2] for x in self.sells]


def _reference_launch_point(config: GridConfig, path: PricePath) -> int | None:
    previous = None
    for i in range(len(path)):
        price = path.price(i)
        if trigger_reached(config, price=price, previous_price=previous):
            return i
        previous = price
    return None


def _run_reference(config, rules, path: PricePath, *, fees, bot_id, generation) -> BacktestResult:
    """The live engine in pure Python: launch_plan, plan_tick and stop_plan over the path."""
    start = _reference_launch_point(config, path)
    if start is None:
        return _not_launched(config, rules, path, "reference")
    spot = config.is_spot
    p0 = path.price(start)
    sizing = size_grid(config, rules, price=p0, fees=fees)
    plan = launch_plan(config, rules, price=p0, sizing=sizing, bot_id=bot_id, generation=generation)
    levels = sizing.levels
    book = ProfitBook(
        category="spot" if spot else "linear",
        base_coin=rules.base_coin,
        quote_coin=rules.quote_coin,
        invested=config.investment,
    )
    quote = config.investment if spot else ZERO  # spot: quote held; linear: cash change
    base = ZERO
    raw: list[tuple] = []

    def apply(point, cid, side, level, price, qty, purpose) -> None:
        nonlocal quote, base
        fee, coin = _fee(purpose, side, qty, price, fees, spot, rules)
        sign = 1 if side is Side.BUY else -1
        if spot:
            quote -= sign * qty * price + (fee if coin == rules.quote_coin else ZERO)
            base += sign * qty - (fee if coin == rules.base_coin else ZERO)
        else:
            quote -= sign * qty * price + fee
            base += sign * qty
        book.apply(BookFill(side.value, price, qty, fee, coin, level, purpose, trade_id=len(raw) + 1))
        raw.append((point, cid, side, level, price, qty, fee, coin, purpose))

    if plan.initial is not None:
        o = plan.initial
        apply(start, o.client_order_id, o.side, None, p0, o.qty, INITIAL)
    view: dict[str, LevelOrder] = {}
    open_book = _OpenBook()

    def place(o: PlannedOrder) -> None:
        view[o.client_order_id] = LevelOrder(o.client_order_id, o.level, o.side, o.price, o.qty, ZERO, True)
        open_book.add(o)

    for o in plan.ladder:
        place(o)

    curve: list[Decimal] = [config.investment] * (start // POINTS_PER_CANDLE)
    peak = config.investment
    max_dd = ZERO
    targets = any(
        v is not None
        for v in (
            config.stop_loss_price,
            config.take_profit_price,
            config.stop_loss_pnl,
            config.take_profit_pnl,
            config.stop_loss_roi,
            config.take_profit_roi,
        )
    )
    stop = None
    end = start

    def equity(price: Decimal) -> Decimal:
        return quote + base * price if spot else config.investment + quote + base * price

    for i in range(start, len(path)):
        price = path.price(i)
        end = i
        if i > start:
            hit_orders = open_book.crossed(price)
            for o in hit_orders:
                apply(i, o.client_order_id, o.side, o.level, o.price, o.qty, GRID)
                view[o.client_order_id] = LevelOrder(
                    o.client_order_id,
                    o.level,
                    o.side,
                    o.price,
                    o.qty,
                    o.qty,
                    False,
                    o.qty * fees.maker if (spot and o.side is Side.BUY) else None,
                )
            if targets:
                hit = check_targets(config, price=price, total_pnl=book.total_pnl(price), invested=config.investment)
                if hit is not None:
                    sp = stop_plan(
                        config,
                        rules,
                        orders=list(view.values()),
                        base_position=base,
                        price=price,
                        bot_id=bot_id,
                        generation=generation,
                    )
                    if sp.close is not None:
                        c = sp.close
                        apply(i, c.client_order_id, c.side, None, price, c.qty, CLOSE)
                    stop = (hit.kind, hit.code, hit.reason)
                    view.clear()
                    open_book = _OpenBook()
                    break
            if hit_orders:
                tp = plan_tick(
                    config,
                    rules,
                    levels=levels,
                    orders=list(view.values()),
                    bot_id=bot_id,
                    generation=generation,
                    fees=fees,
                )
                for o in tp.place:
                    place(o)
        if i % POINTS_PER_CANDLE == POINTS_PER_CANDLE - 1 or i == len(path) - 1:
            eq = equity(price)
            curve.append(eq)
            peak = max(peak, eq)
            max_dd = max(max_dd, peak - eq)
    if stop is not None:
        eq = equity(path.price(end))
        curve.append(eq)
        peak = max(peak, eq)
        max_dd = max(max_dd, peak - eq)
    return _finish(
        config=config,
        rules=rules,
        path=path,
        sizing=sizing,
        start=start,
        raw_fills=raw,
        end=end,
        stop=stop,
        curve=curve,
        quote=quote,
        base=base,
        open_orders=open_book.resting(),
        engine="reference",
        max_drawdown=max_dd,
    )


# ----------------------------------------------------------------------------------- public


def backtest(
    config: GridConfig,
    rules: InstrumentRules,
    candles: Sequence[Candle] | PricePath,
    *,
    fees: FeeRates,
    bot_id: int = 1,
    generation: int = 1,
    engine: str = "kernel",
) -> BacktestResult:
    """Replay `candles` (or a PricePath built for rules.tick_size) through the grid engine.
    engine="kernel" (compiled, exact integers; falls back to the reference for amounts beyond
    its integers) or "reference" (the real planner in Decimal). Raises ConfigError when the grid
    cannot launch (investment below the minimum...)."""
    path = _path(candles, rules)
    if engine == "reference":
        return _run_reference(config, rules, path, fees=fees, bot_id=bot_id, generation=generation)
    if engine != "kernel":
        raise ValueError(f"unknown backtest engine {engine!r}")
    result = _run_kernel(config, rules, path, fees=fees, bot_id=bot_id, generation=generation)
    if result is None:
        return _run_reference(config, rules, path, fees=fees, bot_id=bot_id, generation=generation)
    return result
