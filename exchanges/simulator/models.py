"""Plain state objects of the simulated exchange (Decimal money, ms timestamps)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

ZERO = Decimal(0)


class BybitError(Exception):
    """A business error answered as HTTP 200 with this retCode."""

    def __init__(self, code: int, msg: str):
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg


def _decimal_fields(cls) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls) if "Decimal" in str(f.type))


class Jsonable:
    if TYPE_CHECKING:  # a mixin of dataclasses
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def to_json(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Decimal):
                v = str(v)
            elif isinstance(v, dict):
                v = {k: (str(x) if isinstance(x, Decimal) else x) for k, x in v.items()}
            out[f.name] = v
        return out

    @classmethod
    def from_json(cls, data: dict):
        dec = _decimal_fields(cls)
        kwargs = {}
        names = {f.name: f for f in dataclasses.fields(cls)}
        for k, v in data.items():
            if k not in names:
                continue
            if k in dec and v is not None and not isinstance(v, dict):
                v = Decimal(v)
            elif k in ("balances", "locked") and isinstance(v, dict):
                v = {c: Decimal(x) for c, x in v.items()}
            kwargs[k] = v
        return cls(**kwargs)


@dataclass
class Account(Jsonable):
    uid: int
    balances: dict = field(default_factory=dict)  # coin -> Decimal wallet balance
    locked: dict = field(default_factory=dict)  # coin -> Decimal locked by open spot orders
    funding: dict = field(default_factory=dict)  # coin -> Decimal total deposited (for the ledger)
    spot_maker: Decimal = Decimal("0.001")
    spot_taker: Decimal = Decimal("0.001")
    linear_maker: Decimal = Decimal("0.0002")
    linear_taker: Decimal = Decimal("0.00055")
    created_ms: int = 0
    rate_multiplier: int = 1  # 1 = non-VIP limits; higher = VIP/PRO-like quotas


@dataclass
class ApiKey(Jsonable):
    api_key: str
    secret: str
    uid: int
    key_id: int = 0
    spot_trade: bool = True
    contract_trade: bool = True
    read_only: bool = False
    withdraw: bool = False
    ips: list = field(default_factory=list)
    expires_ms: int | None = None
    created_ms: int = 0
    note: str = ""
    passphrase: str = ""  # OKX and KuCoin keys carry one (Bybit, Binance and MEXC do not use it)


@dataclass
class Order(Jsonable):
    order_id: str
    order_link_id: str
    uid: int
    category: str
    symbol: str
    side: str
    order_type: str
    price: Decimal  # 0 for market orders
    qty: Decimal  # base qty (for a spot market buy by quote value: the quote amount, see market_unit)
    time_in_force: str
    status: str
    seq: int
    created_ms: int
    updated_ms: int
    market_unit: str = ""
    reduce_only: bool = False
    cum_qty: Decimal = Decimal(0)
    cum_value: Decimal = Decimal(0)
    cum_fee: Decimal = Decimal(0)
    fee_coin: str = ""
    cancel_type: str = "UNKNOWN"
    reject_reason: str = "EC_NoError"
    lock_coin: str = ""
    lock_amount: Decimal = Decimal(0)  # still locked by this order (spot)
    order_im: Decimal = Decimal(0)  # initial margin still reserved (linear)
    last_price_on_created: Decimal = Decimal(0)
    closed_pnl: Decimal = Decimal(0)

    @property
    def leaves_qty(self) -> Decimal:
        if self.status in ("New", "PartiallyFilled"):
            return self.qty - self.cum_qty
        return ZERO

    @property
    def is_open(self) -> bool:
        return self.status in ("New", "PartiallyFilled")


@dataclass
class Execution(Jsonable):
    exec_id: str
    uid: int
    seq: int
    category: str
    symbol: str
    order_id: str
    order_link_id: str
    side: str
    order_type: str
    order_price: Decimal
    order_qty: Decimal
    leaves_qty: Decimal
    exec_price: Decimal
    exec_qty: Decimal
    exec_value: Decimal
    exec_fee: Decimal
    fee_rate: Decimal
    fee_currency: str
    is_maker: bool
    exec_time: int
    exec_type: str = "Trade"
    exec_pnl: Decimal = Decimal(0)
    closed_size: Decimal = Decimal(0)
    mark_price: Decimal = Decimal(0)


@dataclass
class Position(Jsonable):
    uid: int
    symbol: str
    size: Decimal = Decimal(0)  # signed: >0 long, <0 short
    avg_price: Decimal = Decimal(0)
    leverage: Decimal = Decimal(10)
    cum_realised: Decimal = Decimal(0)
    cur_realised: Decimal = Decimal(0)
    status: str = "Normal"
    created_ms: int = 0
    updated_ms: int = 0
    seq: int = 0
    liquidations: int = 0
