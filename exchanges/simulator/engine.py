"""The exchange core: accounts, keys, orders, matching against the price path, balances, positions.

Single-threaded by design: every call happens on the server's event-loop thread. Each public
method leaves its changes in the dirty sets; `commit()` writes them to SQLite in one transaction.
Errors are raised as BybitError(retCode, retMsg).
"""

from __future__ import annotations

import bisect
import re
import secrets
import time
import uuid
from collections import defaultdict
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from . import feed, wire
from .instruments import CATEGORIES, INSTRUMENTS, SYMBOLS, Instrument, instrument
from .models import ZERO, Account, ApiKey, BybitError, Execution, Order, Position
from .store import Store

MMR = Decimal("0.005")  # maintenance margin rate of linear positions
MAX_OPEN_ORDERS = 500
AVG_QUANT = Decimal("0.0000000001")
LINK_RE = re.compile(r"^[A-Za-z0-9_\-]{1,36}$")


def now_ms() -> int:
    return int(time.time() * 1000)


def dec(value, name: str, code: int = 10001) -> Decimal:
    try:
        d = Decimal(str(value))
    except Exception:
        raise BybitError(code, f"params error: {name} invalid") from None
    if not d.is_finite():
        raise BybitError(code, f"params error: {name} invalid")
    return d


class Market:
    def __init__(self, price: Decimal):
        self.last = price
        self.prev24 = price
        self.high24 = price
        self.low24 = price
        self.volume24 = ZERO
        self.turnover24 = ZERO
        self.trade_seq = 0

    def to_json(self) -> dict:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in vars(self).items()}

    @classmethod
    def from_json(cls, data: dict) -> Market:
        m = cls(Decimal(data["last"]))
        for k, v in data.items():
            setattr(m, k, v if k == "trade_seq" else Decimal(v))
        return m


