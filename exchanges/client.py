"""The exchange port: the only surface through which Setka talks to any exchange.

A small Protocol and frozen dataclasses with Decimal everywhere. Adapters (exchanges/adapters/)
implement it; services receive an ExchangeClient and never import an adapter or a vendor SDK.
Errors are the classes in exchanges/errors.py. Pure Python: no Django imports here, because the
grid engine reuses InstrumentRules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from exchanges.errors import BudgetWait, ExchangeError, OrderNotFound, OrderRejected


class Category(StrEnum):
    SPOT = "spot"
    LINEAR = "linear"


class Side(StrEnum):
    BUY = "Buy"
    SELL = "Sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    LIMIT = "Limit"
    MARKET = "Market"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "PostOnly"


class ExchangeOrderStatus(StrEnum):
    """Normalised order states (Bybit's names)."""

    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    PARTIALLY_FILLED_CANCELLED = "PartiallyFilledCanceled"
    REJECTED = "Rejected"

    @property
    def is_open(self) -> bool:
        return self in (ExchangeOrderStatus.NEW, ExchangeOrderStatus.PARTIALLY_FILLED)


def _quantize_to(value: Decimal, increment: Decimal, rounding: str) -> Decimal:
    """Round `value` to a multiple of `increment` (e.g. tick 0.5 or step 0.001)."""
    units = (value / increment).to_integral_value(rounding=rounding)
    return (units * increment).quantize(increment) if int(increment.as_tuple().exponent) < 0 else units * increment


@dataclass(frozen=True)
class InstrumentRules:
    """Trading rules of one symbol. Prices must be multiples of tick_size, quantities multiples
    of qty_step, qty >= min_qty and qty*price >= min_notional."""

    symbol: str
    category: Category
    base_coin: str
    quote_coin: str
    tick_size: Decimal
    qty_step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    max_leverage: Decimal | None = None
    status: str = "Trading"

    def round_price(self, price: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
        return _quantize_to(price, self.tick_size, rounding)

    def price_down(self, price: Decimal) -> Decimal:
        return _quantize_to(price, self.tick_size, ROUND_FLOOR)

    def price_up(self, price: Decimal) -> Decimal:
        return _quantize_to(price, self.tick_size, ROUND_CEILING)

    def qty_down(self, qty: Decimal) -> Decimal:
        return _quantize_to(qty, self.qty_step, ROUND_DOWN)

    def qty_up(self, qty: Decimal) -> Decimal:
        return _quantize_to(qty, self.qty_step, ROUND_CEILING)


@dataclass(frozen=True)
class Ticker:
    symbol: str
    last_price: Decimal
    bid_price: Decimal | None
    ask_price: Decimal | None
    high_24h: Decimal | None = None
    low_24h: Decimal | None = None
    volume_24h: Decimal | None = None
    funding_rate: Decimal | None = None  # perpetuals, where the venue's ticker carries it


@dataclass(frozen=True)
class Kline:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True)
class Balance:
    coin: str
    total: Decimal
    locked: Decimal

    @property
    def free(self) -> Decimal:
        return self.total - self.locked


@dataclass(frozen=True)
class FeeRates:
    maker: Decimal
    taker: Decimal


@dataclass(frozen=True)
class PlaceOrder:
    """An order to place. client_order_id is mandatory: it is what makes retries idempotent."""

    category: Category
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    client_order_id: str
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False


@dataclass(frozen=True)
class ExchangeOrder:
    order_id: str
    client_order_id: str
    category: Category
    symbol: str
    side: Side
    order_type: OrderType
    price: Decimal | None
    qty: Decimal
    filled_qty: Decimal
    avg_price: Decimal | None
    status: ExchangeOrderStatus
    created_at: datetime
    updated_at: datetime
    reject_reason: str = ""


@dataclass(frozen=True)
class PlacedOrder:
    """The exchange's acknowledgement of a new order (state follows via queries/streams)."""

    order_id: str
    client_order_id: str


@dataclass(frozen=True)
class BatchItemResult:
    """One item of a batch placement: either `placed` or `error` is set."""

    client_order_id: str
    placed: PlacedOrder | None = None
    error: ExchangeError | BudgetWait | None = None  # BudgetWait: not sent (our own budget had no room)


def not_sent(orders: Iterable[PlaceOrder], wait: BudgetWait) -> list[BatchItemResult]:
    """The results of a batch's items that were not sent because our own rate budget had no room
    (`wait`); the items sent before them keep their own results."""
    return [BatchItemResult(client_order_id=order.client_order_id, error=wait) for order in orders]


@dataclass(frozen=True)
class CancelItemResult:
    """One item of a batch cancel: `error` is None when the venue cancelled it. OrderNotFound
    (OrderAlreadyClosed included) means the order is not open any more (filled, cancelled or
    never there): nothing left to cancel. AmbiguousOutcome: unknown, ask the order's state."""

    client_order_id: str
    error: ExchangeError | None = None

    @property
    def gone(self) -> bool:
        """Nothing of it is left open on the venue (cancelled now, or closed before)."""
        return self.error is None or isinstance(self.error, OrderNotFound)


def cancel_orders_one_by_one(
    client: ExchangeClient, *, category: Category, symbol: str, client_order_ids: Sequence[str]
) -> list[CancelItemResult]:
    """The port's cancel_orders where the venue has no batch endpoint: one cancel request per
    order. An item's own refusal (not found, already closed, refused) is its result; an error
    that is not about the one order (auth, rate limit, unknown outcome) stops the run and is
    raised, as a single cancel would."""
    out: list[CancelItemResult] = []
    for client_order_id in client_order_ids:
        try:
            client.cancel_order(category=category, symbol=symbol, client_order_id=client_order_id)
        except (OrderNotFound, OrderRejected) as exc:
            out.append(CancelItemResult(client_order_id=client_order_id, error=exc))
            continue
        out.append(CancelItemResult(client_order_id=client_order_id))
    return out


@dataclass(frozen=True)
class Fill:
    """One execution. exec_id is unique on the exchange: it is the key that stores a fill once.

    `seq`: the venue's own execution sequence where it has one (OKX's and Binance's numeric trade
    id, Bybit's `seq`), None where not. Executions of the same millisecond are folded in this
    order: a buy and a sell of the same instant (a batch whose items fill at once) give a linear
    position a different average entry, hence a different profit, in the other order."""

    exec_id: str
    order_id: str
    client_order_id: str
    category: Category
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_coin: str
    is_maker: bool
    executed_at: datetime
    seq: int | None = None

    def to_wire(self) -> dict[str, str | bool | int | None]:
        """A JSON-safe copy (strings for Decimals and the ISO time) for a task's arguments: the
        streams process hands a pushed execution to the tick (Fill.from_wire)."""
        return {
            "exec_id": self.exec_id,
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "category": self.category.value,
            "symbol": self.symbol,
            "side": self.side.value,
            "price": str(self.price),
            "qty": str(self.qty),
            "fee": str(self.fee),
            "fee_coin": self.fee_coin,
            "is_maker": self.is_maker,
            "executed_at": self.executed_at.isoformat(),
            "seq": self.seq,
        }

    @classmethod
    def from_wire(cls, data: dict) -> Fill:
        """The Fill that to_wire wrote. Raises KeyError, ValueError or ArithmeticError on anything
        else (the caller then reads the executions from the venue instead)."""
        seq = data.get("seq")
        return cls(
            exec_id=str(data["exec_id"]),
            order_id=str(data["order_id"]),
            client_order_id=str(data["client_order_id"]),
            category=Category(data["category"]),
            symbol=str(data["symbol"]),
            side=Side(data["side"]),
            price=Decimal(str(data["price"])),
            qty=Decimal(str(data["qty"])),
            fee=Decimal(str(data["fee"])),
            fee_coin=str(data["fee_coin"]),
            is_maker=bool(data["is_maker"]),
            executed_at=datetime.fromisoformat(str(data["executed_at"])),
            seq=int(seq) if seq is not None else None,
        )


@dataclass(frozen=True)
class FillPage:
    fills: list[Fill]
    next_cursor: str | None = None


@dataclass(frozen=True)
class FundingPayment:
    """One funding settlement of a perpetual position. `venue_id` is unique on the exchange: it
    is the key that stores a payment once. `amount` is signed in the settle coin `coin`, as it
    moved the wallet: positive received, negative paid (a long pays a positive `rate`).
    `position_qty` is the size of the account's position it was charged on (base units)."""

    venue_id: str
    symbol: str
    amount: Decimal
    coin: str
    rate: Decimal
    position_qty: Decimal
    mark_price: Decimal
    paid_at: datetime


@dataclass(frozen=True)
class FundingPage:
    payments: list[FundingPayment]
    next_cursor: str | None = None


@dataclass(frozen=True)
class Position:
    symbol: str
    side: Side | None  # None when flat
    size: Decimal
    avg_price: Decimal
    leverage: Decimal
    mark_price: Decimal
    unrealized_pnl: Decimal
    liq_price: Decimal | None


@dataclass(frozen=True)
class KeyPermissions:
    read_only: bool
    can_trade_spot: bool
    can_trade_linear: bool
    can_withdraw: bool
    ip_whitelist: tuple[str, ...] = ()
    expires_at: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False)


