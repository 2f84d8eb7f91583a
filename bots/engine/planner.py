"""The planner: state in, orders out. No I/O, no clock, no hidden state.

Model. The N+1 lines make N intervals; interval k (0 <= k < N) owns the buy at line k and the
sell at line k+1. At launch every interval gets exactly one order (grid-math §3.3): a buy at
its lower line when it lies below the price, otherwise a sell at its upper line, the line
nearest the price on the sell side staying empty. A filled buy at k is answered by a sell at
k+1 and a filled sell at k+1 by a buy at k ("buy i -> sell i+1 and back").

`plan_tick` derives everything from the bot's orders of this generation (open AND closed, as
stored): per interval it sums what the buys filled (minus the base fee on spot), what the sells
filled and what is committed (open orders count in full, closed ones by what they filled).
What should be on the book and is not becomes a new order with the next sequence number at
that (line, side). Partial fills therefore get counter orders as soon as they reach the
exchange minimum, smaller remainders wait, cancelled/rejected/missing orders are re-planned,
and calling it twice with the same state plans nothing the second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from exchanges.client import FeeRates, InstrumentRules, OrderType, Side

from .config import ConfigError, Direction, GridConfig, OnStop
from .ids import close_order_id, grid_order_id, initial_order_id, parse_client_order_id
from .levels import grid_levels
from .sizing import Sizing

ZERO = Decimal(0)
# Spot fee assumed when neither the order's base fee nor the fee rates are given: Bybit's
# standard spot rate. Assuming too much leaves dust; assuming too little would oversell.
DEFAULT_SPOT_FEE = Decimal("0.001")
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
    ladder.sort(key=lambda o: (abs(o.price - price), o.level))
    initial = None
    if sizing.initial_base_qty > 0:
        side = Side.SELL if (config.is_linear and config.direction == Direction.SHORT) else Side.BUY
        initial = PlannedOrder(
            initial_order_id(bot_id, generation), side, OrderType.MARKET, None, sizing.initial_base_qty, None, INITIAL
        )
    return LaunchPlan(initial=initial, ladder=ladder)


# ------------------------------------------------------------------------------------- tick


class _Interval:
    __slots__ = ("ib", "is_", "g", "fee", "bc", "sf", "sc", "sopen")

    def __init__(self) -> None:
        self.ib = self.is_ = self.g = self.fee = self.bc = self.sf = self.sc = self.sopen = ZERO


@dataclass(frozen=True, slots=True)
class IntervalState:
    """Aggregates of one interval (exposed for metrics and tests)."""

    initial_buy: Decimal  # qty of the launch buy at line k (0 when the interval began as a sell)
    initial_sell: Decimal  # qty of the launch sell at line k+1
    bought: Decimal  # gross base filled by buys at line k
    bought_net: Decimal  # bought minus base fees (spot)
    buy_committed: Decimal
    sold: Decimal
    sell_committed: Decimal
    sell_open: Decimal


def _fee_rate(fees: FeeRates | None) -> Decimal:
    if fees is None:
        return DEFAULT_SPOT_FEE
    return max(fees.maker, fees.taker, ZERO)


def interval_states(
    config: GridConfig,
    *,
    levels: Sequence[Decimal],
    orders: Sequence[LevelOrder],
    bot_id: int | None = None,
    generation: int | None = None,
    fees: FeeRates | None = None,
) -> tuple[list[IntervalState], dict[tuple[int, Side], list[tuple[int, bool]]]]:
    n = len(levels) - 1
    spot = config.is_spot
    rate = _fee_rate(fees)
    ivs = [_Interval() for _ in range(n)]
    history: dict[tuple[int, Side], list[tuple[int, bool]]] = {}
    for o in orders:
        key = parse_client_order_id(o.client_order_id)
        if key is not None:
            if key.purpose != GRID:
                continue
            if (bot_id is not None and key.bot_id != bot_id) or (
                generation is not None and key.generation != generation
            ):
                continue
        if o.level is None:
            continue
        side = o.side if o.side.__class__ is Side else Side(o.side)
        k = o.level if side is Side.BUY else o.level - 1
        if not 0 <= k < n:
            continue
        iv = ivs[k]
        committed = o.qty if o.is_open else o.filled_qty
        seq = key.seq if key is not None else None
        if side is Side.BUY:
            iv.g += o.filled_qty
            if spot:
                iv.fee += o.base_fee if o.base_fee is not None else o.filled_qty * rate
            iv.bc += committed
            if seq == 0:
                iv.ib += o.qty
        else:
            iv.sf += o.filled_qty
            iv.sc += committed
            if o.is_open:
                iv.sopen += o.qty - o.filled_qty
            if seq == 0:
                iv.is_ += o.qty
        if seq is not None:
            history.setdefault((o.level, side), []).append((seq, (not o.is_open) and o.filled_qty == 0))
    states = [IntervalState(iv.ib, iv.is_, iv.g, iv.g - iv.fee, iv.bc, iv.sf, iv.sc, iv.sopen) for iv in ivs]
    return states, history


def plan_tick(
    config: GridConfig,
    rules: InstrumentRules,
    *,
    levels: Sequence[Decimal],
    orders: Sequence[LevelOrder],
    fills: Sequence[FillEvent] = (),
    bot_id: int,
    generation: int,
    fees: FeeRates | None = None,
    max_replans: int = 3,
) -> TickPlan:
    """Counter orders for what filled and replacements for what vanished.

    `orders` must hold ALL grid orders of this bot and generation, open and closed: the plan
    and the next sequence numbers are derived from them (that is what makes it idempotent and
    ids unique). `fills` are the executions stored since the last tick; they are already
    reflected in the orders' filled_qty and only serve as the trigger."""
    states, history = interval_states(
        config, levels=levels, orders=orders, bot_id=bot_id, generation=generation, fees=fees
    )
    next_seq: dict[tuple[int, Side], int] = {}
    for key, hist in history.items():
        next_seq[key] = max(s for s, _ in hist) + 1
    max_q = rules.qty_down(rules.max_qty)
    place: list[PlannedOrder] = []
    stuck: list[tuple[int, Side]] = []

    def failing(level: int, side: Side) -> bool:
        hist = sorted(history.get((level, side), ()))
        if len(hist) < max_replans:
            return False
        return all(failed for _, failed in hist[-max_replans:])

    def add(level: int, side: Side, owed: Decimal) -> None:
        price = levels[level]
        qty = min(rules.qty_down(owed), max_q) if owed > 0 else ZERO
        if qty <= 0 or qty < _min_qty_at(rules, price):
            return
        if failing(level, side):
            stuck.append((level, side))
            return
        seq = next_seq.get((level, side), 1)  # 0 is reserved for the launch ladder
        next_seq[(level, side)] = seq + 1
        place.append(
            PlannedOrder(
                grid_order_id(bot_id, generation, level, side, seq), side, OrderType.LIMIT, price, qty, level, GRID
            )
        )

    step = rules.qty_step
    for k, st in enumerate(states):
        # Sell side: base this interval holds (launch inventory + net bought) not yet on a sell.
        sell_owed = st.initial_sell + st.bought_net - st.sell_committed
        add(k + 1, Side.SELL, sell_owed)
        # Buy side: buy back what was sold. Launch inventory comes back one for one; base from
        # buys comes back at gross/net so a full cycle restores the same quantity per grid.
        unsold = st.initial_sell + st.bought_net - st.sold
        if st.sell_open == 0 and unsold < step:
            credit = st.initial_buy + st.initial_sell + st.bought  # everything sold (bar dust)
        else:
            from_init = min(st.sold, st.initial_sell)
            from_buys = st.sold - from_init
            credit = st.initial_buy + from_init
            if from_buys > 0 and st.bought_net > 0:
                credit += from_buys * st.bought / st.bought_net
        add(k, Side.BUY, credit - st.buy_committed)
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