class Exchange:
    def __init__(self, store: Store, *, clock=now_ms):
        self.store = store
        self.clock = clock
        self.accounts: dict[int, Account] = {}
        self.keys: dict[str, ApiKey] = {}
        self.orders: dict[str, Order] = {}
        self.by_link: dict[tuple[int, str, str], Order] = {}
        self.user_orders: dict[int, list[Order]] = defaultdict(list)
        self.open_orders: dict[int, dict[str, Order]] = defaultdict(dict)
        self.executions: dict[int, list[Execution]] = defaultdict(list)
        self.positions: dict[tuple[int, str], Position] = {}
        self.open_positions: dict[str, set[int]] = defaultdict(set)  # symbol -> uids with a non-zero position
        self.buys: dict[tuple[str, str], list[Order]] = defaultdict(list)  # price desc, seq asc
        self.sells: dict[tuple[str, str], list[Order]] = defaultdict(list)  # price asc, seq asc
        self.markets: dict[tuple[str, str], Market] = {}
        self.replays: dict[str, dict] = {}
        self.counters = {"uid": 100000, "order": 1900000000000000000, "exec": 0, "key": 0, "seq": 0}
        # change tracking
        self._dirty_accounts: set[int] = set()
        self._dirty_keys: set[str] = set()
        self._dirty_orders: dict[str, Order] = {}
        self._new_execs: list[Execution] = []
        self._dirty_positions: set[tuple[int, str]] = set()
        self._dirty_kv = False
        # events for the WebSocket layer
        self.private_events: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        self.wallet_touched: set[int] = set()
        self.position_touched: set[tuple[int, str]] = set()
        self.public_ticks: list[tuple[str, str, Decimal, Decimal, str]] = []
        self.stats_cache: dict = {}  # 24h ticker statistics of the replay window, keyed by (csv, cursor)
        self.ws_uids: set[int] = set()  # uids with an authenticated private WebSocket (kept by the hub)
        self._load()

    # ------------------------------------------------------------------ persistence
    def _load(self) -> None:
        kv, accounts, keys, orders, execs, positions = self.store.load()
        self.accounts = accounts
        self.keys = keys
        if "counters" in kv:
            self.counters.update(kv["counters"])
        for name, data in kv.get("markets", {}).items():
            cat, sym = name.split(":", 1)
            self.markets[(cat, sym)] = Market.from_json(data)
        self.replays = kv.get("replays", {})
        for o in sorted(orders, key=lambda o: o.seq):
            self._index_order(o)
            if o.is_open:
                self._book_add(o)
        for e in execs:
            self.executions[e.uid].append(e)
        for p in positions:
            self.positions[(p.uid, p.symbol)] = p
            if p.size:
                self.open_positions[p.symbol].add(p.uid)
        for cat, sym in INSTRUMENTS:
            if (cat, sym) not in self.markets:
                self.markets[(cat, sym)] = Market(self._initial_price(cat, sym))
                self._dirty_kv = True
        self.commit()

    def _initial_price(self, category: str, symbol: str) -> Decimal:
        path = feed.default_csv(symbol)
        price = feed.FALLBACK_PRICES.get(symbol, Decimal("100"))
        try:
            with open(path) as fh:
                fh.readline()
                price = Decimal(fh.readline().split(",")[1])
        except Exception:
            pass
        return feed.round_to_tick(price, instrument(category, symbol).tick_size)

    def commit(self) -> None:
        kv = {}
        if self._dirty_kv:
            kv = {
                "counters": self.counters,
                "markets": {f"{c}:{s}": m.to_json() for (c, s), m in self.markets.items()},
                "replays": self.replays,
            }
        if not (
            kv
            or self._dirty_accounts
            or self._dirty_keys
            or self._dirty_orders
            or self._new_execs
            or self._dirty_positions
        ):
            return
        self.store.write(
            kv=kv,
            accounts=[self.accounts[u] for u in self._dirty_accounts],
            keys=[self.keys[k] for k in self._dirty_keys],
            orders=list(self._dirty_orders.values()),
            executions=self._new_execs,
            positions=[self.positions[k] for k in self._dirty_positions],
        )
        self._dirty_accounts.clear()
        self._dirty_keys.clear()
        self._dirty_orders.clear()
        self._new_execs = []
        self._dirty_positions.clear()
        self._dirty_kv = False

    def _next(self, name: str) -> int:
        self.counters[name] += 1
        self._dirty_kv = True
        return self.counters[name]

    # ------------------------------------------------------------------ accounts and keys
    def create_account(self, *, funding: dict | None = None, fees: dict | None = None) -> Account:
        uid = self._next("uid")
        acc = Account(uid=uid, created_ms=self.clock())
        for k, v in (fees or {}).items():
            setattr(acc, k, Decimal(str(v)))
        self.accounts[uid] = acc
        self._dirty_accounts.add(uid)
        for coin, amount in (funding or {}).items():
            self.fund(uid, coin, amount)
        return acc

    def account(self, uid: int) -> Account:
        acc = self.accounts.get(int(uid))
        if acc is None:
            raise BybitError(10001, f"unknown uid {uid}")
        return acc

    def create_key(
        self,
        uid: int,
        *,
        spot_trade=True,
        contract_trade=True,
        read_only=False,
        withdraw=False,
        ips=(),
        expires_ms: int | None = None,
        note: str = "",
    ) -> ApiKey:
        self.account(uid)
        key = ApiKey(
            api_key=secrets.token_hex(9).upper(),
            secret=secrets.token_hex(18).upper(),
            uid=int(uid),
            key_id=self._next("key"),
            spot_trade=bool(spot_trade),
            contract_trade=bool(contract_trade),
            read_only=bool(read_only),
            withdraw=bool(withdraw),
            ips=list(ips),
            expires_ms=expires_ms,
            created_ms=self.clock(),
            note=note,
        )
        self.keys[key.api_key] = key
        self._dirty_keys.add(key.api_key)
        return key

    def fund(self, uid: int, coin: str, amount) -> None:
        acc = self.account(uid)
        amount = dec(amount, "amount")
        acc.balances[coin] = acc.balances.get(coin, ZERO) + amount
        acc.funding[coin] = acc.funding.get(coin, ZERO) + amount
        self._dirty_accounts.add(acc.uid)
        self.wallet_touched.add(acc.uid)

    # ------------------------------------------------------------------ helpers
    def instrument(self, category: str, symbol: str) -> Instrument:
        if category not in CATEGORIES:
            raise BybitError(10001, "params error: category invalid")
        inst = instrument(category, symbol or "")
        if inst is None:
            raise BybitError(
                170121 if category == "spot" else 10001,
                "Invalid symbol." if category == "spot" else "params error: symbol invalid",
            )
        return inst

    def price(self, category: str, symbol: str) -> Decimal:
        return self.markets[(category, symbol)].last

    def position(self, uid: int, symbol: str) -> Position:
        key = (uid, symbol)
        pos = self.positions.get(key)
        if pos is None:
            now = self.clock()
            pos = self.positions[key] = Position(uid=uid, symbol=symbol, created_ms=now, updated_ms=now)
        return pos

    def order_im_total(self, uid: int) -> Decimal:
        return sum((o.order_im for o in self.open_orders[uid].values() if o.category == "linear"), ZERO)

    def position_im(self, pos: Position) -> Decimal:
        return abs(pos.size) * pos.avg_price / pos.leverage if pos.size else ZERO

    def unrealised(self, pos: Position) -> Decimal:
        if not pos.size:
            return ZERO
        return pos.size * (self.price("linear", pos.symbol) - pos.avg_price)

    def liq_price(self, pos: Position) -> Decimal:
        if not pos.size:
            return ZERO
        tick = instrument("linear", pos.symbol).tick_size
        if pos.size > 0:
            raw = pos.avg_price * (1 - 1 / pos.leverage) / (1 - MMR)
            return (raw / tick).to_integral_value(rounding="ROUND_CEILING") * tick
        raw = pos.avg_price * (1 + 1 / pos.leverage) / (1 + MMR)
        return (raw / tick).to_integral_value(rounding="ROUND_FLOOR") * tick

    def available(self, uid: int, coin: str) -> Decimal:
        acc = self.accounts[uid]
        free = acc.balances.get(coin, ZERO) - acc.locked.get(coin, ZERO)
        if coin == "USDT":
            free -= self.order_im_total(uid)
            for sym in SYMBOLS:
                pos = self.positions.get((uid, sym))
                if pos is not None and pos.size:
                    free -= self.position_im(pos)
                    free += min(ZERO, self.unrealised(pos))
        return free

    def _index_order(self, o: Order) -> None:
        self.orders[o.order_id] = o
        if o.order_link_id:
            self.by_link[(o.uid, o.category, o.order_link_id)] = o
        self.user_orders[o.uid].append(o)
        if o.is_open:
            self.open_orders[o.uid][o.order_id] = o

    @staticmethod
    def _buy_key(o: Order):
        return (-o.price, o.seq)

    @staticmethod
    def _sell_key(o: Order):
        return (o.price, o.seq)

    def _book_add(self, o: Order) -> None:
        if o.side == "Buy":
            bisect.insort(self.buys[(o.category, o.symbol)], o, key=self._buy_key)
        else:
            bisect.insort(self.sells[(o.category, o.symbol)], o, key=self._sell_key)

    def _book_remove(self, o: Order) -> None:
        book = (self.buys if o.side == "Buy" else self.sells)[(o.category, o.symbol)]
        key = self._buy_key if o.side == "Buy" else self._sell_key
        i = bisect.bisect_left(book, key(o), key=key)
        if i < len(book) and book[i] is o:
            del book[i]
        elif o in book:
            book.remove(o)

    def _touch(self, o: Order) -> None:
        o.updated_ms = self.clock()
        self._dirty_orders[o.order_id] = o
        if o.uid in self.ws_uids:  # one `order` message item per state change, as Bybit pushes them
            self.private_events[o.uid]["order"].append(wire.order(o, with_category=True))

    def _lock(self, acc: Account, coin: str, amount: Decimal) -> None:
        acc.locked[coin] = acc.locked.get(coin, ZERO) + amount
        self._dirty_accounts.add(acc.uid)

    def find_order(self, uid: int, category: str, order_id: str | None, link: str | None) -> Order:
        o = None
        if order_id:
            o = self.orders.get(str(order_id))
            if o is not None and (o.uid != uid or o.category != category):
                o = None
        elif link:
            o = self.by_link.get((uid, category, link))
        if o is None:
            raise BybitError(
                170213 if category == "spot" else 110001,
                "Order does not exist." if category == "spot" else "order not exists or too late to cancel",
            )
        return o

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

    # ------------------------------------------------------------------ fills
    def _fill(self, o: Order, qty: Decimal, price: Decimal, *, maker: bool, exec_type: str = "Trade") -> Execution:
        acc = self.accounts[o.uid]
        inst = instrument(o.category, o.symbol)
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

    # ------------------------------------------------------------------ candle replay
    def replay_start(
        self,
        symbol: str,
        *,
        csv_path: str | None = None,
        speed: float = 0,
        start: int | None = None,
        categories=None,
        volume_in_quote: bool | None = None,
    ) -> dict:
        if symbol not in SYMBOLS:
            raise BybitError(10001, f"unknown symbol {symbol}")
        path = str(csv_path or feed.default_csv(symbol))
        try:
            candles = feed.load_candles(path)
        except OSError as exc:
            raise BybitError(10001, f"cannot read {path}: {exc}") from None
        if not candles:
            raise BybitError(10001, f"no candles in {path}")
        if volume_in_quote is None:
            volume_in_quote = "ftx_" in path
        state = {
            "csv": path,
            "index": feed.index_at(candles, start),
            "speed": float(speed),
            "running": True,
            "categories": list(categories or [c for c in CATEGORIES if (c, symbol) in INSTRUMENTS]),
            "volume_in_quote": bool(volume_in_quote),
            "candles_done": 0,
        }
        self.replays[symbol] = state
        self._dirty_kv = True
        return state

    def replay_stop(self, symbol: str) -> None:
        if symbol in self.replays:
            self.replays[symbol]["running"] = False
            self._dirty_kv = True

    def replay_candles(self, symbol: str, n: int = 1) -> int:
        """Process the next n candles of a symbol's replay (looping at the end of the data)."""
        state = self.replays.get(symbol)
        if state is None:
            state = self.replay_start(symbol)
        candles = feed.load_candles(state["csv"])
        for _ in range(int(n)):
            c = candles[state["index"] % len(candles)]
            for price, vol in c.path():
                if state["volume_in_quote"]:
                    vol = vol / price
                for cat in state["categories"]:
                    self.step(cat, symbol, price, vol)
            state["index"] = (state["index"] + 1) % len(candles)
            state["candles_done"] += 1
        self._dirty_kv = True
        return state["index"]
