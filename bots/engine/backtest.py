"""Replay a candle path through the SAME planner that trades live.

Each candle is walked open -> nearer of high/low -> the other -> close (and a gap from the
previous close to this open is walked too). A resting limit order fills completely at its own
price when the path reaches it (touch fills), paying the maker fee; the launch market order
fills at the first open paying the taker fee. After every move that filled something,
`plan_tick` plans the counter orders from the orders' state, exactly as the live tick does.

Profit accounting is per interval and FIFO: a buy at line i opens a lot, the sell at line i+1
closes it; a closed lot that came from a grid buy is one completed cycle whose profit is
Q(1-f)·p_i+1·(1-f) - Q·p_i (spot) or Q·(p_i+1 - p_i) - fees (linear). Lots opened by the launch
order are inventory: selling them is inventory PnL, not grid profit.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from exchanges.client import FeeRates, InstrumentRules, Side

from .candles import Candle
from .config import Direction, GridConfig
from .planner import INITIAL, LevelOrder, PlannedOrder, launch_plan, plan_tick
from .sizing import Sizing, size_grid

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class BacktestFill:
    time: int
    client_order_id: str
    side: Side
    level: int | None
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_coin: str
    purpose: str
    realized: Decimal = ZERO  # grid profit this fill closed (quote)


@dataclass(frozen=True, slots=True)
class Cycle:
    interval: int  # buy line index i (sell at i+1)
    time: int
    qty: Decimal
    profit: Decimal


@dataclass
class BacktestResult:
    sizing: Sizing
    start_price: Decimal
    end_price: Decimal
    candles: int
    fills: list[BacktestFill]
    cycles: list[Cycle]
    grid_profit: Decimal
    inventory_pnl: Decimal  # realized on the launch inventory
    unrealized_pnl: Decimal
    fees_paid: Decimal  # quote equivalent
    quote_balance: Decimal  # spot: quote held; linear: cash (margin + realized - fees)
    base_balance: Decimal  # spot: base held; linear: signed position
    equity: Decimal
    ticks: int
    open_orders: list[PlannedOrder] = field(default_factory=list)

    @property
    def cycle_count(self) -> int:
        return len(self.cycles)

    @property
    def total_pnl(self) -> Decimal:
        return self.equity - self.sizing_investment

    sizing_investment: Decimal = ZERO


class _Lot:
    __slots__ = ("qty", "value", "sign", "initial")

    def __init__(self, qty: Decimal, value: Decimal, sign: int, initial: bool):
        self.qty, self.value, self.sign, self.initial = qty, value, sign, initial


class _Book:
    """Open orders by side, sorted by price."""

    def __init__(self) -> None:
        self.buys: list[tuple[Decimal, str]] = []
        self.sells: list[tuple[Decimal, str]] = []

    def add(self, o: PlannedOrder) -> None:
        bisect.insort(self.buys if o.side is Side.BUY else self.sells, (o.price, o.client_order_id))

    def crossed(self, frm: Decimal, to: Decimal) -> list[str]:
        out: list[str] = []
        if to < frm:
            while self.buys and self.buys[-1][0] >= to:
                out.append(self.buys.pop()[1])
        elif to > frm:
            i = 0
            while i < len(self.sells) and self.sells[i][0] <= to:
                i += 1
            out = [cid for _, cid in self.sells[:i]]
            del self.sells[:i]
        return out


def candle_path(c: Candle) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    if (c.high - c.open) < (c.open - c.low):
        return c.open, c.high, c.low, c.close
    return c.open, c.low, c.high, c.close


def backtest(
    config: GridConfig,
    rules: InstrumentRules,
    candles: Iterable[Candle],
    *,
    fees: FeeRates,
    bot_id: int = 1,
    generation: int = 1,
) -> BacktestResult:
    it = iter(candles)
    first = next(it, None)
    if first is None:
        raise ValueError("backtest needs at least one candle")
    p0 = first.open
    spot = config.is_spot
    sizing = size_grid(config, rules, price=p0, fees=fees)
    plan = launch_plan(config, rules, price=p0, sizing=sizing, bot_id=bot_id, generation=generation)
    levels = sizing.levels
    n = len(levels) - 1
    fm, ft = fees.maker, fees.taker
    lots: list[deque[_Lot]] = [deque() for _ in range(n)]
    spare: list[_Lot] = []
    view: dict[str, LevelOrder] = {}
    planned: dict[str, PlannedOrder] = {}
    book = _Book()
    fills: list[BacktestFill] = []
    cycles: list[Cycle] = []
    st = {
        "quote": config.investment if spot else ZERO,
        "base": ZERO,
        "grid": ZERO,
        "inv": ZERO,
        "fees": ZERO,
        "cash": ZERO,
    }

    # --- launch: the market order, then the ladder ------------------------------------------
    if plan.initial is not None:
        o = plan.initial
        q = o.qty
        if spot:
            fee = q * ft
            st["quote"] -= q * p0
            st["base"] += q - fee
            st["fees"] += fee * p0
            fills.append(
                BacktestFill(first.time, o.client_order_id, o.side, None, p0, q, fee, rules.base_coin, INITIAL)
            )
            net, cost = q - fee, q * p0
            for lvl in sizing.sell_levels:  # inventory earmarked for each ladder sell
                share = sizing.qty_per_grid
                lots[lvl - 1].append(_Lot(share, cost * share / net, 1, True))
            rest = net - sizing.qty_per_grid * len(sizing.sell_levels)
            if rest > 0:
                spare.append(_Lot(rest, cost * rest / net, 1, True))
        else:
            fee = q * p0 * ft
            st["fees"] += fee
            st["cash"] -= fee
            sign = 1 if o.side is Side.BUY else -1
            st["base"] += sign * q
            st["cash"] -= sign * q * p0
            fills.append(
                BacktestFill(first.time, o.client_order_id, o.side, None, p0, q, fee, rules.quote_coin, INITIAL)
            )
            targets = sizing.sell_levels if config.direction == Direction.LONG else sizing.buy_levels
            per = sizing.qty_per_grid
            for lvl in targets:
                k = lvl - 1 if config.direction == Direction.LONG else lvl
                share_fee = fee * per / q
                value = per * p0 + share_fee if sign > 0 else per * p0 - share_fee
                lots[k].append(_Lot(per, value, sign, True))
    for o in plan.ladder:
        planned[o.client_order_id] = o
        view[o.client_order_id] = LevelOrder(o.client_order_id, o.level, o.side, o.price, o.qty, ZERO, True)
        book.add(o)

    def close_lots(k: int, sign: int, qty: Decimal, fill_value: Decimal) -> tuple[Decimal, Decimal]:
        """Close lots of the opposite sign in interval k; returns (grid profit, closed qty)."""
        dq = lots[k]
        remaining = qty
        grid = ZERO
        closed = ZERO
        while remaining > 0 and dq and dq[0].sign == -sign:
            lot = dq[0]
            m = min(lot.qty, remaining)
            lot_part = lot.value * m / lot.qty
            fill_part = fill_value * m / qty
            pnl = (fill_part - lot_part) if lot.sign > 0 else (lot_part - fill_part)
            if lot.initial:
                st["inv"] += pnl
            else:
                grid += pnl
                closed += m
            lot.qty -= m
            lot.value -= lot_part
            remaining -= m
            if lot.qty <= 0:
                dq.popleft()
        if remaining > 0:
            if spot and sign < 0:  # selling base not in a lot (dust): no cost basis
                st["inv"] += fill_value * remaining / qty
            else:
                dq.append(_Lot(remaining, fill_value * remaining / qty, sign, False))
        return grid, closed

    def fill(cid: str, t: int) -> None:
        o = planned[cid]
        q, p, lvl = o.qty, o.price, o.level
        sign = 1 if o.side is Side.BUY else -1
        k = lvl if sign > 0 else lvl - 1
        realized = ZERO
        base_fee = None
        if spot:
            if sign > 0:
                fee = q * fm
                base_fee = fee
                st["quote"] -= q * p
                st["base"] += q - fee
                st["fees"] += fee * p
                lots[k].append(_Lot(q - fee, q * p, 1, False))
                coin = rules.base_coin
            else:
                fee = q * p * fm
                st["quote"] += q * p - fee
                st["base"] -= q
                st["fees"] += fee
                realized, closed = close_lots(k, -1, q, q * p - fee)
                coin = rules.quote_coin
                if closed > 0:
                    cycles.append(Cycle(k, t, closed, realized))
        else:
            fee = q * p * fm
            st["fees"] += fee
            st["cash"] -= fee + sign * q * p
            st["base"] += sign * q
            value = q * p + fee if sign > 0 else q * p - fee
            realized, closed = close_lots(k, sign, q, value)
            coin = rules.quote_coin
            if closed > 0:
                cycles.append(Cycle(k, t, closed, realized))
        st["grid"] += realized
        view[cid] = LevelOrder(cid, lvl, o.side, p, q, q, False, base_fee)
        fills.append(BacktestFill(t, cid, o.side, lvl, p, q, fee, coin, o.purpose, realized))

    ticks = 0
    price = p0
    count = 0
    last_close = p0
    for c in _chain(first, it):
        count += 1
        path = candle_path(c)
        for target in path if count > 1 else path[1:]:
            hit = book.crossed(price, target)
            price = target
            if not hit:
                continue
            for cid in hit:
                fill(cid, c.time)
            ticks += 1
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
                planned[o.client_order_id] = o
                view[o.client_order_id] = LevelOrder(o.client_order_id, o.level, o.side, o.price, o.qty, ZERO, True)
                book.add(o)
        last_close = c.close

    unreal = ZERO
    for lot in [x for dq in lots for x in dq] + spare:
        unreal += (lot.qty * last_close - lot.value) if lot.sign > 0 else (lot.value - lot.qty * last_close)
    if spot:
        equity = st["quote"] + st["base"] * last_close
        quote_bal = st["quote"]
    else:
        quote_bal = config.investment + st["cash"]
        equity = quote_bal + st["base"] * last_close
    open_orders = [planned[cid] for cid, v in view.items() if v.is_open]
    return BacktestResult(
        sizing=sizing,
        start_price=p0,
        end_price=last_close,
        candles=count,
        fills=fills,
        cycles=cycles,
        grid_profit=st["grid"],
        inventory_pnl=st["inv"],
        unrealized_pnl=unreal,
        fees_paid=st["fees"],
        quote_balance=quote_bal,
        base_balance=st["base"],
        equity=equity,
        ticks=ticks,
        open_orders=open_orders,
        sizing_investment=config.investment,
    )


def _chain(first: Candle, rest):
    yield first
    yield from rest
