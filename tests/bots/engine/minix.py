"""A tiny in-memory exchange for planner tests: it fills, partially fills and loses orders,
and keeps the bot's balances, so tests can check what a user would see (never selling coins
the bot does not have, never placing an order id twice, one order per interval...).

The bot side keeps a typed GridState updated by events (placed, fill, vanish) as the live tick
does, and every tick checks it against the state rebuilt from the whole order list and against
its own snapshot round trip: the three must plan the same."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bots.engine import GridState, LevelOrder, PlannedOrder, launch_plan, plan_tick, size_grid
from exchanges.client import FeeRates, InstrumentRules, Side

ZERO = Decimal(0)


@dataclass
class Row:
    planned: PlannedOrder
    filled: Decimal = ZERO
    is_open: bool = True
    base_fee: Decimal = ZERO


class MiniExchange:
    def __init__(
        self,
        config,
        rules: InstrumentRules,
        fees: FeeRates,
        price: Decimal,
        *,
        bot_id=9,
        generation=2,
        actual_fee: Decimal | None = None,
        report_base_fee: bool = True,
        state_fees: FeeRates | None | str = "same",
    ):
        self.config, self.rules, self.fees = config, rules, fees
        self.bot_id, self.generation = bot_id, generation
        self.actual_fee = fees.maker if actual_fee is None else actual_fee
        self.report_base_fee = report_base_fee
        self.sizing = size_grid(config, rules, price=price, fees=fees)
        self.levels = self.sizing.levels
        self.price = price
        plan = launch_plan(config, rules, price=price, sizing=self.sizing, bot_id=bot_id, generation=generation)
        self.rows: dict[str, Row] = {}
        self.placed_ids: list[str] = []
        self.state_fees = fees if state_fees == "same" else state_fees
        self.state = GridState.new(
            bot_id=bot_id, generation=generation, spot=config.is_spot, levels=self.levels, fees=self.state_fees
        )
        self.base = ZERO
        self.quote = config.investment
        self.spot = config.is_spot
        if plan.initial is not None:
            q = plan.initial.qty
            sign = 1 if plan.initial.side is Side.BUY else -1
            self.base += sign * q * (1 - fees.taker) if self.spot else sign * q
            self.quote -= sign * q * price
            self.placed_ids.append(plan.initial.client_order_id)
        for o in plan.ladder:
            self.add(o)

    # ---------------------------------------------------------------- exchange side
    def add(self, o: PlannedOrder) -> None:
        assert o.client_order_id not in self.rows and o.client_order_id not in self.placed_ids, o.client_order_id
        assert len(o.client_order_id) <= 36
        self.placed_ids.append(o.client_order_id)
        self.rows[o.client_order_id] = Row(o)
        self.state.placed(o)  # the live tick: written PENDING and folded in one transaction

    def open_rows(self) -> list[Row]:
        return [r for r in self.rows.values() if r.is_open]

    def fill(self, cid: str, qty: Decimal) -> None:
        r = self.rows[cid]
        assert r.is_open
        qty = min(qty, r.planned.qty - r.filled)
        if qty <= 0:
            return
        r.filled += qty
        p = r.planned.price
        if not self.spot:  # linear: fees in quote, `base` is the signed position
            sign = 1 if r.planned.side is Side.BUY else -1
            self.base += sign * qty
            self.quote -= sign * qty * p + qty * p * self.actual_fee
        elif r.planned.side is Side.BUY:
            fee = qty * self.actual_fee
            r.base_fee += fee
            self.base += qty - fee
            self.quote -= qty * p
        else:
            self.base -= qty
            self.quote += qty * p * (1 - self.actual_fee)
        if r.filled == r.planned.qty:
            r.is_open = False
        self._observe(cid)

    def _observe(self, cid: str) -> None:
        r = self.rows[cid]
        self.state.observe(
            cid,
            filled=r.filled,
            is_open=r.is_open,
            base_fee=r.base_fee if self.report_base_fee and self.spot and r.planned.side is Side.BUY else None,
            settled=not r.is_open,
        )

    def move_to(self, price: Decimal) -> list[str]:
        """Fill completely every resting order the price reaches."""
        hit = [
            cid
            for cid, r in self.rows.items()
            if r.is_open
            and (
                (r.planned.side is Side.BUY and r.planned.price >= price)
                or (r.planned.side is Side.SELL and r.planned.price <= price)
            )
        ]
        for cid in hit:
            self.fill(cid, self.rows[cid].planned.qty)
        self.price = price
        return hit

    def vanish(self, cid: str) -> None:
        self.rows[cid].is_open = False
        self.state.missing(cid)
        self._observe(cid)

    # ---------------------------------------------------------------- bot side
    def view(self) -> list[LevelOrder]:
        return [
            LevelOrder(
                cid,
                r.planned.level,
                r.planned.side,
                r.planned.price,
                r.planned.qty,
                r.filled,
                r.is_open,
                r.base_fee if self.report_base_fee else None,
            )
            for cid, r in self.rows.items()
        ]

    def plan(self):
        plan = plan_tick(self.config, self.rules, state=self.state, bot_id=self.bot_id, generation=self.generation)
        rebuilt = plan_tick(
            self.config,
            self.rules,
            levels=self.levels,
            orders=self.view(),
            bot_id=self.bot_id,
            generation=self.generation,
            fees=self.state_fees,
        )
        assert rebuilt == plan, "state from events plans differently from the state rebuilt from orders"
        again = GridState.from_orders(
            self.view(),
            bot_id=self.bot_id,
            generation=self.generation,
            spot=self.spot,
            levels=self.levels,
            fees=self.state_fees,
        )
        assert (again.intervals, again.next_seq, again.recent) == (
            self.state.intervals,
            self.state.next_seq,
            self.state.recent,
        ), "state from events != state rebuilt from the orders"
        snap = GridState.from_json(self.state.to_json())
        assert snap == self.state, "snapshot round trip lost something"
        return plan

    def tick(self):
        """Plan, place, and check that planning again plans nothing (idempotency)."""
        p = self.plan()
        assert self.plan() == p, "same state, different plan"  # deterministic
        for o in p.place:
            self.add(o)
        again = self.plan()
        assert again.place == [], f"not idempotent: {again.place}"
        return p
