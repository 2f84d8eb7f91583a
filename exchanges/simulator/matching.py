"""Fills: balances, fees, linear positions, the price path that crosses resting orders, liquidations."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from . import feed
from .common import AVG_QUANT, dec
from .instruments import CATEGORIES, INSTRUMENTS, instrument
from .models import ZERO, BybitError, Execution, Order, Position

if TYPE_CHECKING:
    from .engine import Market
    from .instruments import Instrument
    from .models import Account


class MatchingMixin:
    """Mixed into engine.Exchange (shares its state)."""

    if TYPE_CHECKING:  # state and helpers of engine.Exchange, the class that combines the mixins
        clock: Callable[[], int]
        accounts: dict[int, Account]
        open_orders: dict[int, dict[str, Order]]
        executions: dict[int, list[Execution]]
        positions: dict[tuple[int, str], Position]
        open_positions: dict[str, set[int]]
        buys: dict[tuple[str, str], list[Order]]
        sells: dict[tuple[str, str], list[Order]]
        markets: dict[tuple[str, str], Market]
        _dirty_accounts: set[int]
        _dirty_kv: bool
        _new_execs: list[Execution]
        _dirty_positions: set[tuple[int, str]]
        private_events: dict[int, dict[str, list]]
        wallet_touched: set[int]
        position_touched: set[tuple[int, str]]
        public_ticks: list[tuple[str, str, Decimal, Decimal, str]]

        def _next(self, name: str) -> int: ...
        def instrument(self, category: str, symbol: str | None) -> Instrument: ...
        def price(self, category: str, symbol: str) -> Decimal: ...
        def position(self, uid: int, symbol: str) -> Position: ...
        def position_im(self, pos: Position) -> Decimal: ...
        def liq_price(self, pos: Position) -> Decimal: ...
        def available(self, uid: int, coin: str) -> Decimal: ...
        def _index_order(self, o: Order) -> None: ...
        def _book_remove(self, o: Order) -> None: ...
        def _touch(self, o: Order) -> None: ...
        def _close(self, o: Order, status: str, cancel_type: str) -> None: ...

    # ------------------------------------------------------------------ fills
    def _fill(self, o: Order, qty: Decimal, price: Decimal, *, maker: bool, exec_type: str = "Trade") -> Execution:
        acc = self.accounts[o.uid]
        inst = instrument(o.category, o.symbol)
        assert inst is not None  # the order/position exists, so its instrument does
        value = qty * price
        pnl = closed = ZERO
        leaves_before = (o.qty if o.market_unit != "quoteCoin" else qty + o.cum_qty) - o.cum_qty
        if o.category == "spot":
            rate = acc.spot_maker if maker else acc.spot_taker
            b, q = inst.base_coin, inst.quote_coin
            if o.side == "Buy":
                fee = qty * rate
                acc.balances[q] = acc.balances.get(q, ZERO) - value
                acc.balances[b] = acc.balances.get(b, ZERO) + qty - fee
                release = qty * o.price
            else:
                fee = value * rate
                acc.balances[b] = acc.balances.get(b, ZERO) - qty
                acc.balances[q] = acc.balances.get(q, ZERO) + value - fee
                release = qty
            if o.lock_amount:
                release = min(release, o.lock_amount)
                o.lock_amount -= release
                acc.locked[o.lock_coin] = acc.locked.get(o.lock_coin, ZERO) - release
        else:
            rate = ZERO if exec_type == "BustTrade" else (acc.linear_maker if maker else acc.linear_taker)
            fee = value * rate
            pos = self.position(o.uid, o.symbol)
            pnl, closed = self._apply_position(pos, o.side, qty, price)
            acc.balances["USDT"] = acc.balances.get("USDT", ZERO) + pnl - fee
            if o.order_im and leaves_before:
                release = o.order_im * qty / leaves_before if qty < leaves_before else o.order_im
                o.order_im -= release
            o.closed_pnl += pnl
        self._dirty_accounts.add(o.uid)
        o.cum_qty += qty
        o.cum_value += value
        o.cum_fee += fee
        done = o.market_unit == "quoteCoin" or o.cum_qty >= o.qty
        if done:
            if o.is_open:
                self._book_remove(o)
            o.status = "Filled"
            if o.lock_amount:  # a taker buy filled below its limit: unlock the difference
                acc.locked[o.lock_coin] = acc.locked.get(o.lock_coin, ZERO) - o.lock_amount
                o.lock_amount = ZERO
            o.order_im = ZERO
            self.open_orders[o.uid].pop(o.order_id, None)
        else:
            o.status = "PartiallyFilled"
        self._touch(o)
        e = Execution(
            exec_id=str(uuid.uuid4()),
            uid=o.uid,
            seq=self._next("exec"),
            category=o.category,
            symbol=o.symbol,
            order_id=o.order_id,
            order_link_id=o.order_link_id,
            side=o.side,
            order_type=o.order_type,
            order_price=o.price,
            order_qty=o.qty,
            leaves_qty=o.leaves_qty,
            exec_price=price,
            exec_qty=qty,
            exec_value=value,
            exec_fee=fee,
            fee_rate=rate,
            fee_currency=o.fee_coin,
            is_maker=maker,
            exec_time=self.clock(),
            exec_type=exec_type,
            exec_pnl=pnl,
            closed_size=closed,
            mark_price=self.price(o.category, o.symbol),
        )
        self.executions[o.uid].append(e)
        self._new_execs.append(e)
        self.private_events[o.uid]["execution"].append(e)
        self.wallet_touched.add(o.uid)
        if o.category == "linear":
            self.position_touched.add((o.uid, o.symbol))
        return e

    def _apply_position(self, pos: Position, side: str, qty: Decimal, price: Decimal) -> tuple[Decimal, Decimal]:
        """Update a one-way position with a fill; return (realised pnl, closed size)."""
        delta = qty if side == "Buy" else -qty
        pnl = closed = ZERO
        if pos.size == 0 or (pos.size > 0) == (delta > 0):
            new = pos.size + delta
            pos.avg_price = ((abs(pos.size) * pos.avg_price + qty * price) / abs(new)).quantize(
                AVG_QUANT, ROUND_HALF_EVEN
            )
            pos.size = new
        else:
            closed = min(qty, abs(pos.size))
            sign = 1 if pos.size > 0 else -1
            pnl = closed * (price - pos.avg_price) * sign
            pos.size += delta
            if pos.size == 0:
                pos.avg_price = ZERO
            elif qty > closed:
                pos.avg_price = price
        if pos.size:
            self.open_positions[pos.symbol].add(pos.uid)
        else:
            self.open_positions[pos.symbol].discard(pos.uid)
        pos.cum_realised += pnl
        pos.cur_realised += pnl
        pos.updated_ms = self.clock()
        pos.seq = self._next("seq")
        self._dirty_positions.add((pos.uid, pos.symbol))
        return pnl, closed

    def set_leverage(self, uid: int, p: dict) -> None:
        if p.get("category") != "linear":
            raise BybitError(10001, "params error: category only support linear or inverse")
        inst = self.instrument("linear", p.get("symbol"))
        lev = dec(p.get("buyLeverage"), "buyLeverage")
        if str(p.get("sellLeverage")) != str(p.get("buyLeverage")):
            raise BybitError(10001, "params error: buyLeverage must equal sellLeverage in one-way mode")
        if lev < 1 or lev > inst.max_leverage:
            raise BybitError(10001, f"leverage invalid: must be between 1 and {inst.max_leverage}")
        pos = self.position(uid, inst.symbol)
        if lev == pos.leverage:
            raise BybitError(110043, "Set leverage not modified")
        if pos.size:
            extra = abs(pos.size) * pos.avg_price / lev - self.position_im(pos)
            if extra > 0 and extra > self.available(uid, "USDT"):
                raise BybitError(110012, "Insufficient available balance.")
        pos.leverage = lev
        pos.updated_ms = self.clock()
        self._dirty_positions.add((uid, inst.symbol))
        self.position_touched.add((uid, inst.symbol))

    # ------------------------------------------------------------------ price path
    def step(self, category: str, symbol: str, price: Decimal, volume: Decimal | None = None) -> None:
        """Move one market to `price`; resting orders crossed by it fill (maker) up to `volume` per side."""
        inst = instrument(category, symbol)
        assert inst is not None  # the order/position exists, so its instrument does
        price = feed.round_to_tick(price, inst.tick_size)
        m = self.markets[(category, symbol)]
        prev = m.last
        m.last = price
        m.high24 = max(m.high24, price)
        m.low24 = min(m.low24, price)
        if volume:
            m.volume24 += volume
            m.turnover24 += volume * price
        self._dirty_kv = True
        self.public_ticks.append((category, symbol, price, volume or ZERO, "Buy" if price >= prev else "Sell"))
        key = (category, symbol)
        for book, crossed in (
            (self.buys[key], lambda o: o.price >= price),
            (self.sells[key], lambda o: o.price <= price),
        ):
            left = None if volume is None else volume
            while book:
                o = book[0]
                if not crossed(o):
                    break
                qty = o.leaves_qty
                if left is not None:
                    qty = min(qty, (left / inst.qty_step).to_integral_value(rounding=ROUND_DOWN) * inst.qty_step)
                    if qty <= 0:
                        break
                    left -= qty
                self._fill(o, qty, o.price, maker=True)
                if o.is_open:  # partially filled: no more volume at this step
                    break
        if category == "linear":
            self._liquidations(symbol, price)

    def _liquidations(self, symbol: str, price: Decimal) -> None:
        for uid in sorted(self.open_positions[symbol]):
            pos = self.positions[(uid, symbol)]
            liq = self.liq_price(pos)
            if (pos.size > 0 and price <= liq) or (pos.size < 0 and price >= liq):
                self.liquidate(pos, liq)

    def liquidate(self, pos: Position, liq: Decimal) -> Execution:
        for o in [o for o in self.open_orders[pos.uid].values() if o.category == "linear" and o.symbol == pos.symbol]:
            self._close(o, "Cancelled", "CancelAllBeforeLiq")
        side = "Sell" if pos.size > 0 else "Buy"
        qty = abs(pos.size)
        now = self.clock()
        o = Order(
            order_id=str(self._next("order")),
            order_link_id="",
            uid=pos.uid,
            category="linear",
            symbol=pos.symbol,
            side=side,
            order_type="Limit",
            price=liq,
            qty=qty,
            time_in_force="IOC",
            status="New",
            seq=self._next("seq"),
            created_ms=now,
            updated_ms=now,
            fee_coin="USDT",
            reduce_only=True,
            last_price_on_created=self.price("linear", pos.symbol),
        )
        self._index_order(o)
        pos.status = "Liq"
        e = self._fill(o, qty, liq, maker=False, exec_type="BustTrade")
        pos.status = "Normal"
        pos.liquidations += 1
        return e

    def set_price(self, symbol: str, price, *, volume=None, category: str | None = None) -> None:
        price = dec(price, "price")
        volume = dec(volume, "volume") if volume not in (None, "") else None
        cats = [category] if category else [c for c in CATEGORIES if (c, symbol) in INSTRUMENTS]
        if not cats or any((c, symbol) not in INSTRUMENTS for c in cats):
            raise BybitError(10001, f"unknown symbol {symbol}")
        for c in cats:
            self.step(c, symbol, price, volume)
