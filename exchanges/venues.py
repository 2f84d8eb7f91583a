"""What Setka knows about each exchange: one capability and quirks record per venue.

The engine, services and UI never branch on an exchange's name; they ask this registry (order
types, batch sizes, client-id rules, rate limits, fee coin, minimums, API-tradable symbols,
futures support, whether keys carry a passphrase). Pure Python: no Django, no ccxt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from exchanges import errors
from exchanges.client import Category

SPOT, LINEAR = Category.SPOT, Category.LINEAR


@dataclass(frozen=True)
class Venue:
    code: str  # exchanges.models.Exchange.Code
    name: str
    adapter: str  # "pybit" | "ccxt"
    ccxt_id: str = ""
    categories: tuple[Category, ...] = (SPOT,)
    futures_note: str = ""  # why futures are (not) offered to API users
    order_types: tuple[str, ...] = ("Limit", "Market")
    time_in_force: tuple[str, ...] = ("GTC", "IOC", "FOK", "PostOnly")
    batch_create: int = 0  # orders per batch request (0 = no batch endpoint used)
    batch_cancel: int = 0
    # where the venue's batch endpoint takes a different number per category (Bybit's
    # create-batch: 10 spot, 20 linear); categories not listed use batch_create
    batch_create_by_category: dict[str, int] = field(default_factory=dict)
    # Setka holds the venue's private order stream (fills tick the bot at once); else the bot's
    # periodic REST reconciliation finds them (MEXC: its spot stream is protobuf)
    private_stream: bool = False
    # one open-orders and one executions request answer for every symbol of a category (Bybit
    # with settleCoin for linear, OKX without instId, KuCoin without symbol); else the account
    # pass asks symbol by symbol (Binance myTrades, MEXC need a symbol)
    account_reads: bool = False
    client_id_max_len: int = 36
    client_id_pattern: str = r"^[A-Za-z0-9_-]{1,36}$"
    # requests per second per account that Setka allows itself (about 90 % of the venue's
    # published limit); keys: (operation, category or "*")
    rate_limits: dict[tuple[str, str], int] = field(default_factory=dict)
    fee_coin: str = "the coin received"  # how fees are charged, for people
    min_notional: Decimal = Decimal("5")  # quote-coin minimum of an order (the venue's default)
    api_tradable: frozenset[str] | None = None  # None = every listed symbol; else only these
    passphrase_required: bool = False
    market_orders_via_api: bool = True
    environments: tuple[str, ...] = ("mainnet", "paper")
    # the venue's own error codes -> the port's error classes (the ccxt adapter reads them
    # before falling back to ccxt's generic exception classes)
    error_codes: dict[str, type[errors.ExchangeError]] = field(default_factory=dict)
    ccxt_options: dict = field(default_factory=dict)

    def client_id_ok(self, client_order_id: str) -> bool:
        return bool(re.match(self.client_id_pattern, client_order_id or ""))

    def supports(self, category: Category | str) -> bool:
        return Category(category) in self.categories

    def tradable(self, symbol: str) -> bool:
        return self.api_tradable is None or symbol in self.api_tradable

    def batch_size(self, category: Category | str) -> int:
        """Orders per batch placement request in `category` (0 = one by one)."""
        return self.batch_create_by_category.get(str(Category(category)), self.batch_create)

    def limit(self, operation: str, category: Category | str | None = None) -> int:
        return self.rate_limits.get((operation, str(category or "*"))) or self.rate_limits.get((operation, "*")) or 10

    def as_json(self) -> dict:
        """What the UI needs to offer this venue (no secrets, no code)."""
        return {
            "code": self.code,
            "name": self.name,
            "categories": [str(c) for c in self.categories],
            "futures_note": self.futures_note,
            "order_types": list(self.order_types),
            "passphrase_required": self.passphrase_required,
            "environments": list(self.environments),
            "fee_coin": self.fee_coin,
            "min_notional": str(self.min_notional),
            "client_id_max_len": self.client_id_max_len,
            "batch_create": self.batch_create,
        }


E = errors
OKX_ERRORS = {
    "51008": E.InsufficientBalance,
    "51131": E.InsufficientBalance,
    "51127": E.InsufficientBalance,
    "51016": E.DuplicateClientOrderId,
    "51006": E.InvalidOrder,
    "51121": E.InvalidOrder,
    "51020": E.InvalidOrder,
    "51202": E.InvalidOrder,
    "51001": E.InvalidRequest,
    "51000": E.InvalidRequest,
    "51603": E.OrderNotFound,
    "51400": E.OrderAlreadyClosed,
    "51401": E.OrderAlreadyClosed,
    "51503": E.OrderNotFound,
    "51024": E.TooManyOpenOrders,
    "51169": E.InvalidOrder,
    "50011": E.RateLimited,
    "50061": E.RateLimited,
    "50111": E.AuthenticationFailed,
    "50113": E.AuthenticationFailed,
    "50105": E.AuthenticationFailed,
    "50103": E.AuthenticationFailed,
    "50119": E.AuthenticationFailed,
    "50110": E.AuthenticationFailed,
    "50120": E.PermissionDenied,
    "50102": E.TemporaryExchangeError,
    "50000": E.TemporaryExchangeError,
    "50001": E.TemporaryExchangeError,
    "50013": E.TemporaryExchangeError,
}
BINANCE_ERRORS = {
    "-2019": E.InsufficientBalance,
    "-4116": E.DuplicateClientOrderId,
    "-1013": E.InvalidOrder,
    "-4164": E.InvalidOrder,
    "-2022": E.InvalidOrder,
    "-5022": E.OrderRejected,
    "-1121": E.InvalidRequest,
    "-1100": E.InvalidRequest,
    "-1102": E.InvalidRequest,
    "-1104": E.InvalidRequest,
    "-1116": E.InvalidRequest,
    "-1115": E.InvalidRequest,
    "-2011": E.OrderNotFound,
    "-2013": E.OrderNotFound,
    "-1003": E.RateLimited,
    "-1015": E.RateLimited,
    "-2014": E.AuthenticationFailed,
    "-2015": E.AuthenticationFailed,
    "-1022": E.AuthenticationFailed,
    "-1021": E.TemporaryExchangeError,
    "-1000": E.TemporaryExchangeError,
    "-1001": E.TemporaryExchangeError,
    "-1007": E.AmbiguousOutcome,
}
MEXC_ERRORS = {
    "30004": E.InsufficientBalance,
    "10101": E.InsufficientBalance,
    "30002": E.InvalidOrder,
    "30010": E.InvalidOrder,
    "30029": E.InvalidOrder,
    "30025": E.TooManyOpenOrders,
    "10007": E.InvalidRequest,
    "33333": E.InvalidRequest,
    "-2011": E.OrderNotFound,
    "-2013": E.OrderNotFound,
    "10072": E.AuthenticationFailed,
    "700002": E.AuthenticationFailed,
    "700006": E.AuthenticationFailed,
    "700007": E.PermissionDenied,
    "700003": E.TemporaryExchangeError,
    "429": E.RateLimited,
}
KUCOIN_ERRORS = {
    "200004": E.InsufficientBalance,
    "126044": E.DuplicateClientOrderId,
    "200003": E.TooManyOpenOrders,
    "400001": E.AuthenticationFailed,
    "400003": E.AuthenticationFailed,
    "400004": E.AuthenticationFailed,
    "400005": E.AuthenticationFailed,
    "400006": E.AuthenticationFailed,
    "400007": E.PermissionDenied,
    "400002": E.TemporaryExchangeError,
    "429000": E.RateLimited,
    "500000": E.TemporaryExchangeError,
}
# -2010 carries several meanings on Binance; the message tells them apart
BINANCE_MESSAGES = {
    "Duplicate order sent.": E.DuplicateClientOrderId,
    "Account has insufficient balance for requested action.": E.InsufficientBalance,
    "Order would immediately match and take.": E.OrderRejected,
}

VENUES: dict[str, Venue] = {
    v.code: v
    for v in (
        Venue(
            code="bybit",
            account_reads=True,
            private_stream=True,
            name="Bybit",
            adapter="pybit",
            ccxt_id="bybit",
            categories=(SPOT, LINEAR),
            futures_note="USDT perpetuals",
            # create-batch takes 10 spot and 20 linear orders a request, but every item costs one
            # unit of the per-second quota (10/s for linear on a default account): a linear batch
            # of 20 has half its items refused with 10006, so linear batches stay at 10 too
            batch_create=10,
            batch_cancel=10,
            rate_limits={("create", "spot"): 18, ("create", "linear"): 9},
            environments=("mainnet", "testnet", "demo", "paper"),
            ccxt_options={"brokerId": ""},
        ),
        Venue(
            code="okx",
            account_reads=True,
            private_stream=True,
            name="OKX",
            adapter="ccxt",
            ccxt_id="okx",
            categories=(SPOT, LINEAR),
            futures_note="USDT-margined perpetual swaps (sizes in contracts; Setka converts)",
            batch_create=20,
            batch_cancel=20,
            client_id_max_len=32,
            client_id_pattern=r"^[A-Za-z0-9]{1,32}$",
            rate_limits={
                ("create", "*"): 27,
                ("cancel", "*"): 27,
                ("read", "*"): 18,
                ("account", "*"): 4,
                ("fills", "*"): 4,
                ("config", "*"): 2,
            },
            fee_coin="the coin received (spot), USDT (swaps)",
            passphrase_required=True,
            error_codes=OKX_ERRORS,
            ccxt_options={"fetchMarkets": {"types": ["spot", "swap"]}, "brokerId": "", "defaultType": "spot"},
        ),
        Venue(
            code="binance",
            private_stream=True,
            name="Binance",
            adapter="ccxt",
            ccxt_id="binance",
            categories=(SPOT, LINEAR),
            futures_note="USDⓈ-M perpetual futures",
            batch_create=0,
            batch_cancel=0,
            client_id_max_len=36,
            client_id_pattern=r"^[.A-Z:/a-z0-9_-]{1,36}$",
            rate_limits={
                ("create", "spot"): 9,
                ("create", "linear"): 27,
                ("cancel", "*"): 9,
                ("read", "*"): 40,
                ("account", "*"): 10,
                ("fills", "*"): 10,
                ("config", "*"): 2,
            },
            fee_coin="the coin received, or BNB when the BNB discount is on",
            error_codes=BINANCE_ERRORS,
            ccxt_options={
                "fetchMarkets": {"types": ["spot", "linear"]},
                "fetchCurrencies": False,
                "fetchPositionsRisk": {"useV2": True},
                "broker": {t: "" for t in ("spot", "margin", "future", "swap", "option", "inverse")},
                "defaultType": "spot",
            },
        ),
        Venue(
            code="mexc",
            name="MEXC",
            adapter="ccxt",
            ccxt_id="mexc",
            categories=(SPOT,),
            futures_note="MEXC's futures API is closed to regular users",
            client_id_max_len=32,
            client_id_pattern=r"^[A-Za-z0-9_-]{1,32}$",
            rate_limits={
                ("create", "*"): 4,
                ("cancel", "*"): 4,
                ("read", "*"): 9,
                ("account", "*"): 9,
                ("fills", "*"): 9,
                ("config", "*"): 4,
            },
            api_tradable=frozenset({"BTCUSDT", "ETHUSDT"}),
            error_codes=MEXC_ERRORS,
            ccxt_options={
                "broker": "",
                "fetchMarkets": {"types": {"spot": True, "swap": {"linear": False, "inverse": False}}},
            },
        ),
        Venue(
            code="kucoin",
            account_reads=True,
            name="KuCoin",
            adapter="ccxt",
            ccxt_id="kucoin",
            categories=(SPOT,),
            futures_note="futures live on KuCoin Futures (separate API)",
            client_id_max_len=40,
            client_id_pattern=r"^[A-Za-z0-9_-]{1,40}$",
            passphrase_required=True,
            fee_coin="the quote coin, or KCS",
            private_stream=True,
            rate_limits={
                ("create", "*"): 40,
                ("cancel", "*"): 40,
                ("read", "*"): 18,
                ("account", "*"): 18,
                ("fills", "*"): 18,
                ("config", "*"): 4,
            },
            error_codes=KUCOIN_ERRORS,
            ccxt_options={
                "hf": False,  # the classic spot API (/api/v1/orders), not the high-frequency one
                "uta": False,
                "fetchMarkets": {"types": ["spot"], "fetchTickersFees": True},
            },
        ),
    )
}
CCXT_VENUES = tuple(code for code, v in VENUES.items() if v.adapter == "ccxt")
# The venues whose twin and adapter are finished (contract suite green); the UI offers these.
READY = ("bybit", "okx", "binance", "mexc", "kucoin")


def venue(code: str) -> Venue:
    try:
        return VENUES[code]
    except KeyError:
        raise ValueError(f"Unknown exchange {code!r}") from None


def offered() -> list[Venue]:
    return [VENUES[c] for c in READY]
