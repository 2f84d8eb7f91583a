"""An in-memory ExchangeClient for fast, exact fault tests of the order bookkeeping.

Spot only, one symbol: limit orders rest and fill when `set_price` crosses them (maker, fee in
the received coin), market orders fill at once, `fill_partial` fills part of an order. Faults:
`fail_next(method, exc, after=False)` raises `exc` on the next call of `method` (with after=True
the call is applied first, then `exc` raised: "timeout after accept")."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from exchanges.client import (
    Balance,
    BatchItemResult,
    Category,
    ExchangeOrder,
    ExchangeOrderStatus,
    FeeRates,
    Fill,
    FillPage,
    FundingPage,
    FundingPayment,
    InstrumentRules,
    Kline,
    OrderType,
    PlacedOrder,
    Side,
    Ticker,
    cancel_orders_one_by_one,
)
from exchanges.errors import DuplicateClientOrderId, InsufficientBalance, OrderNotFound

RULES = InstrumentRules(
    symbol="BTCUSDT",
    category=Category.SPOT,
    base_coin="BTC",
    quote_coin="USDT",
    tick_size=Decimal("0.01"),
    qty_step=Decimal("0.000001"),
    min_qty=Decimal("0.000048"),
    max_qty=Decimal("100"),
    min_notional=Decimal("5"),
)
FEE = Decimal("0.001")


class FakeExchange:
    def __init__(self, price="55000", usdt="10000", btc="0"):
        self.price = Decimal(price)
        self.wallet = defaultdict(Decimal, {"USDT": Decimal(usdt), "BTC": Decimal(btc)})
        self.orders: dict[str, ExchangeOrder] = {}
        self.executions: list[Fill] = []
        self.funding: list[FundingPayment] = []
        self.faults: dict[str, list[tuple[Exception, bool]]] = defaultdict(list)
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.placed_ids: list[str] = []  # every accepted orderLinkId, in order (duplicates would show here)
        self._ids = itertools.count(1)
        self.clock = datetime(2026, 1, 1, tzinfo=UTC)

    # --- test controls ---------------------------------------------------------------------
    def fail_next(self, method: str, exc: Exception, *, after: bool = False, times: int = 1) -> None:
        self.faults[method].extend([(exc, after)] * times)

    def _fault(self, method: str):
        self.calls[method] += 1
        if self.faults.get(method):
            return self.faults[method].pop(0)
        return None

    def _now(self) -> datetime:
        self.clock += timedelta(milliseconds=10)
        return datetime.now(UTC)

    def set_price(self, price) -> None:
        self.price = Decimal(price)
        for o in list(self.orders.values()):
            if o.status.is_open and o.order_type == OrderType.LIMIT:
                if (o.side == Side.BUY and self.price <= o.price) or (o.side == Side.SELL and self.price >= o.price):
                    self._fill(o.client_order_id, o.qty - o.filled_qty, o.price, maker=True)

    def fill_partial(self, client_order_id: str, qty) -> None:
        o = self.orders[client_order_id]
        self._fill(client_order_id, Decimal(qty), o.price, maker=True)

    def open_ids(self) -> list[str]:
        return sorted(cid for cid, o in self.orders.items() if o.status.is_open)

    def _fill(self, cid: str, qty: Decimal, price: Decimal, *, maker: bool) -> None:
        o = self.orders[cid]
        filled = o.filled_qty + qty
        if o.side == Side.BUY:
            fee = (qty * FEE).quantize(Decimal("0.00000001"))
            self.wallet["USDT"] -= qty * price
            self.wallet["BTC"] += qty - fee
            fee_coin = "BTC"
        else:
            fee = (qty * price * FEE).quantize(Decimal("0.00000001"))
            self.wallet["BTC"] -= qty
            self.wallet["USDT"] += qty * price - fee
            fee_coin = "USDT"
        now = self._now()
        self.executions.append(
            Fill(
                exec_id=f"e{next(self._ids)}",
                order_id=o.order_id,
                client_order_id=cid,
                category=Category.SPOT,
                symbol="BTCUSDT",
                side=o.side,
                price=price,
                qty=qty,
                fee=fee,
                fee_coin=fee_coin,
                is_maker=maker,
                executed_at=now,
            )
        )
        avg = price if o.avg_price is None else (o.avg_price * o.filled_qty + price * qty) / filled
        status = ExchangeOrderStatus.FILLED if filled >= o.qty else ExchangeOrderStatus.PARTIALLY_FILLED
        self.orders[cid] = replace(o, filled_qty=filled, avg_price=avg, status=status, updated_at=now)

    # --- ExchangeClient ------------------------------------------------------------------------
    def instrument_rules(self, *, category, symbol):
        self._fault("instrument_rules")
        return RULES

    def symbols(self, *, category):
        return [RULES]

    def ticker(self, *, category, symbol):
        fault = self._fault("ticker")
        if fault:
            raise fault[0]
        return Ticker(symbol=symbol, last_price=self.price, bid_price=self.price, ask_price=self.price)

    def funding_rate(self, *, category, symbol):
        return None

    def klines(self, *, category, symbol, interval="60", limit=200, start=None):
        now = datetime.now(UTC)
        return [
            Kline(
                start=now - timedelta(hours=limit - i),
                open=self.price,
                high=self.price * Decimal("1.01"),
                low=self.price * Decimal("0.99"),
                close=self.price,
                volume=Decimal(1),
            )
            for i in range(limit)
        ]

    def balances(self):
        return {c: Balance(coin=c, total=v, locked=Decimal(0)) for c, v in self.wallet.items()}

    def fee_rates(self, *, category, symbol):
        return FeeRates(maker=FEE, taker=FEE)

    def place_order(self, order):
        fault = self._fault("place_order")
        if fault and not fault[1]:
            raise fault[0]
        if order.client_order_id in self.orders:
            raise DuplicateClientOrderId("duplicate orderLinkId", code=170141)
        if order.side == Side.SELL and order.qty > self.wallet["BTC"] + Decimal("0.00000001") - self._locked_base():
            raise InsufficientBalance("not enough BTC", code=170131)
        now = self._now()
        oid = f"o{next(self._ids)}"
        self.orders[order.client_order_id] = ExchangeOrder(
            order_id=oid,
            client_order_id=order.client_order_id,
            category=Category.SPOT,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            price=order.price,
            qty=order.qty,
            filled_qty=Decimal(0),
            avg_price=None,
            status=ExchangeOrderStatus.NEW,
            created_at=now,
            updated_at=now,
        )
        self.placed_ids.append(order.client_order_id)
        if order.order_type == OrderType.MARKET:
            self._fill(order.client_order_id, order.qty, self.price, maker=False)
        else:
            self.set_price(self.price)
        if fault:
            raise fault[0]
        return PlacedOrder(order_id=oid, client_order_id=order.client_order_id)

    def _locked_base(self) -> Decimal:
        return sum(
            (o.qty - o.filled_qty for o in self.orders.values() if o.status.is_open and o.side == Side.SELL), Decimal(0)
        )

    def place_orders(self, orders):
        out = []
        for o in orders:
            try:
                out.append(BatchItemResult(client_order_id=o.client_order_id, placed=self.place_order(o)))
            except Exception as exc:  # noqa: BLE001
                out.append(BatchItemResult(client_order_id=o.client_order_id, error=exc))
        return out

    def cancel_order(self, *, category, symbol, client_order_id):
        fault = self._fault("cancel_order")
        if fault:
            raise fault[0]
        o = self.orders.get(client_order_id)
        if o is None or not o.status.is_open:
            raise OrderNotFound("order not exists or too late to cancel", code=170213)
        status = ExchangeOrderStatus.PARTIALLY_FILLED_CANCELLED if o.filled_qty else ExchangeOrderStatus.CANCELLED
        self.orders[client_order_id] = replace(o, status=status, updated_at=self._now())

    def cancel_orders(self, *, category, symbol, client_order_ids):
        return cancel_orders_one_by_one(self, category=category, symbol=symbol, client_order_ids=client_order_ids)

    def cancel_all(self, *, category, symbol):
        ids = self.open_ids()
        for cid in ids:
            self.cancel_order(category=category, symbol=symbol, client_order_id=cid)
        return ids

    def open_orders(self, *, category, symbol):
        fault = self._fault("open_orders")
        if fault:
            raise fault[0]
        return [o for o in self.orders.values() if o.status.is_open]

    def order_by_client_id(self, *, category, symbol, client_order_id):
        fault = self._fault("order_by_client_id")
        if fault:
            raise fault[0]
        return self.orders.get(client_order_id)

    def fills(self, *, category, symbol, since=None, cursor=None):
        fault = self._fault("fills")
        if fault:
            raise fault[0]
        start = int(cursor or 0)
        items = [f for f in self.executions if since is None or f.executed_at >= since]
        page = items[start : start + 50]
        return FillPage(fills=page, next_cursor=str(start + 50) if start + 50 < len(items) else None)

    def funding_payments(self, *, category, symbol, since=None, cursor=None):
        items = [p for p in self.funding if since is None or p.paid_at >= since]
        return FundingPage(payments=items)

    def positions(self, *, category, symbol):
        return []

    def set_leverage(self, *, category, symbol, leverage):
        return None

    def key_permissions(self):  # pragma: no cover
        raise NotImplementedError
