"""The planner: state in, orders out. No I/O, no clock, no hidden state.

Model. The N+1 lines make N intervals; interval k (0 <= k < N) owns the buy at line k and the
sell at line k+1. At launch every interval gets exactly one order (grid-math §3.3): a buy at
its lower line when it lies below the price, otherwise a sell at its upper line, the line
nearest the price on the sell side staying empty. A filled buy at k is answered by a sell at
k+1 and a filled sell at k+1 by a buy at k ("buy i -> sell i+1 and back").

`plan_tick` reads the typed grid state (state.py), kept up to date by events (an order placed,
filled, cancelled, rejected, missing) in O(1) each: per interval what the buys filled (minus the
base fee on spot), what the sells filled and what is committed (open orders in full, closed ones
by what they filled). What should be on the book and is not becomes a new order with the next
sequence number at that (line, side). Partial fills therefore get counter orders as soon as they
reach the exchange minimum, smaller remainders wait, cancelled/rejected/missing orders are
re-planned, and planning again after the plan is folded into the state plans nothing. The cost
is O(lines), never O(history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import cast

from exchanges.client import FeeRates, InstrumentRules, OrderType, Side

from .config import ConfigError, Direction, GridConfig, OnStop
from .ids import close_order_id, grid_order_id, initial_order_id, parse_client_order_id
from .levels import grid_levels
from .sizing import Sizing
from .state import GridState

ZERO = Decimal(0)
GRID, INITIAL, CLOSE = "grid", "initial", "close"


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    client_order_id: str
    side: Side
    order_type: OrderType
    price: Decimal | None
    qty: Decimal
    level: int | None
    purpose: str  # "grid" | "initial" | "close"
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class LevelOrder:
    """One of the bot's orders as stored. `is_open`: pending/open/partially filled/cancelling.
    `base_fee`: cumulative fee charged in the base coin on this order (spot buys); when None
    it is estimated from the fee rates."""

    client_order_id: str
    level: int | None
    side: Side
    price: Decimal | None
    qty: Decimal
    filled_qty: Decimal
    is_open: bool
    base_fee: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FillEvent:
    client_order_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_coin: str


@dataclass(frozen=True)
class LaunchPlan:
    initial: PlannedOrder | None
    ladder: list[PlannedOrder]

    @property
    def orders(self) -> list[PlannedOrder]:
        return ([self.initial] if self.initial else []) + list(self.ladder)


@dataclass(frozen=True)
class TickPlan:
    place: list[PlannedOrder]
    cancel: list[str]
    # (line, side) where the last `max_replans` orders all closed unfilled: not re-planned
    # again; the services should tell the user (and probably stop the bot).
    stuck: list[tuple[int, Side]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.place and not self.cancel


@dataclass(frozen=True)
class StopPlan:
    cancel: list[str]
    close: PlannedOrder | None


def _min_qty_at(rules: InstrumentRules, price: Decimal) -> Decimal:
    return max(rules.min_qty, rules.qty_up(rules.min_notional / price), rules.qty_step)


# ----------------------------------------------------------------------------------- launch


def launch_plan(
    config: GridConfig, rules: InstrumentRules, *, price: Decimal, sizing: Sizing, bot_id: int, generation: int
) -> LaunchPlan:
    """The initial market order (if any) and the ladder, nearest lines first."""
    if not sizing.meets_minimums:
        raise ConfigError(
            f"The investment is too small for this grid: at least {sizing.min_investment:.2f} is needed.",
            field="investment",
        )
    levels = sizing.levels or grid_levels(config, rules)
    q = sizing.qty_per_grid
    ladder = [
        PlannedOrder(
            grid_order_id(bot_id, generation, i, Side.BUY, 0), Side.BUY, OrderType.LIMIT, levels[i], q, i, GRID
        )
        for i in sizing.buy_levels
    ] + [
        PlannedOrder(
            grid_order_id(bot_id, generation, i, Side.SELL, 0), Side.SELL, OrderType.LIMIT, levels[i], q, i, GRID
        )
        for i in sizing.sell_levels
    ]
    ladder.sort(key=lambda o: (abs(cast(Decimal, o.price) - price), o.level))  # limit orders: priced
    initial = None
    if sizing.initial_base_qty > 0:
        side = Side.SELL if (config.is_linear and config.direction == Direction.SHORT) else Side.BUY
        initial = PlannedOrder(
            initial_order_id(bot_id, generation), side, OrderType.MARKET, None, sizing.initial_base_qty, None, INITIAL
        )
    return LaunchPlan(initial=initial, ladder=ladder)


# ------------------------------------------------------------------------------------- tick


def plan_tick(
    config: GridConfig,
    rules: InstrumentRules,
    *,
    state: GridState | None = None,
    bot_id: int,
    generation: int,
    levels: Sequence[Decimal] | None = None,
    orders: Sequence[LevelOrder] | None = None,
    fills: Sequence[FillEvent] = (),
    fees: FeeRates | None = None,
    max_replans: int = 3,
) -> TickPlan:
    """Counter orders for what filled and replacements for what vanished, read from the typed
    grid `state` (bots.engine.state): O(lines), whatever the bot's history.

    Pure and idempotent: once the services fold the plan back into the state
    (`state.placed(order)` for each order, when its PENDING row is written), planning again plans
    nothing. Callers that only hold a list of orders (tests, the reference backtest) may pass
    `levels` + `orders` (ALL grid orders of this bot and run) instead: the state is rebuilt from
    them first (GridState.from_orders, the same state the events give). `fills` is accepted for
    compatibility and not needed (the state already holds what filled)."""
    if state is None:
        if levels is None or orders is None:
            raise ValueError("plan_tick needs the grid state (or levels and orders to rebuild it)")
        state = GridState.from_orders(
            orders, bot_id=bot_id, generation=generation, spot=config.is_spot, levels=levels, fees=fees
        )
    levels = state.levels
    max_q = rules.qty_down(rules.max_qty)
    next_seq = dict(state.next_seq)
    place: list[PlannedOrder] = []
    stuck: list[tuple[int, Side]] = []

    def add(level: int, side: Side, owed: Decimal) -> None:
        price = levels[level]
        qty = min(rules.qty_down(owed), max_q) if owed > 0 else ZERO
        if qty <= 0 or qty < _min_qty_at(rules, price):
            return
        if state.failing(level, side, max_replans):
            stuck.append((level, side))
            return
        seq = max(next_seq.get((level, side), 1), 1)  # 0 is reserved for the launch ladder
        next_seq[(level, side)] = seq + 1
        place.append(
            PlannedOrder(
                grid_order_id(bot_id, generation, level, side, seq), side, OrderType.LIMIT, price, qty, level, GRID
            )
        )

    step = rules.qty_step
    with localcontext() as ctx:
        ctx.prec = 60
        for k, iv in enumerate(state.intervals):
            bought_net = iv.bought_net
            # Sell side: base this interval holds (launch inventory + net bought) not yet on a sell.
            add(k + 1, Side.SELL, iv.initial_sell + bought_net - iv.sell_committed)
            # Buy side: buy back what was sold. Launch inventory comes back one for one; base from
            # buys comes back at gross/net so a full cycle restores the same quantity per grid.
            unsold = iv.initial_sell + bought_net - iv.sold
            if iv.sell_open == 0 and unsold < step:
                credit = iv.initial_buy + iv.initial_sell + iv.bought  # everything sold (bar dust)
            else:
                from_init = min(iv.sold, iv.initial_sell)
                from_buys = iv.sold - from_init
                credit = iv.initial_buy + from_init
                if from_buys > 0 and bought_net > 0:
                    credit += from_buys * iv.bought / bought_net
            add(k, Side.BUY, credit - iv.buy_committed)
    return TickPlan(place=place, cancel=[], stuck=stuck)


# ------------------------------------------------------------------------------------- stop


def stop_plan(
    config: GridConfig,
    rules: InstrumentRules,
    *,
    orders: Sequence[LevelOrder],
    base_position: Decimal,
    position_side: Side | None = None,
    on_stop: OnStop | None = None,
    price: Decimal | None = None,
    bot_id: int | None = None,
    generation: int | None = None,
) -> StopPlan:
    """Cancel every open order, then keep / sell the bot's base (spot) / close the position
    (linear, reduce-only). `base_position`: the bot's base (spot) or position size (linear;
    negative means short when `position_side` is None). `on_stop` overrides the config
    (the stop endpoint's close_action); `price` enables the min-notional check."""
    cancel = [o.client_order_id for o in orders if o.is_open]
    action = OnStop(on_stop) if on_stop is not None else config.on_stop
    if action == OnStop.KEEP or base_position == 0:
        return StopPlan(cancel=cancel, close=None)

    n = 0
    for o in orders:
        key = parse_client_order_id(o.client_order_id)
        if key is None:
            continue
        bot_id = key.bot_id if bot_id is None else bot_id
        generation = key.generation if generation is None else generation
        if key.purpose == CLOSE and key.bot_id == bot_id and key.generation == generation:
            n = max(n, key.seq + 1)
    if bot_id is None or generation is None:
        raise ValueError("stop_plan needs bot_id and generation when no order carries them")

    if config.is_spot:
        if action != OnStop.SELL_BASE:
            return StopPlan(cancel=cancel, close=None)
        qty = rules.qty_down(min(abs(base_position), rules.max_qty))
        if qty < rules.min_qty or qty <= 0 or (price is not None and qty * price < rules.min_notional):
            return StopPlan(cancel=cancel, close=None)
        close = PlannedOrder(close_order_id(bot_id, generation, n), Side.SELL, OrderType.MARKET, None, qty, None, CLOSE)
        return StopPlan(cancel=cancel, close=close)

    if action != OnStop.CLOSE_POSITION:
        return StopPlan(cancel=cancel, close=None)
    if position_side is None:
        position_side = Side.BUY if base_position > 0 else Side.SELL
    qty = rules.qty_up(abs(base_position))
    close = PlannedOrder(
        close_order_id(bot_id, generation, n),
        Side(position_side).opposite,
        OrderType.MARKET,
        None,
        qty,
        None,
        CLOSE,
        reduce_only=True,
    )
    return StopPlan(cancel=cancel, close=close)