@runtime_checkable
class ExchangeClient(Protocol):
    """One authenticated account on one exchange."""

    def instrument_rules(self, *, category: Category, symbol: str) -> InstrumentRules: ...

    def symbols(self, *, category: Category) -> list[InstrumentRules]: ...

    def ticker(self, *, category: Category, symbol: str) -> Ticker: ...

    def klines(
        self, *, category: Category, symbol: str, interval: str = "60", limit: int = 200, start: datetime | None = None
    ) -> list[Kline]:
        """At most `limit` candles, oldest first: the most recent ones, or with `start` the first
        ones opening at or after it (one page of a download; the venue may cap `limit`)."""
        ...

    def funding_rate(self, *, category: Category, symbol: str) -> Decimal | None:
        """The perpetual's current funding rate (public market data); None for spot or where the
        venue does not publish one."""
        ...

    def balances(self) -> dict[str, Balance]: ...

    def fee_rates(self, *, category: Category, symbol: str) -> FeeRates: ...

    def place_order(self, order: PlaceOrder) -> PlacedOrder: ...

    def place_orders(self, orders: Sequence[PlaceOrder]) -> list[BatchItemResult]: ...

    def cancel_order(self, *, category: Category, symbol: str, client_order_id: str) -> None: ...

    def cancel_orders(
        self, *, category: Category, symbol: str, client_order_ids: Sequence[str]
    ) -> list[CancelItemResult]:
        """Cancel several orders of one symbol, one result per id in the same order: through the
        venue's batch endpoint where it has one (as many requests as batches), else one by one
        (cancel_orders_one_by_one). A batch whose outcome is unknown gives AmbiguousOutcome for
        each of its items: the caller asks each order's state (cancelling again is harmless)."""
        ...

    def cancel_all(self, *, category: Category, symbol: str) -> list[str]: ...

    def open_orders(self, *, category: Category, symbol: str) -> list[ExchangeOrder]: ...

    def order_by_client_id(self, *, category: Category, symbol: str, client_order_id: str) -> ExchangeOrder | None: ...

    def fills(
        self, *, category: Category, symbol: str, since: datetime | None = None, cursor: str | None = None
    ) -> FillPage: ...

    def account_open_orders(self, *, category: Category, symbols: Sequence[str]) -> list[ExchangeOrder]:
        """Open orders of `category` on the whole account: ONE request (paged) where the venue
        lists every symbol at once (Venue.account_reads), else one request per symbol of
        `symbols` (the symbols the caller cares about; orders on others may be left out)."""
        ...

    def account_fills(
        self,
        *,
        category: Category,
        symbols: Sequence[str],
        since: datetime | None = None,
        cursor: str | None = None,
    ) -> FillPage:
        """One page of the account's executions of `category` since `since`, every symbol in
        one request where the venue allows it, else symbol by symbol of `symbols` (the cursor
        then also says which symbol comes next). Pass next_cursor back until it is None."""
        ...

    def funding_payments(
        self, *, category: Category, symbol: str, since: datetime | None = None, cursor: str | None = None
    ) -> FundingPage:
        """Funding settlements of the account's `symbol` position since `since` (one page; pass
        next_cursor back). Raises NotSupported where the venue cannot tell."""
        ...

    def positions(self, *, category: Category, symbol: str) -> list[Position]: ...

    def set_leverage(self, *, category: Category, symbol: str, leverage: Decimal) -> None: ...

    def key_permissions(self) -> KeyPermissions: ...


def per_symbol_fills(fetch, *, symbols: Sequence[str], since: datetime | None, cursor: str | None) -> FillPage:
    """account_fills for a venue that needs a symbol: walk `symbols` in order, each with its own
    venue cursor. The returned cursor is "<index>:<inner cursor>" (inner may be empty)."""
    index, inner = 0, None
    if cursor:
        head, _, rest = cursor.partition(":")
        index, inner = int(head), (rest or None)
    ordered = sorted(set(symbols))
    if index >= len(ordered):
        return FillPage(fills=[])
    page = fetch(symbol=ordered[index], since=since, cursor=inner)
    if page.next_cursor:
        return FillPage(fills=page.fills, next_cursor=f"{index}:{page.next_cursor}")
    if index + 1 < len(ordered):
        return FillPage(fills=page.fills, next_cursor=f"{index + 1}:")
    return FillPage(fills=page.fills)
