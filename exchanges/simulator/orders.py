"""Order entry of the simulated exchange: validation with Bybit's codes, locks/margin, amend, cancel."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from .common import LINK_RE, MAX_OPEN_ORDERS, dec
from .instruments import CATEGORIES, instrument
from .models import ZERO, BybitError, Order

if TYPE_CHECKING:
    from .instruments import Instrument
    from .models import Account, Execution, Position


class OrdersMixin:
    """Mixed into engine.Exchange (shares its state)."""

    if TYPE_CHECKING:  # state and helpers of engine.Exchange, the class that combines the mixins
        clock: Callable[[], int]
        accounts: dict[int, Account]
        by_link: dict[tuple[int, str, str], Order]
        open_orders: dict[int, dict[str, Order]]
        wallet_touched: set[int]
        _dirty_accounts: set[int]

        def _next(self, name: str) -> int: ...
        def account(self, uid: int) -> Account: ...
        def instrument(self, category: str, symbol: str | None) -> Instrument: ...
        def price(self, category: str, symbol: str) -> Decimal: ...
        def position(self, uid: int, symbol: str) -> Position: ...
        def available(self, uid: int, coin: str) -> Decimal: ...
        def _index_order(self, o: Order) -> None: ...
        def _book_add(self, o: Order) -> None: ...
        def _book_remove(self, o: Order) -> None: ...
        def _touch(self, o: Order) -> None: ...
        def _lock(self, acc: Account, coin: str, amount: Decimal) -> None: ...
        def find_order(self, uid: int, category: str, order_id: str | None, link: str | None) -> Order: ...
        def _fill(
            self, o: Order, qty: Decimal, price: Decimal, *, maker: bool, exec_type: str = "Trade"
        ) -> Execution: ...

    # ------------------------------------------------------------------ orders
    def place_order(self, uid: int, category: str, p: dict) -> Order:
        acc = self.account(uid)
        inst = self.instrument(category, p.get("symbol"))
        spot = category == "spot"
        side = p.get("side")
        if side not in ("Buy", "Sell"):
            raise BybitError(10001, "params error: side invalid")
        otype = p.get("orderType")
        if otype not in ("Limit", "Market"):
            raise BybitError(10001, "params error: orderType invalid")
        if p.get("qty") in (None, ""):
            raise BybitError(10001, "params error: qty is required")
        qty = dec(p["qty"], "qty", 170130 if spot else 10001)
        if qty <= 0:
            raise BybitError(170130 if spot else 10001, "params error: qty invalid")
        tif = p.get("timeInForce") or "GTC"
        if tif not in ("GTC", "IOC", "FOK", "PostOnly"):
            raise BybitError(10001, "params error: timeInForce invalid")
        last = self.price(category, inst.symbol)
        price = ZERO
        if otype == "Limit":
            if p.get("price") in (None, ""):
                raise BybitError(10001, "params error: price is required for a limit order")
            price = dec(p["price"], "price", 170130 if spot else 10001)
            if price <= 0:
                raise BybitError(10001, "params error: price invalid")
            if not inst.on_tick(price):
                raise BybitError(
                    170134 if spot else 10001,
                    "Order price decimal too long." if spot else "params error: price is not a multiple of tickSize",
                )
        else:
            tif = "IOC"
        link = p.get("orderLinkId") or ""
        if link and not LINK_RE.match(str(link)):
            raise BybitError(10001, "params error: orderLinkId invalid")
        if link and (uid, category, link) in self.by_link:
            raise BybitError(
                170141 if spot else 110072, "Duplicate clientOrderId." if spot else "OrderLinkedID is duplicate"
            )
        market_unit = ""
        if spot and otype == "Market":
            market_unit = p.get("marketUnit") or ("quoteCoin" if side == "Buy" else "baseCoin")
            if market_unit not in ("baseCoin", "quoteCoin"):
                raise BybitError(10001, "params error: marketUnit invalid")
        reduce_only = str(p.get("reduceOnly", "")).lower() in ("true", "1")
        # quantity rules (spot market buy by quote value is checked on its base equivalent)
        if market_unit == "quoteCoin":
            base_qty = (qty / last).quantize(inst.qty_step, rounding=ROUND_DOWN)
            if qty < inst.min_value:
                raise BybitError(170140, "Order value exceeded lower limit.")
        else:
            base_qty = qty
            if not inst.on_step(qty):
                raise BybitError(
                    170137 if spot else 10001,
                    "Order quantity has too many decimals."
                    if spot
                    else "params error: qty is not a multiple of qtyStep",
                )
        if base_qty < inst.min_qty:
            raise BybitError(
                170136 if spot else 10001,
                "Order quantity below the lower limit." if spot else "The number of contracts is below the minimum.",
            )
        if base_qty > inst.max_qty:
            raise BybitError(170135 if spot else 10001, "Order quantity exceeded upper limit.")
        ref_price = price if otype == "Limit" else last
        if market_unit != "quoteCoin" and base_qty * ref_price < inst.min_value:
            raise BybitError(
                170140 if spot else 110094,
                "Order value exceeded lower limit." if spot else "Order does not meet minimum order value 5USDT",
            )
        n_open = sum(
            1 for o in self.open_orders[uid].values() if o.category == category and (spot or o.symbol == inst.symbol)
        )
        if n_open >= MAX_OPEN_ORDERS:
            raise BybitError(
                170810 if spot else 110020,
                "Cannot exceed maximum of 500 active orders."
                if spot
                else "Not allowed to have more than 500 active orders.",
            )
        crosses = otype == "Market" or (side == "Buy" and price > last) or (side == "Sell" and price < last)
        # funds
        lock_coin, lock_amount, order_im = "", ZERO, ZERO
        if spot:
            if side == "Buy":
                need = qty if market_unit == "quoteCoin" else base_qty * ref_price
                coin = inst.quote_coin
            else:
                need, coin = base_qty, inst.base_coin
            if self.available(uid, coin) < need:
                raise BybitError(170131, "Insufficient balance.")
            if otype == "Limit":
                lock_coin, lock_amount = coin, need
        else:
            pos = self.position(uid, inst.symbol)
            opening = base_qty
            if pos.size and (pos.size > 0) != (side == "Buy"):
                opening = max(ZERO, base_qty - abs(pos.size))
            if reduce_only:
                if opening == base_qty:
                    raise BybitError(110017, "Reduce-only order has same side with current position.")
                opening = ZERO
            order_im = opening * ref_price / pos.leverage
            fee_est = base_qty * ref_price * acc.linear_taker if crosses else ZERO
            if order_im + fee_est > self.available(uid, "USDT"):
                raise BybitError(110007, "ab not enough for new order")
        now = self.clock()
        seq = self._next("seq")
        o = Order(
            order_id=str(self._next("order")),
            order_link_id=link,
            uid=uid,
            category=category,
            symbol=inst.symbol,
            side=side,
            order_type=otype,
            price=price,
            qty=qty,
            time_in_force=tif,
            status="New",
            seq=seq,
            created_ms=now,
            updated_ms=now,
            market_unit=market_unit,
            reduce_only=reduce_only,
            fee_coin=(inst.base_coin if side == "Buy" else inst.quote_coin) if spot else inst.quote_coin,
            lock_coin=lock_coin,
            lock_amount=lock_amount,
            order_im=order_im,
            last_price_on_created=last,
        )
        if lock_amount:
            self._lock(acc, lock_coin, lock_amount)
        self._index_order(o)
        self._touch(o)
        self.wallet_touched.add(uid)
        self._after_place(o, base_qty)
        return o

    def _after_place(self, o: Order, base_qty: Decimal) -> None:
        last = self.price(o.category, o.symbol)
        crosses = (
            o.order_type == "Market" or (o.side == "Buy" and o.price > last) or (o.side == "Sell" and o.price < last)
        )
        if crosses and o.time_in_force == "PostOnly":
            o.reject_reason = "EC_PostOnlyWillTakeLiquidity"
            self._close(o, "Cancelled", "UNKNOWN")
        elif crosses:
            self._fill(o, base_qty - o.cum_qty, last, maker=False)
        elif o.time_in_force in ("IOC", "FOK"):
            o.reject_reason = "EC_NoImmediateQtyToFill" if o.time_in_force == "IOC" else "EC_NoEnoughQtyToFill"
            self._close(o, "Cancelled", "UNKNOWN")
        else:
            self._book_add(o)

    def _close(self, o: Order, status: str, cancel_type: str) -> None:
        """Close an open order without (further) fills: release what it still holds."""
        if o.status in ("New", "PartiallyFilled"):
            self._book_remove(o)
        if o.category == "spot" and status == "Cancelled" and o.cum_qty > 0:
            status = "PartiallyFilledCanceled"
        o.status = status
        o.cancel_type = cancel_type
        acc = self.accounts[o.uid]
        if o.lock_amount:
            acc.locked[o.lock_coin] = acc.locked.get(o.lock_coin, ZERO) - o.lock_amount
            o.lock_amount = ZERO
            self._dirty_accounts.add(o.uid)
        o.order_im = ZERO
        self.open_orders[o.uid].pop(o.order_id, None)
        self._touch(o)
        self.wallet_touched.add(o.uid)

    def cancel_order(self, uid: int, category: str, p: dict) -> Order:
        self.instrument(category, p.get("symbol"))
        o = self.find_order(uid, category, p.get("orderId"), p.get("orderLinkId"))
        if o.symbol != p.get("symbol") or not o.is_open:
            raise BybitError(
                170213 if category == "spot" else 110001,
                "Order does not exist." if category == "spot" else "order not exists or too late to cancel",
            )
        self._close(o, "Cancelled", "CancelByUser")
        return o

    def cancel_all(self, uid: int, category: str, p: dict) -> list[Order]:
        if category not in CATEGORIES:
            raise BybitError(10001, "params error: category invalid")
        symbol, base, settle = p.get("symbol"), p.get("baseCoin"), p.get("settleCoin")
        if category == "linear" and not (symbol or base or settle):
            raise BybitError(10001, "params error: symbol, baseCoin or settleCoin is required")
        out = []
        for o in sorted(self.open_orders[uid].values(), key=lambda o: o.seq):
            if o.category != category:
                continue
            inst = instrument(category, o.symbol)
            assert inst is not None  # the order/position exists, so its instrument does
            if symbol and o.symbol != symbol or base and inst.base_coin != base or settle and inst.quote_coin != settle:
                continue
            self._close(o, "Cancelled", "CancelByUser")
            out.append(o)
        return out

    def amend_order(self, uid: int, category: str, p: dict) -> Order:
        inst = self.instrument(category, p.get("symbol"))
        spot = category == "spot"
        o = self.find_order(uid, category, p.get("orderId"), p.get("orderLinkId"))
        if o.symbol != inst.symbol or not o.is_open or o.order_type != "Limit":
            raise BybitError(
                170213 if spot else 110001, "Order does not exist." if spot else "order not exists or too late to amend"
            )
        new_qty = dec(p["qty"], "qty") if p.get("qty") not in (None, "") else o.qty
        new_price = dec(p["price"], "price") if p.get("price") not in (None, "") else o.price
        if new_qty == o.qty and new_price == o.price:
            raise BybitError(10001 if spot else 110025, "The order remains unchanged.")
        if not inst.on_tick(new_price):
            raise BybitError(170134 if spot else 10001, "Order price decimal too long.")
        if not inst.on_step(new_qty):
            raise BybitError(170137 if spot else 10001, "Order quantity has too many decimals.")
        if new_qty <= o.cum_qty:
            raise BybitError(10001, "params error: qty must exceed the executed quantity")
        if new_qty < inst.min_qty or new_qty * new_price < inst.min_value:
            raise BybitError(170140 if spot else 110094, "Order value exceeded lower limit.")
        acc = self.accounts[uid]
        leaves = new_qty - o.cum_qty
        if spot:
            need = leaves * new_price if o.side == "Buy" else leaves
            if self.available(uid, o.lock_coin) + o.lock_amount < need:
                raise BybitError(170131, "Insufficient balance.")
            acc.locked[o.lock_coin] = acc.locked.get(o.lock_coin, ZERO) - o.lock_amount + need
            o.lock_amount = need
            self._dirty_accounts.add(uid)
        else:
            pos = self.position(uid, o.symbol)
            opening = leaves
            if pos.size and (pos.size > 0) != (o.side == "Buy"):
                opening = max(ZERO, leaves - abs(pos.size))
            im = opening * new_price / pos.leverage
            if self.available(uid, "USDT") + o.order_im < im:
                raise BybitError(110007, "ab not enough for new order")
            o.order_im = im
        self._book_remove(o)
        o.qty, o.price = new_qty, new_price
        self._touch(o)
        self.wallet_touched.add(uid)
        self._after_place(o, new_qty)
        return o
