"""The exchange core: accounts, keys, orders, matching against the price path, balances, positions.

Single-threaded by design: every call happens on the server's event-loop thread. Each public
method leaves its changes in the dirty sets; `commit()` writes them to SQLite in one transaction.
Errors are raised as BybitError(retCode, retMsg).
"""

from __future__ import annotations

import bisect
import secrets
from collections import defaultdict
from decimal import Decimal

from . import feed, wire
from .common import MMR, dec, now_ms
from .funding import FundingMixin
from .instruments import CATEGORIES, INSTRUMENTS, SYMBOLS, Instrument, instrument
from .matching import MatchingMixin
from .models import ZERO, Account, ApiKey, BybitError, Execution, Order, Position
from .orders import OrdersMixin
from .replay import ReplayMixin
from .store import Store


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


class Exchange(OrdersMixin, MatchingMixin, ReplayMixin, FundingMixin):
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
        self.funding_rates: dict[str, Decimal] = {}  # symbol -> the rate of the next settlement
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
        self.funding_rates = {sym: Decimal(r) for sym, r in kv.get("funding_rates", {}).items()}
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
            assert path is not None  # no shipped file: the fallback price (caught below)
            with open(path) as fh:
                fh.readline()
                price = Decimal(fh.readline().split(",")[1])
        except Exception:
            pass
        return feed.round_to_tick(price, self.instrument(category, symbol).tick_size)

    def commit(self) -> None:
        kv = {}
        if self._dirty_kv:
            kv = {
                "counters": self.counters,
                "markets": {f"{c}:{s}": m.to_json() for (c, s), m in self.markets.items()},
                "replays": self.replays,
                "funding_rates": {sym: str(r) for sym, r in self.funding_rates.items()},
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
        passphrase: str | None = None,
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
            passphrase=passphrase or secrets.token_urlsafe(12),
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
    def instrument(self, category: str, symbol: str | None) -> Instrument:
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
        tick = self.instrument("linear", pos.symbol).tick_size
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
