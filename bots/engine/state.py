"""The typed grid state of one run (generation) of a bot: what the planner reads instead of the
order history. Pure: no Django, no I/O; Decimal.

The N+1 lines make N intervals; interval k owns the buy at line k and the sell at line k+1
(planner.py). Per interval the state keeps the running sums the planner needs (launch quantities,
what buys and sells filled, the base fee of the buys, what is committed on the book). Per order
still on the book (or not yet final) it keeps a `Watched` entry: side, price, qty, client id,
filled quantity and its base fee. Per (line, side) it keeps the next sequence number of the
client ids and the outcome of the last few orders (to stop re-placing a line the exchange keeps
refusing). Plus this run's inventory and cash from its own executions.

Events, each O(1), each idempotent (observations carry absolute values):
    placed(planned)                          an order written PENDING (before it is sent)
    observe(cid, filled=, open=, base_fee=, settled=)
                                             what the order row says now; `open` False for
                                             cancelled/rejected/missing/filled; `settled` True
                                             when nothing about it can change any more (terminal
                                             and every execution stored): it stops being watched
    filled / cancelled / rejected / missing  named shorthands of observe()
    late_fill(cid, level, side, qty, base_fee)
                                             an execution of an order no longer watched
    trade(side, qty, price, fee, fee_kind)   this run's inventory and cash (every purpose)

`to_json()` / `GridState.from_json()` give the one snapshot row the services persist (with a
version column and a conditional update); `GridState.from_orders(...)` rebuilds it from a list
of LevelOrder (a bot's history, for a first migration and for tests: the same state).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from exchanges.client import FeeRates, Side

from .ids import parse_client_order_id

ZERO = Decimal(0)
SCHEMA = 1
RECENT = 8  # outcomes kept per (line, side): enough for any max_replans the planner uses
DEFAULT_SPOT_FEE = Decimal("0.001")  # Bybit's standard spot rate when the fee rates are unknown


@dataclass(slots=True)
class Interval:
    """Running sums of one interval k (buy at line k, sell at line k+1)."""

    initial_buy: Decimal = ZERO  # qty of the launch buy at line k
    initial_sell: Decimal = ZERO  # qty of the launch sell at line k+1
    bought: Decimal = ZERO  # gross base filled by buys at line k
    buy_fee: Decimal = ZERO  # base fee of those buys (spot; exact or estimated per order)
    buy_committed: Decimal = ZERO  # open buys in full, closed ones by what they filled
    sold: Decimal = ZERO
    sell_committed: Decimal = ZERO
    sell_open: Decimal = ZERO  # unfilled qty of the open sells

    @property
    def bought_net(self) -> Decimal:
        return self.bought - self.buy_fee


@dataclass(slots=True)
class Watched:
    """One grid order the state still follows: the resting order of its interval, a pending
    counter order, or a closed one whose executions are not all stored yet."""

    client_order_id: str
    level: int
    side: Side
    price: Decimal
    qty: Decimal
    seq: int
    filled: Decimal = ZERO
    is_open: bool = True
    base_fee: Decimal | None = None  # exact cumulative base fee (spot buy), None = estimate


def _fee_rate(fees: FeeRates | None) -> Decimal:
    if fees is None:
        return DEFAULT_SPOT_FEE
    return max(fees.maker, fees.taker, ZERO)


@dataclass
class GridState:
    bot_id: int
    generation: int
    spot: bool
    levels: tuple[Decimal, ...]
    fee_rate: Decimal = DEFAULT_SPOT_FEE
    intervals: list[Interval] = field(default_factory=list)
    watched: dict[str, Watched] = field(default_factory=dict)
    next_seq: dict[tuple[int, Side], int] = field(default_factory=dict)
    # (line, side) -> [(seq, failed)] of the last RECENT orders, by seq
    recent: dict[tuple[int, Side], list[list]] = field(default_factory=dict)
    base: Decimal = ZERO  # this run's base (spot) / signed position (linear) from its executions
    cash: Decimal = ZERO  # this run's quote flow (received − paid − quote fees)
    trade_cursor: int = 0  # executions up to this id are folded in (services' cursor)
    stuck_reported: list[tuple[int, Side]] = field(default_factory=list)
    launch_price: Decimal | None = None
    qty_per_grid: Decimal | None = None

    @classmethod
    def new(
        cls,
        *,
        bot_id: int,
        generation: int,
        spot: bool,
        levels: Sequence[Decimal],
        fees: FeeRates | None = None,
        **extra,
    ) -> GridState:
        levels = tuple(levels)
        return cls(
            bot_id=bot_id,
            generation=generation,
            spot=spot,
            levels=levels,
            fee_rate=_fee_rate(fees),
            intervals=[Interval() for _ in range(len(levels) - 1)],
            **extra,
        )

    # --- reading -----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.intervals)

    def open_orders(self) -> list[Watched]:
        return [w for w in self.watched.values() if w.is_open]

    def failing(self, level: int, side: Side, max_replans: int) -> bool:
        """The last `max_replans` orders at (line, side) all closed without filling."""
        hist = self.recent.get((level, side), ())
        if max_replans <= 0 or len(hist) < max_replans:
            return False
        return all(failed for _, failed in hist[-max_replans:])

    # --- events ------------------------------------------------------------------------------
    def _interval(self, level: int, side: Side) -> Interval | None:
        k = level if side is Side.BUY else level - 1
        return self.intervals[k] if 0 <= k < len(self.intervals) else None

    def _contribute(self, w: Watched, sign: int) -> None:
        iv = self._interval(w.level, w.side)
        if iv is None:
            return
        committed = w.qty if w.is_open else w.filled
        if w.side is Side.BUY:
            iv.bought += sign * w.filled
            if self.spot:
                fee = w.base_fee if w.base_fee is not None else w.filled * self.fee_rate
                iv.buy_fee += sign * fee
            iv.buy_committed += sign * committed
            if w.seq == 0:
                iv.initial_buy += sign * w.qty
        else:
            iv.sold += sign * w.filled
            iv.sell_committed += sign * committed
            if w.is_open:
                iv.sell_open += sign * (w.qty - w.filled)
            if w.seq == 0:
                iv.initial_sell += sign * w.qty

    def _record_outcome(self, w: Watched) -> None:
        hist = self.recent.get((w.level, w.side))
        if not hist:
            return
        for entry in hist:
            if entry[0] == w.seq:
                entry[1] = (not w.is_open) and w.filled == 0
                return

    def placed(self, planned) -> bool:
        """A grid order written PENDING (engine PlannedOrder or any object with its fields).
        Returns False (and changes nothing) when the id is already known or not a grid order
        of this run."""
        cid = planned.client_order_id
        if cid in self.watched or planned.level is None:
            return False
        key = parse_client_order_id(cid)
        if key is None or key.purpose != "grid" or (key.bot_id, key.generation) != (self.bot_id, self.generation):
            return False
        side = Side(planned.side)
        slot = (planned.level, side)
        if key.seq < self.next_seq.get(slot, 0):
            return False  # an id at or below the counter was placed before: never twice
        w = Watched(cid, planned.level, side, planned.price, planned.qty, key.seq)
        with localcontext() as ctx:
            ctx.prec = 60
            self._contribute(w, +1)
        self.watched[cid] = w
        self.next_seq[slot] = key.seq + 1
        hist = self.recent.setdefault(slot, [])
        hist.append([key.seq, False])
        if len(hist) > RECENT:
            del hist[0]
        return True

    def observe(
        self,
        client_order_id: str,
        *,
        filled: Decimal,
        is_open: bool,
        base_fee: Decimal | None = None,
        settled: bool = False,
    ) -> bool:
        """Fold what the order row says now. Returns True when something changed."""
        w = self.watched.get(client_order_id)
        if w is None:
            return False
        filled = max(filled, w.filled)  # filled quantity never decreases
        changed = (filled, is_open, base_fee) != (w.filled, w.is_open, w.base_fee)
        if changed:
            with localcontext() as ctx:
                ctx.prec = 60
                self._contribute(w, -1)
                w.filled, w.is_open, w.base_fee = filled, is_open, base_fee
                self._contribute(w, +1)
            self._record_outcome(w)
        if settled and not w.is_open:
            del self.watched[client_order_id]
            return True
        return changed

    def filled(self, client_order_id: str, *, filled: Decimal, base_fee: Decimal | None = None) -> bool:
        w = self.watched.get(client_order_id)
        if w is None:
            return False
        done = filled >= w.qty
        return self.observe(client_order_id, filled=filled, is_open=not done, base_fee=base_fee)

    def cancelled(self, client_order_id: str) -> bool:
        w = self.watched.get(client_order_id)
        return w is not None and self.observe(client_order_id, filled=w.filled, is_open=False, base_fee=w.base_fee)

    rejected = cancelled
    missing = cancelled

    def late_fill(self, client_order_id: str, *, qty: Decimal, base_fee: Decimal | None) -> bool:
        """An execution of a closed order the state no longer watches (stored after the order
        was settled): it adds to what filled and, the order being closed, to what is committed."""
        if client_order_id in self.watched:
            return False
        key = parse_client_order_id(client_order_id)
        if key is None or key.purpose != "grid" or (key.bot_id, key.generation) != (self.bot_id, self.generation):
            return False
        assert key.level is not None and key.side is not None  # a grid order id carries both
        iv = self._interval(key.level, key.side)
        if iv is None:
            return False
        with localcontext() as ctx:
            ctx.prec = 60
            if key.side is Side.BUY:
                iv.bought += qty
                iv.buy_committed += qty
                if self.spot:
                    iv.buy_fee += base_fee if base_fee is not None else qty * self.fee_rate
            else:
                iv.sold += qty
                iv.sell_committed += qty
        return True

    def trade(self, *, side: Side, qty: Decimal, price: Decimal, fee: Decimal, fee_in: str) -> None:
        """One execution of this run (any purpose): inventory and cash. `fee_in`: "base" |
        "quote" | "other" (a third coin: neither)."""
        with localcontext() as ctx:
            ctx.prec = 60
            base_fee = fee if fee_in == "base" and self.spot else ZERO
            quote_fee = fee if fee_in == "quote" or (fee_in == "base" and not self.spot) else ZERO
            if Side(side) is Side.BUY:
                self.base += qty - base_fee
                self.cash -= qty * price + quote_fee
            else:
                self.base -= qty + base_fee
                self.cash += qty * price - quote_fee

    # --- rebuilding --------------------------------------------------------------------------
    @classmethod
    def from_orders(
        cls,
        orders: Iterable,
        *,
        bot_id: int,
        generation: int,
        spot: bool,
        levels: Sequence[Decimal],
        fees: FeeRates | None = None,
        settled: bool = True,
    ) -> GridState:
        """The state that the events of these orders (engine LevelOrder, any order) produce:
        each placed, then observed as it stands. Orders of other bots/runs and non-grid orders
        are ignored. `settled`: closed orders stop being watched (their executions are all in)."""
        state = cls.new(bot_id=bot_id, generation=generation, spot=spot, levels=levels, fees=fees)
        rows = []
        for o in orders:
            key = parse_client_order_id(o.client_order_id)
            if key is None or key.purpose != "grid" or (key.bot_id, key.generation) != (bot_id, generation):
                continue
            if o.level is None:
                continue
            rows.append((key.seq, o))
        rows.sort(key=lambda r: r[0])  # ids at one (line, side) were placed in seq order
        for _, o in rows:
            state.placed(o)
            state.observe(
                o.client_order_id,
                filled=o.filled_qty,
                is_open=o.is_open,
                base_fee=o.base_fee,
                settled=settled and not o.is_open and (not spot or o.side != Side.BUY or o.base_fee is not None),
            )
        return state

    # --- persistence -------------------------------------------------------------------------
    def to_json(self) -> dict:
        def d(x: Decimal | None) -> str | None:
            return None if x is None else str(x)

        return {
            "schema": SCHEMA,
            "bot_id": self.bot_id,
            "generation": self.generation,
            "spot": self.spot,
            "levels": [str(x) for x in self.levels],
            "fee_rate": str(self.fee_rate),
            "intervals": [
                [
                    str(iv.initial_buy),
                    str(iv.initial_sell),
                    str(iv.bought),
                    str(iv.buy_fee),
                    str(iv.buy_committed),
                    str(iv.sold),
                    str(iv.sell_committed),
                    str(iv.sell_open),
                ]
                for iv in self.intervals
            ],
            "watched": [
                [
                    w.client_order_id,
                    w.level,
                    w.side.value,
                    str(w.price),
                    str(w.qty),
                    w.seq,
                    str(w.filled),
                    w.is_open,
                    d(w.base_fee),
                ]
                for w in self.watched.values()
            ],  # fmt: skip
            "next_seq": [[lvl, side.value, seq] for (lvl, side), seq in sorted(self.next_seq.items())],
            "recent": [[lvl, side.value, hist] for (lvl, side), hist in sorted(self.recent.items())],
            "base": str(self.base),
            "cash": str(self.cash),
            "trade_cursor": self.trade_cursor,
            "stuck_reported": [[lvl, side.value] for lvl, side in self.stuck_reported],
            "launch_price": d(self.launch_price),
            "qty_per_grid": d(self.qty_per_grid),
        }

    @classmethod
    def from_json(cls, data: dict) -> GridState:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"grid state schema {data.get('schema')!r} is not {SCHEMA}")

        def d(x: str | None) -> Decimal | None:
            return None if x is None else Decimal(x)

        return cls(
            bot_id=int(data["bot_id"]),
            generation=int(data["generation"]),
            spot=bool(data["spot"]),
            levels=tuple(Decimal(x) for x in data["levels"]),
            fee_rate=Decimal(data["fee_rate"]),
            intervals=[Interval(*(Decimal(x) for x in row)) for row in data["intervals"]],
            watched={
                row[0]: Watched(
                    row[0],
                    int(row[1]),
                    Side(row[2]),
                    Decimal(row[3]),
                    Decimal(row[4]),
                    int(row[5]),
                    Decimal(row[6]),
                    bool(row[7]),
                    d(row[8]),
                )
                for row in data["watched"]
            },  # fmt: skip
            next_seq={(int(lvl), Side(side)): int(seq) for lvl, side, seq in data["next_seq"]},
            recent={(int(lvl), Side(side)): [[int(s), bool(f)] for s, f in hist] for lvl, side, hist in data["recent"]},
            base=Decimal(data["base"]),
            cash=Decimal(data["cash"]),
            trade_cursor=int(data["trade_cursor"]),
            stuck_reported=[(int(lvl), Side(side)) for lvl, side in data["stuck_reported"]],
            launch_price=d(data.get("launch_price")),
            qty_per_grid=d(data.get("qty_per_grid")),
        )
