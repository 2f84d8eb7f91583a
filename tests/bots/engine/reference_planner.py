"""The per-order replay planner as it was before the typed grid state (commit 434a7a9), kept
only as the reference the state-based planner must equal (tests/bots/engine/test_state.py)."""

# ruff: noqa
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bots.engine.config import GridConfig
from bots.engine.ids import grid_order_id, parse_client_order_id
from bots.engine.planner import GRID, LevelOrder, PlannedOrder, TickPlan, _min_qty_at
from exchanges.client import FeeRates, InstrumentRules, OrderType, Side

ZERO = Decimal(0)
DEFAULT_SPOT_FEE = Decimal("0.001")


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


def reference_plan_tick(
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
