"""The ccxt adapter of the exchange port: one class for every venue ccxt speaks (OKX, Binance,
MEXC, KuCoin). The ONLY module in Setka that imports ccxt.

- Every URL of the ccxt instance is rewritten to `base_url` (the venue's twin, or a configured
  endpoint) before any call, and each request is checked against `allowed_hosts` on its way out:
  a URL anywhere else is refused before a socket is opened.
- ccxt's default broker ids are replaced (Setka's own id per venue from settings, or none), and
  every order carries Setka's deterministic client order id.
- Retries as in the Bybit adapter: reads, cancels and placements (idempotent by client order id)
  are retried on temporary errors; a timeout on a placement is never a failure: the retry meets
  the duplicate and the order is looked up, or the caller gets AmbiguousOutcome.
- Quantities: the port speaks the base coin; OKX swaps trade in contracts (ctVal), converted here.
  Amounts go to ccxt as decimal strings and come back through Decimal(str(x)).
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import ccxt

from exchanges import errors
from exchanges.client import (
    Balance,
    BatchItemResult,
    CancelItemResult,
    Category,
    ExchangeOrder,
    ExchangeOrderStatus,
    FeeRates,
    Fill,
    FillPage,
    FundingPage,
    FundingPayment,
    InstrumentRules,
    KeyPermissions,
    Kline,
    OrderType,
    PlacedOrder,
    PlaceOrder,
    Position,
    Side,
    Ticker,
    TimeInForce,
    cancel_orders_one_by_one,
    not_sent,
    per_symbol_fills,
)
from exchanges.ratelimit import RateLimiter
from exchanges.venues import BINANCE_MESSAGES, VENUES, Venue, venue

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TIMEFRAMES = {
    "1": "1m",
    "3": "3m",
    "5": "5m",
    "15": "15m",
    "30": "30m",
    "60": "1h",
    "120": "2h",
    "240": "4h",
    "360": "6h",
    "720": "12h",
    "D": "1d",
    "W": "1w",
    "M": "1M",
}
STATUS = {
    "open": ExchangeOrderStatus.NEW,
    "closed": ExchangeOrderStatus.FILLED,
    "canceled": ExchangeOrderStatus.CANCELLED,
    "expired": ExchangeOrderStatus.CANCELLED,
    "rejected": ExchangeOrderStatus.REJECTED,
}
_URL = re.compile(r"^(https?|wss?)://[^/]+")


def D(value) -> Decimal:  # noqa: N802 - reads like the constructor it wraps
    """A ccxt number (float, int or str) as an exact Decimal of its shortest text."""
    if value is None or value == "":
        return Decimal(0)
    text = str(value)
    if isinstance(value, float) and text.endswith(".0"):
        text = text[:-2]  # 10000.0 was "10000" on the wire
    return Decimal(text)


def _plain(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def rewrite_urls(tree, base_url: str):
    """The same tree with the scheme and host of every URL replaced by `base_url`'s (http -> the
    base's scheme, ws -> ws/wss), keeping each path; `{hostname}` templates included."""
    base = urlsplit(base_url)
    http_base = f"{base.scheme}://{base.netloc}"
    ws_base = f"{'wss' if base.scheme == 'https' else 'ws'}://{base.netloc}"
    if isinstance(tree, dict):
        return {k: rewrite_urls(v, base_url) for k, v in tree.items()}
    if isinstance(tree, list):
        return [rewrite_urls(v, base_url) for v in tree]
    if isinstance(tree, str) and _URL.match(tree):
        scheme = tree.split("://", 1)[0]
        return _URL.sub(ws_base if scheme.startswith("ws") else http_base, tree, count=1)
    return tree


def urls_of(tree) -> list[str]:
    """Every URL string in a nested dict/list (for the loopback checks)."""
    if isinstance(tree, dict):
        return [u for v in tree.values() for u in urls_of(v)]
    if isinstance(tree, list):
        return [u for v in tree for u in urls_of(v)]
    return [tree] if isinstance(tree, str) and "://" in tree else []


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def build_exchange(
    spec: Venue,
    *,
    api_key: str,
    api_secret: str,
    passphrase: str = "",
    base_url: str | None,
    timeout: float,
    broker_id: str = "",
    allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
):
    """A ccxt instance of the venue whose every URL points at `base_url` and whose every request
    is refused unless its host is in `allowed_hosts` (None = any host: production only)."""
    options = json.loads(json.dumps(spec.ccxt_options))
    if spec.code == "okx":
        options["brokerId"] = broker_id
    elif spec.code == "binance":
        options["broker"] = {t: broker_id for t in options.get("broker", {})}
    elif spec.code == "mexc":
        options["broker"] = broker_id
    exchange = getattr(ccxt, spec.ccxt_id)(
        {
            "apiKey": api_key,
            "secret": api_secret,
            "password": passphrase,
            "timeout": int(timeout * 1000),
            "enableRateLimit": False,  # Setka's RateLimiter (shared by every worker) decides
            "options": options,
        }
    )
    if base_url:
        exchange.urls = rewrite_urls(exchange.urls, base_url)
        exchange.hostname = urlsplit(base_url).netloc
    exchange.session.trust_env = False  # never through a proxy
    if spec.code == "kucoin":
        exchange.options["partner"] = kucoin_partner(broker_id)
    if spec.code == "mexc":
        _mexc_source(exchange, broker_id)
    if allowed_hosts is not None:
        bad = [u for u in urls_of(exchange.urls.get("api", {})) if _host(u) not in allowed_hosts]
        if bad:
            raise errors.InvalidRequest(
                f"{spec.name}: refusing to use non-allowed hosts ({len(bad)} URLs)", code="host_not_allowed"
            )
        fetch = exchange.fetch

        def guarded_fetch(url, method="GET", headers=None, body=None):
            if _host(url) not in allowed_hosts:
                raise ccxt.ExchangeNotAvailable(f"{spec.ccxt_id} refused: {_host(url)} is not an allowed host")
            return fetch(url, method, headers, body)

        exchange.fetch = guarded_fetch
    return exchange


def kucoin_partner(broker_id: str) -> dict:
    """KuCoin's partner headers (KC-API-PARTNER, KC-API-PARTNER-SIGN over timestamp + partner id
    + api key) need the partner's id and its secret: Setka's is configured as "id:secret". Set
    after the client is built, because ccxt merges options into its own defaults (ccxt's partner
    id and key), which must never be sent; an empty dict sends no partner header at all."""
    partner_id, _, partner_key = (broker_id or "").partition(":")
    if not partner_id or not partner_key:
        return {}
    return {t: {"id": partner_id, "key": partner_key} for t in ("spot", "future")}


def _mexc_source(exchange, broker_id: str) -> None:
    """MEXC's broker field is the `source` header, and ccxt sends "CCXT" whenever the option is
    empty: send Setka's id, or no header at all."""
    sign = exchange.sign

    def sign_with_source(*args, **kwargs):
        signed = sign(*args, **kwargs)
        headers = signed.get("headers")
        if isinstance(headers, dict) and "source" in headers:
            if broker_id:
                headers["source"] = broker_id
            else:
                del headers["source"]
        return signed

    exchange.sign = sign_with_source


# The venue's markets, loaded once per process and venue (and base URL) and shared by every
# client built after it within MARKETS_TTL_SECONDS (ccxt's set_markets_from_exchange): a tick or
# an account pass builds a fresh client, and each would otherwise load them again (OKX: two
# public requests per category; Binance: exchangeInfo, weight 20, plus the currencies).
MARKETS_TTL_SECONDS = 600.0
_SHARED_MARKETS: dict[tuple[str, str], tuple[float, Any]] = {}
_SHARED_MARKETS_LOCK = threading.Lock()
_MARKET_TABLES = (
    "id",
    "markets",
    "markets_by_id",
    "symbols",
    "ids",
    "currencies",
    "currencies_by_id",
    "baseCurrencies",
    "quoteCurrencies",
    "codes",
)


class CcxtClient:
    """One authenticated account on one ccxt venue (or its Setka twin)."""

    def __init__(
        self,
        *,
        venue_code: str,
        api_key: str,
        api_secret: str,
        passphrase: str = "",
        base_url: str | None = None,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff_base: float = 0.2,
        backoff_max: float = 3.0,
        limiter: RateLimiter | None = None,
        account_key: str | None = None,
        broker_id: str = "",
        allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
        fills_page_size: int = 100,
    ):
        self.spec = venue(venue_code)
        if self.spec.adapter != "ccxt":
            raise ValueError(f"{self.spec.name} is not traded through ccxt")
        if self.spec.passphrase_required and api_key and not passphrase:  # keyless: public market data
            raise errors.AuthenticationFailed(f"{self.spec.name} keys need their passphrase", code="passphrase")
        self.base_url = (base_url or "").rstrip("/")
        self.broker_id = broker_id
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        limits = dict(self.spec.rate_limits)
        self.limiter = limiter or RateLimiter(account_key=account_key or f"anon-{id(self)}", limits=limits)
        if getattr(self.limiter, "_limits", None) is None:
            self.limiter._limits = limits  # noqa: SLF001 - a limiter built without the venue's table
        self.retries = 0
        self.fills_page_size = max(1, min(100, fills_page_size))
        self._sleep = time.sleep
        self._client_ids: dict[str, str] = {}  # exchange order id -> client order id (Binance trades lack it)
        self.exchange = build_exchange(
            self.spec,
            api_key=api_key,
            api_secret=api_secret,
            passphrase=passphrase,
            base_url=base_url,
            timeout=timeout,
            broker_id=broker_id,
            allowed_hosts=allowed_hosts,
        )
        self._by_port: dict[tuple[Category, str], dict] = {}
        self._leverage: dict[str, Any] = {}

    def __repr__(self) -> str:  # never print keys
        return f"<CcxtClient {self.spec.code} {self.base_url or 'venue hosts'}>"

    # --- transport ---------------------------------------------------------------------------
    def _venue_code(self, exc: Exception) -> tuple[str | None, str]:
        text = str(exc)
        start = text.find("{")
        if start < 0:
            return None, text
        try:
            body = json.loads(text[start:])
        except ValueError:
            return None, text
        if not isinstance(body, dict):
            return None, text
        code, msg = body.get("code"), str(body.get("msg") or "")
        data = body.get("data")
        if self.spec.code == "okx" and str(code) in ("1", "2") and isinstance(data, list) and data:
            code, msg = data[0].get("sCode"), str(data[0].get("sMsg") or msg)
        return (None if code is None else str(code)), msg

    def _retry_after(self) -> float:
        headers = getattr(self.exchange, "last_response_headers", None) or {}
        for name in ("Retry-After", "retry-after"):
            if headers.get(name):
                try:
                    return max(0.05, float(headers[name]))
                except ValueError:
                    pass
        return 1.0

    def _map(self, exc: Exception, *, mutating: bool) -> errors.ExchangeError:
        code, msg = self._venue_code(exc)
        message = f"{self.spec.name}: {msg or type(exc).__name__}"
        cls: type[errors.ExchangeError] | None = None
        if code is not None:
            if self.spec.code in ("binance", "mexc") and msg in BINANCE_MESSAGES:
                cls = BINANCE_MESSAGES[msg]
            else:
                cls = self.spec.error_codes.get(code)
        if cls is None:
            if isinstance(exc, ccxt.RequestTimeout):
                cls = errors.AmbiguousOutcome if mutating else errors.TemporaryExchangeError
            elif isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
                cls = errors.RateLimited
            elif isinstance(exc, ccxt.ExchangeNotAvailable | ccxt.OnMaintenance):
                cls = errors.TemporaryExchangeError
            elif isinstance(exc, ccxt.NetworkError):
                cls = errors.AmbiguousOutcome if mutating else errors.TemporaryExchangeError
            elif isinstance(exc, ccxt.PermissionDenied):
                cls = errors.PermissionDenied
            elif isinstance(exc, ccxt.AuthenticationError | ccxt.AccountSuspended):
                cls = errors.AuthenticationFailed
            elif isinstance(exc, ccxt.InsufficientFunds):
                cls = errors.InsufficientBalance
            elif isinstance(exc, ccxt.DuplicateOrderId):
                cls = errors.DuplicateClientOrderId
            elif isinstance(exc, ccxt.OrderNotFound):
                cls = errors.OrderNotFound
            elif isinstance(exc, ccxt.InvalidOrder):
                cls = errors.InvalidOrder
            elif isinstance(exc, ccxt.BadSymbol | ccxt.BadRequest | ccxt.ArgumentsRequired | ccxt.NotSupported):
                cls = errors.InvalidRequest
            elif isinstance(exc, ccxt.InvalidNonce):
                cls = errors.TemporaryExchangeError
            elif isinstance(exc, ccxt.BaseError):
                cls = errors.ExchangeError
            else:
                raise exc
        if cls is errors.RateLimited:
            return errors.RateLimited(message, code=code, retry_after=self._retry_after())
        return cls(message, code=code)

    def _call(self, op: str, category: Category | str | None, fn, *args, mutating: bool = False, **kwargs):
        """Run one ccxt call under the limiter, retrying what is safe to retry."""
        ambiguous: errors.AmbiguousOutcome | None = None
        last: errors.ExchangeError | None = None
        cat = str(category) if category else None
        for attempt in range(self.max_attempts):
            if attempt:
                self.retries += 1
            try:
                self.limiter.acquire(op, cat)
                # ccxt's decimal_to_precision sets the thread's decimal context (rounding half up,
                # Underflow trapped) and never restores it; keep that inside the call so the
                # engine's money arithmetic in this process rounds as it was written to.
                with localcontext():
                    return fn(*args, **kwargs)
            except errors.RateLimited as exc:
                last = exc
            except errors.BudgetWait:
                raise  # nothing sent; the caller chose not to wait
            except Exception as exc:  # noqa: BLE001 - mapped; unknown types re-raised by _map
                last = self._map(exc, mutating=mutating)
                if isinstance(last, errors.RateLimited):
                    self.limiter.block_until(op, cat, time.time() + last.retry_after)
            if isinstance(last, errors.AmbiguousOutcome):
                ambiguous = last
            if ambiguous is not None and isinstance(last, errors.DuplicateClientOrderId):
                raise last
            retryable = isinstance(last, errors.TemporaryExchangeError | errors.AmbiguousOutcome)
            if not retryable or attempt == self.max_attempts - 1:
                break
            delay = min(self.backoff_max, self.backoff_base * (2**attempt)) * (0.8 + 0.4 * random.random())
            if isinstance(last, errors.RateLimited):
                if last.retry_after > self.backoff_max * 2:
                    break
                delay = max(delay, last.retry_after)
            self._sleep(delay)
        assert last is not None
        if ambiguous is not None and isinstance(last, errors.TemporaryExchangeError | errors.AmbiguousOutcome):
            raise errors.AmbiguousOutcome(
                f"{op}: the exchange may have applied the request ({last.message})", code=last.code
            ) from last
        raise last

    # --- markets -----------------------------------------------------------------------------
    def _markets(self) -> dict[tuple[Category, str], dict]:
        if not self._by_port:
            key = (self.spec.code, self.base_url)
            with _SHARED_MARKETS_LOCK:
                shared = _SHARED_MARKETS.get(key)
            if shared is not None and time.monotonic() - shared[0] < MARKETS_TTL_SECONDS:
                self.exchange.set_markets_from_exchange(shared[1])
                markets = self.exchange.markets
            else:
                markets = self._call("read", None, self.exchange.load_markets)
                helpers = list(self.exchange.options.get("marketHelperProps") or [])
                snapshot = SimpleNamespace(  # the market tables only: no keys kept beyond this client
                    **{name: getattr(self.exchange, name, None) for name in _MARKET_TABLES},
                    options={"marketHelperProps": helpers, **{h: self.exchange.options.get(h) for h in helpers}},
                )
                with _SHARED_MARKETS_LOCK:
                    _SHARED_MARKETS[key] = (time.monotonic(), snapshot)
            index = {}
            for m in markets.values():
                if m.get("spot"):
                    cat = Category.SPOT
                elif m.get("swap") and m.get("linear"):
                    cat = Category.LINEAR
                else:
                    continue
                index[(cat, f"{m['base']}{m['quote']}")] = m
            self._by_port = index
        return self._by_port

    def _market(self, category: Category | str, symbol: str) -> dict:
        category = Category(category)
        if not self.spec.supports(category):
            raise errors.InvalidRequest(
                f"{self.spec.name} does not offer {category} trading through its API", code="category"
            )
        m = self._markets().get((category, symbol))
        if m is None or not self.spec.tradable(symbol):
            raise errors.InvalidRequest(f"Unknown symbol {symbol} ({category})", code="unknown_symbol")
        return m

    @staticmethod
    def _contract(m: dict) -> Decimal:
        return D(m.get("contractSize") or 1) if m.get("contract") else Decimal(1)

    def _rules(self, category: Category, symbol: str, m: dict) -> InstrumentRules:
        ct = self._contract(m)
        limits = m.get("limits") or {}
        step = D(m["precision"]["amount"]) * ct
        min_qty = D((limits.get("amount") or {}).get("min") or 0) * ct or step
        max_qty = D((limits.get("amount") or {}).get("max") or 0) * ct or Decimal("1e9")
        min_cost = (limits.get("cost") or {}).get("min")
        lev = (limits.get("leverage") or {}).get("max")
        if lev is None and category == Category.LINEAR:
            lev = self._max_leverage(m)
        return InstrumentRules(
            symbol=symbol,
            category=category,
            base_coin=m["base"],
            quote_coin=m["quote"],
            tick_size=D(m["precision"]["price"]),
            qty_step=step,
            min_qty=min_qty,
            max_qty=max_qty,
            min_notional=D(min_cost) if min_cost else self.spec.min_notional,
            max_leverage=D(lev) if (lev and category == Category.LINEAR) else None,
            status="Trading" if m.get("active", True) else "Closed",
        )

    def _max_leverage(self, m: dict):
        """Binance lists leverage only in its brackets (the first tier has the highest). They are
        private: a keyless client (public market data) leaves the leverage unknown."""
        if not self.exchange.apiKey:
            return None
        if m["symbol"] not in self._leverage:
            tiers = self._call("read", Category.LINEAR, self.exchange.fetch_market_leverage_tiers, m["symbol"])
            self._leverage[m["symbol"]] = tiers[0].get("maxLeverage") if tiers else None
        return self._leverage[m["symbol"]]

    def instrument_rules(self, *, category: Category, symbol: str) -> InstrumentRules:
        return self._rules(Category(category), symbol, self._market(category, symbol))

    def symbols(self, *, category: Category) -> list[InstrumentRules]:
        category = Category(category)
        if not self.spec.supports(category):
            return []
        return [
            self._rules(cat, sym, m)
            for (cat, sym), m in sorted(self._markets().items())
            if cat == category and self.spec.tradable(sym)
        ]

    def ticker(self, *, category: Category, symbol: str) -> Ticker:
        m = self._market(category, symbol)
        t = self._call("read", category, self.exchange.fetch_ticker, m["symbol"])
        opt = lambda v: D(v) if v is not None else None  # noqa: E731
        return Ticker(
            symbol=symbol,
            last_price=D(t.get("last")),
            bid_price=opt(t.get("bid")),
            ask_price=opt(t.get("ask")),
            high_24h=opt(t.get("high")),
            low_24h=opt(t.get("low")),
            volume_24h=opt(t.get("baseVolume")),
            funding_rate=opt((t.get("info") or {}).get("fundingRate") or None),
        )

    def klines(self, *, category: Category, symbol: str, interval: str = "60", limit: int = 200,
               start: datetime | None = None) -> list[Kline]:
        m = self._market(category, symbol)
        timeframe = TIMEFRAMES.get(str(interval))
        if timeframe is None:
            raise errors.InvalidRequest(f"Unknown interval {interval}", code="interval")
        since = int(start.timestamp() * 1000) if start is not None else None
        if self.spec.code == "kucoin" and since is None:
            # ccxt turns a bare limit into a window ending at this machine's clock; KuCoin answers
            # the latest candles (up to 1500) when asked without a start: ask so, keep the newest
            rows = self._call("read", category, self.exchange.fetch_ohlcv, m["symbol"], timeframe, None, None)
            rows = sorted(rows, key=lambda r: r[0])[-int(limit) :]
        else:
            rows = self._call("read", category, self.exchange.fetch_ohlcv, m["symbol"], timeframe, since, int(limit))
        out = [
            Kline(
                start=datetime.fromtimestamp(r[0] / 1000, tz=UTC),
                open=D(r[1]),
                high=D(r[2]),
                low=D(r[3]),
                close=D(r[4]),
                volume=D(r[5]),
            )
            for r in rows
        ]
        return sorted(out, key=lambda k: k.start)

    def funding_rate(self, *, category: Category, symbol: str) -> Decimal | None:
        """The perpetual's current funding rate (ccxt's fetch_funding_rate; None for spot or a
        venue ccxt cannot ask)."""
        if Category(category) != Category.LINEAR or not self.exchange.has.get("fetchFundingRate"):
            return None
        m = self._market(category, symbol)
        rate = self._call("read", category, self.exchange.fetch_funding_rate, m["symbol"]).get("fundingRate")
        return D(rate) if rate is not None else None

    # --- account -----------------------------------------------------------------------------
    def balances(self) -> dict[str, Balance]:
        raw = self._call("account", None, self.exchange.fetch_balance)
        out = {}
        for coin, total in (raw.get("total") or {}).items():
            if total is None:
                continue
            used = (raw.get("used") or {}).get(coin)
            total_d = D(total)
            locked = D(used) if used is not None else total_d - D((raw.get("free") or {}).get(coin))
            out[coin] = Balance(coin=coin, total=total_d, locked=max(Decimal(0), locked))
        return out

    def fee_rates(self, *, category: Category, symbol: str) -> FeeRates:
        m = self._market(category, symbol)
        fee = self._call("account", category, self.exchange.fetch_trading_fee, m["symbol"])
        return FeeRates(maker=D(fee.get("maker")), taker=D(fee.get("taker")))

    def key_permissions(self) -> KeyPermissions:
        if self.spec.code == "okx":
            cfg = self._call("config", None, self.exchange.privateGetAccountConfig)["data"][0]
            perm = set(str(cfg.get("perm") or "").split(","))
            trade = "trade" in perm
            ips = tuple(i for i in str(cfg.get("ip") or "").split(",") if i)
            return KeyPermissions(
                read_only=not trade,
                can_trade_spot=trade,
                can_trade_linear=trade,
                can_withdraw="withdraw" in perm,
                ip_whitelist=ips,
                raw={"permissions": {"perm": sorted(perm), "ip": list(ips), "acctLv": cfg.get("acctLv")}},
            )
        if self.spec.code == "binance":
            r = self._call("config", None, self.exchange.sapiGetAccountApiRestrictions)
            spot, fut = bool(r.get("enableSpotAndMarginTrading")), bool(r.get("enableFutures"))
            expires = r.get("tradingAuthorityExpirationTime")
            return KeyPermissions(
                read_only=not (spot or fut),
                can_trade_spot=spot,
                can_trade_linear=fut,
                can_withdraw=bool(r.get("enableWithdrawals")),
                expires_at=datetime.fromtimestamp(int(expires) / 1000, tz=UTC) if expires else None,
                raw={
                    "permissions": {
                        k: r.get(k)
                        for k in (
                            "ipRestrict",
                            "enableReading",
                            "enableSpotAndMarginTrading",
                            "enableFutures",
                            "enableWithdrawals",
                        )
                    }
                },
            )
        if self.spec.code == "mexc":  # MEXC tells what a key may do only through the account
            acct = self._call("config", None, self.exchange.spotPrivateGetAccount)
            trade, withdraw = bool(acct.get("canTrade")), bool(acct.get("canWithdraw"))
            return KeyPermissions(
                read_only=not trade,
                can_trade_spot=trade,
                can_trade_linear=False,
                can_withdraw=withdraw,
                raw={
                    "permissions": {"canTrade": trade, "canWithdraw": withdraw, "permissions": acct.get("permissions")}
                },
            )
        if self.spec.code == "kucoin":  # /api/v1/user/api-key: permission "General,Spot,..."
            info = self._call("config", None, self.exchange.privateGetUserApiKey).get("data") or {}
            perm = {p.strip() for p in str(info.get("permission") or "").split(",") if p.strip()}
            ips = tuple(i for i in str(info.get("ipWhitelist") or "").split(",") if i)
            spot = "Spot" in perm
            return KeyPermissions(
                read_only=not spot,
                can_trade_spot=spot,
                can_trade_linear=False,
                can_withdraw="Withdraw" in perm,
                ip_whitelist=ips,
                raw={"permissions": {"permission": sorted(perm), "ipWhitelist": list(ips)}},
            )
        raise errors.InvalidRequest(f"Key checks for {self.spec.name} are not implemented", code="not_supported")

    # --- orders ------------------------------------------------------------------------------
    def _amount(self, m: dict, qty: Decimal) -> str:
        return _plain(Decimal(qty) / self._contract(m))

    def _order_params(self, order: PlaceOrder, m: dict) -> dict:
        if not self.spec.client_id_ok(order.client_order_id):
            raise errors.InvalidOrder(
                f"client_order_id must match {self.spec.client_id_pattern} on {self.spec.name}", code="client_order_id"
            )
        params: dict[str, Any] = {"clientOrderId": order.client_order_id}
        if order.order_type == OrderType.LIMIT:
            if order.time_in_force == TimeInForce.POST_ONLY:
                params["postOnly"] = True
            elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                params["timeInForce"] = str(order.time_in_force)
        if order.reduce_only:
            params["reduceOnly"] = True
        if self.spec.code == "okx":
            if m.get("contract"):
                params["marginMode"] = "cross"
            elif order.order_type == OrderType.MARKET:
                params["tgtCcy"] = "base_ccy"  # the port's qty is in the base coin
            if self.broker_id:
                params["tag"] = self.broker_id
        return params

    def place_order(self, order: PlaceOrder) -> PlacedOrder:
        m = self._market(order.category, order.symbol)
        if order.order_type == OrderType.MARKET and not self.spec.market_orders_via_api:
            raise errors.InvalidOrder(f"{self.spec.name} does not accept market orders from the API", code="market")
        if order.order_type == OrderType.LIMIT and order.price is None:
            raise errors.InvalidOrder("A limit order needs a price", code="price")
        params = self._order_params(order, m)
        self._check_increments(order, m)
        price = _plain(order.price) if order.order_type == OrderType.LIMIT and order.price is not None else None
        try:
            created = self._call(
                "create",
                order.category,
                self.exchange.create_order,
                m["symbol"],
                "limit" if order.order_type == OrderType.LIMIT else "market",
                "buy" if order.side == Side.BUY else "sell",
                self._amount(m, order.qty),
                price,
                params,
                mutating=True,
            )
        except errors.DuplicateClientOrderId:
            found = self.order_by_client_id(
                category=order.category, symbol=order.symbol, client_order_id=order.client_order_id
            )
            if found is None:
                raise
            return PlacedOrder(order_id=found.order_id, client_order_id=order.client_order_id)
        except errors.AmbiguousOutcome:
            found = self._lookup_quietly(order)
            if found is None:
                raise
            return PlacedOrder(order_id=found.order_id, client_order_id=order.client_order_id)
        order_id = str(created.get("id") or "")
        self._client_ids[order_id] = order.client_order_id
        return PlacedOrder(order_id=order_id, client_order_id=order.client_order_id)

    def _check_increments(self, order: PlaceOrder, m: dict) -> None:
        """ccxt would silently round a price or quantity to the market's precision; the port
        promises the order as given or InvalidOrder, so off-tick and off-step values stop here."""
        rules = self._rules(Category(order.category), order.symbol, m)
        if order.qty <= 0 or order.qty % rules.qty_step:
            raise errors.InvalidOrder(f"Quantity {order.qty} is not a multiple of {rules.qty_step}", code="qty_step")
        if order.price is not None and (order.price <= 0 or order.price % rules.tick_size):
            raise errors.InvalidOrder(f"Price {order.price} is not a multiple of {rules.tick_size}", code="tick_size")

    def _lookup_quietly(self, order: PlaceOrder) -> ExchangeOrder | None:
        try:
            return self.order_by_client_id(
                category=order.category, symbol=order.symbol, client_order_id=order.client_order_id
            )
        except errors.ExchangeError:
            return None

    def place_orders(self, orders: Sequence[PlaceOrder]) -> list[BatchItemResult]:
        """Several orders at once: OKX through `/api/v5/trade/batch-orders` (up to
        `batch_create` per request, results per item), the other venues one by one. An item
        refused does not fail the rest; a duplicate or an unknown outcome is settled by looking
        the client order id up."""
        if self.spec.code == "okx" and self.spec.batch_create > 1:
            return self._place_batches(orders)
        out = []
        for n, order in enumerate(orders):
            try:
                out.append(BatchItemResult(client_order_id=order.client_order_id, placed=self.place_order(order)))
            except errors.BudgetWait as wait:
                if not out:
                    raise
                return out + not_sent(orders[n:], wait)  # the ones before were placed: their results stand
            except errors.AmbiguousOutcome:
                raise
            except errors.ExchangeError as exc:
                out.append(BatchItemResult(client_order_id=order.client_order_id, error=exc))
        return out

    def _place_batches(self, orders: Sequence[PlaceOrder]) -> list[BatchItemResult]:
        results: dict[str, BatchItemResult] = {}
        ready: list[tuple[PlaceOrder, dict]] = []
        for order in orders:
            try:
                m = self._market(order.category, order.symbol)
                if order.order_type == OrderType.MARKET and not self.spec.market_orders_via_api:
                    raise errors.InvalidOrder(f"{self.spec.name} does not accept market orders from the API", code="market")
                if order.order_type == OrderType.LIMIT and order.price is None:
                    raise errors.InvalidOrder("A limit order needs a price", code="price")
                params = self._order_params(order, m)
                self._check_increments(order, m)
                price = _plain(order.price) if order.order_type == OrderType.LIMIT and order.price is not None else None
                with localcontext():
                    request = self.exchange.create_order_request(
                        m["symbol"],
                        "limit" if order.order_type == OrderType.LIMIT else "market",
                        "buy" if order.side == Side.BUY else "sell",
                        self._amount(m, order.qty),
                        price,
                        params,
                    )
                ready.append((order, request))
            except errors.ExchangeError as exc:
                results[order.client_order_id] = BatchItemResult(client_order_id=order.client_order_id, error=exc)
        size = self.spec.batch_create
        for start in range(0, len(ready), size):
            try:
                results.update(self._place_batch(ready[start : start + size]))
            except errors.BudgetWait as wait:
                if not start:
                    raise
                results.update((r.client_order_id, r) for r in not_sent((o for o, _ in ready[start:]), wait))
                break  # the batches before were sent
        return [results[o.client_order_id] for o in orders]

    def _batch_request(self, requests: list[dict]) -> dict:
        """OKX answers a batch whose every item failed with code "1" (ccxt raises on it); the
        items still carry their own sCode, so that answer is returned like a partial one."""
        try:
            return self.exchange.privatePostTradeBatchOrders(requests)
        except ccxt.ExchangeError as exc:
            text = str(exc)
            try:
                body = json.loads(text[text.index("{") :])
            except ValueError:
                raise exc from None
            if isinstance(body, dict) and str(body.get("code")) == "1" and body.get("data"):
                return body
            raise

    def _place_batch(self, chunk: list[tuple[PlaceOrder, dict]]) -> dict[str, BatchItemResult]:
        out: dict[str, BatchItemResult] = {}
        category = chunk[0][0].category
        try:
            body = self._call("create", category, self._batch_request, [r for _, r in chunk], mutating=True)
            items = {str(i.get("clOrdId") or ""): i for i in (body.get("data") or []) if isinstance(i, dict)}
        except errors.AmbiguousOutcome:
            items = {}
        except errors.ExchangeError as exc:
            for order, _ in chunk:
                out[order.client_order_id] = BatchItemResult(client_order_id=order.client_order_id, error=exc)
            return out
        for order, _ in chunk:
            item = items.get(order.client_order_id)
            code = str(item.get("sCode")) if item is not None else None
            if item is not None and code == "0" and item.get("ordId"):
                order_id = str(item["ordId"])
                self._client_ids[order_id] = order.client_order_id
                placed = PlacedOrder(order_id=order_id, client_order_id=order.client_order_id)
                out[order.client_order_id] = BatchItemResult(client_order_id=order.client_order_id, placed=placed)
                continue
            cls = self.spec.error_codes.get(code or "", errors.OrderRejected) if item is not None else None
            if cls is None or issubclass(cls, errors.DuplicateClientOrderId | errors.TemporaryExchangeError):
                found = self._lookup_quietly(order)  # the outcome is unknown, or it is already there
                if found is not None:
                    placed = PlacedOrder(order_id=found.order_id, client_order_id=order.client_order_id)
                    out[order.client_order_id] = BatchItemResult(client_order_id=order.client_order_id, placed=placed)
                    continue
                if cls is None:
                    cls = errors.AmbiguousOutcome
            message = f"{self.spec.name}: {(item or {}).get('sMsg') or 'no answer for this order'}"
            out[order.client_order_id] = BatchItemResult(client_order_id=order.client_order_id, error=cls(message, code=code))
        return out

    def cancel_order(self, *, category: Category, symbol: str, client_order_id: str) -> None:
        m = self._market(category, symbol)
        self._call(
            "cancel",
            category,
            self.exchange.cancel_order,
            None,
            m["symbol"],
            {"clientOrderId": client_order_id},
            mutating=True,
        )

    def cancel_orders(
        self, *, category: Category, symbol: str, client_order_ids: Sequence[str]
    ) -> list[CancelItemResult]:
        """Several cancels at once: OKX through `/api/v5/trade/cancel-batch-orders` (ccxt's
        privatePostTradeCancelBatchOrders, the request its cancel_orders sends for clientOrderIds;
        called directly because cancel_orders drops the refused items from its answer), up to
        `batch_cancel` per request, a result per item from its sCode; the other venues one by
        one. A batch whose outcome is unknown gives AmbiguousOutcome for each of its items (the
        caller asks their state)."""
        size = self.spec.batch_cancel
        if self.spec.code != "okx" or size <= 1:
            return cancel_orders_one_by_one(self, category=category, symbol=symbol, client_order_ids=client_order_ids)
        m = self._market(category, symbol)
        ids = list(client_order_ids)
        out: list[CancelItemResult] = []
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            try:
                items = self._call("cancel", category, self._cancel_batch_request, m["id"], chunk, mutating=True)
            except errors.AmbiguousOutcome as exc:
                out.extend(CancelItemResult(client_order_id=cid, error=exc) for cid in chunk)
                continue
            for cid in chunk:
                item = items.get(cid)
                code = str(item.get("sCode")) if item is not None else None
                if code == "0":
                    out.append(CancelItemResult(client_order_id=cid))
                    continue
                if item is None:
                    error: errors.ExchangeError = errors.AmbiguousOutcome(
                        f"{self.spec.name}: no answer for this order", code="batch_missing"
                    )
                else:
                    cls = self.spec.error_codes.get(code or "", errors.OrderRejected)
                    error = cls(f"{self.spec.name}: {item.get('sMsg') or 'cancel refused'}", code=code)
                out.append(CancelItemResult(client_order_id=cid, error=error))
        return out

    def _cancel_batch_request(self, inst_id: str, client_order_ids: list[str]) -> dict[str, dict]:
        """{clOrdId: OKX item} of one cancel-batch-orders request. OKX answers a batch whose every
        item failed with code "1" (ccxt raises on it); its items still carry their own sCode."""
        try:
            body = self.exchange.privatePostTradeCancelBatchOrders(
                [{"instId": inst_id, "clOrdId": cid} for cid in client_order_ids]
            )
        except ccxt.ExchangeError as exc:
            text = str(exc)
            try:
                body = json.loads(text[text.index("{") :])
            except ValueError:
                raise exc from None
            if not (isinstance(body, dict) and str(body.get("code")) == "1" and body.get("data")):
                raise
        data = [i for i in (body.get("data") or []) if isinstance(i, dict)]
        return {str(i.get("clOrdId") or ""): i for i in data}

    def cancel_all(self, *, category: Category, symbol: str) -> list[str]:
        cancelled = []
        for order in self.open_orders(category=category, symbol=symbol):
            m = self._market(category, symbol)
            try:
                self._call("cancel", category, self.exchange.cancel_order, order.order_id, m["symbol"], mutating=True)
            except errors.OrderNotFound:
                continue
            cancelled.append(order.client_order_id or order.order_id)
        return cancelled

    def _parse_order(self, o: dict, category: Category, symbol: str, m: dict) -> ExchangeOrder:
        ct = self._contract(m)
        filled = D(o.get("filled")) * ct
        amount = D(o.get("amount")) * ct
        status = STATUS.get(o.get("status") or "open", ExchangeOrderStatus.NEW)
        if status == ExchangeOrderStatus.NEW and filled > 0:
            status = ExchangeOrderStatus.PARTIALLY_FILLED
        if status == ExchangeOrderStatus.CANCELLED and filled > 0:
            status = ExchangeOrderStatus.PARTIALLY_FILLED_CANCELLED
        created = o.get("timestamp") or 0
        updated = o.get("lastUpdateTimestamp") or o.get("lastTradeTimestamp") or created
        cid = str(o.get("clientOrderId") or "")
        if cid:
            self._client_ids[str(o.get("id"))] = cid
        return ExchangeOrder(
            order_id=str(o.get("id") or ""),
            client_order_id=cid,
            category=category,
            symbol=symbol,
            side=Side.BUY if o.get("side") == "buy" else Side.SELL,
            order_type=OrderType.MARKET if o.get("type") == "market" else OrderType.LIMIT,
            price=D(o["price"]) if o.get("price") else None,
            qty=amount,
            filled_qty=filled,
            avg_price=D(o["average"]) if o.get("average") else None,
            status=status,
            created_at=datetime.fromtimestamp(created / 1000, tz=UTC),
            updated_at=datetime.fromtimestamp(updated / 1000, tz=UTC),
        )

    def open_orders(self, *, category: Category, symbol: str) -> list[ExchangeOrder]:
        m = self._market(category, symbol)
        rows = self._call("read", category, self.exchange.fetch_open_orders, m["symbol"])
        return [o for o in (self._parse_order(r, Category(category), symbol, m) for r in rows) if o.status.is_open]

    def order_by_client_id(self, *, category: Category, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        m = self._market(category, symbol)
        try:
            row = self._call(
                "read", category, self.exchange.fetch_order, None, m["symbol"], {"clientOrderId": client_order_id}
            )
        except errors.OrderNotFound:
            return None
        return self._parse_order(row, Category(category), symbol, m)

    def _client_id_of(self, order_id: str, category: Category, m: dict) -> str:
        if order_id not in self._client_ids:
            try:
                row = self._call("read", category, self.exchange.fetch_order, order_id, m["symbol"])
                self._client_ids[order_id] = str(row.get("clientOrderId") or "")
            except errors.OrderNotFound:
                self._client_ids[order_id] = ""
        return self._client_ids[order_id]

    def fills(
        self, *, category: Category, symbol: str, since: datetime | None = None, cursor: str | None = None
    ) -> FillPage:
        """One page of executions. The cursor is the venue's own: OKX pages back by billId
        (`after`), Binance forward by trade id (`fromId`)."""
        category = Category(category)
        m = self._market(category, symbol)
        params: dict[str, Any] = {}
        since_ms = int(since.timestamp() * 1000) if since is not None else None
        if self.spec.code == "kucoin":  # pages by number, newest first
            params = {"currentPage": int(cursor or 1), "pageSize": self.fills_page_size}
        elif cursor:
            params["after" if self.spec.code == "okx" else "fromId"] = cursor
            if self.spec.code != "okx":
                since_ms = None
        elif since_ms is None and self.spec.code != "okx":
            params["fromId"] = 0  # Binance pages forward from a start: the first trade
        rows = self._call(
            "fills", category, self.exchange.fetch_my_trades, m["symbol"], since_ms, self.fills_page_size, params
        )
        fills = [self._fill(t, category, symbol, m) for t in rows]
        return FillPage(fills=fills, next_cursor=self._fills_cursor(rows, cursor))

    def _fill(self, t: dict, category: Category, symbol: str, m: dict) -> Fill:
        info = t.get("info") or {}
        order_id = str(t.get("order") or "")
        cid = str(info.get("clOrdId") or info.get("clientOrderId") or "") or self._client_id_of(order_id, category, m)
        fee = t.get("fee") or {}
        return Fill(
            exec_id=f"{self.spec.code}-{category}-{m['id']}-{t['id']}",  # unique across venues and wallets
            order_id=order_id,
            client_order_id=cid,
            category=category,
            symbol=symbol,
            side=Side.BUY if t.get("side") == "buy" else Side.SELL,
            price=D(t.get("price")),
            qty=D(t.get("amount")) * self._contract(m),
            fee=D(fee.get("cost")),
            fee_coin=str(fee.get("currency") or ""),
            is_maker=t.get("takerOrMaker") == "maker",
            executed_at=datetime.fromtimestamp((t.get("timestamp") or 0) / 1000, tz=UTC),
            seq=int(t["id"]) if str(t.get("id") or "").isdigit() else None,  # the venue's trade id
        )

    def _fills_cursor(self, rows: list[dict], cursor: str | None) -> str | None:
        next_cursor = None
        if len(rows) >= self.fills_page_size:
            if self.spec.code == "okx":
                bills = [str((t.get("info") or {}).get("billId") or "") for t in rows]
                next_cursor = min((b for b in bills if b.isdigit()), key=int, default=None)  # numbers, not text
            elif self.spec.code == "kucoin":
                next_cursor = str(int(cursor or 1) + 1)
            else:
                next_cursor = str(max(int(t["id"]) for t in rows) + 1)
        return next_cursor

    # --- account-wide reads (the account pass) -----------------------------------------------
    def _port_market(self, category: Category, unified: str | None) -> tuple[str, dict] | None:
        """(port symbol, market) of a ccxt unified symbol in `category`, or None."""
        m = (self.exchange.markets or {}).get(unified or "")
        if m is None:
            return None
        cat = Category.SPOT if m.get("spot") else Category.LINEAR if m.get("swap") and m.get("linear") else None
        return (f"{m['base']}{m['quote']}", m) if cat == category else None

    def _scope(self, category: Category, key: str) -> dict:
        """The venue's parameter that narrows a symbol-less read to one category."""
        if self.spec.code != "okx":
            return {}
        if key == "instType":
            return {"instType": "SWAP" if category == Category.LINEAR else "SPOT"}
        return {"type": "swap" if category == Category.LINEAR else "spot"}

    def account_open_orders(self, *, category: Category, symbols: Sequence[str]) -> list[ExchangeOrder]:
        category = Category(category)
        if not self.spec.account_reads:
            return [o for symbol in sorted(set(symbols)) for o in self.open_orders(category=category, symbol=symbol)]
        self._markets()
        out: list[ExchangeOrder] = []
        page_params: dict[str, Any] = {}
        for page in range(1, 21):  # OKX pages back by ordId (100 a page), KuCoin by page number
            if self.spec.code == "kucoin":
                page_params = {"currentPage": page, "pageSize": 500}
            rows = self._call(
                "read",
                category,
                self.exchange.fetch_open_orders,
                None,
                None,
                None,
                {**self._scope(category, "instType"), **page_params},
            )
            for r in rows:
                found = self._port_market(category, r.get("symbol"))
                if found is not None:
                    order = self._parse_order(r, category, found[0], found[1])
                    if order.status.is_open:
                        out.append(order)
            full = len(rows) >= (500 if self.spec.code == "kucoin" else 100)
            if not full:
                break
            if self.spec.code == "okx":
                page_params = {"after": min(str(r.get("id")) for r in rows)}
        return out

    def account_fills(
        self,
        *,
        category: Category,
        symbols: Sequence[str],
        since: datetime | None = None,
        cursor: str | None = None,
    ) -> FillPage:
        category = Category(category)
        if not self.spec.account_reads:
            return per_symbol_fills(
                lambda **kw: self.fills(category=category, **kw), symbols=symbols, since=since, cursor=cursor
            )
        self._markets()
        params: dict[str, Any] = dict(self._scope(category, "type"))
        since_ms = int(since.timestamp() * 1000) if since is not None else None
        if self.spec.code == "kucoin":
            params |= {"currentPage": int(cursor or 1), "pageSize": self.fills_page_size}
        elif cursor:
            params["after"] = cursor
        rows = self._call(
            "fills", category, self.exchange.fetch_my_trades, None, since_ms, self.fills_page_size, params
        )
        fills = []
        for t in rows:
            found = self._port_market(category, t.get("symbol"))
            if found is not None:
                fills.append(self._fill(t, category, found[0], found[1]))
        return FillPage(fills=fills, next_cursor=self._fills_cursor(rows, cursor))

    def funding_payments(
        self, *, category: Category, symbol: str, since: datetime | None = None, cursor: str | None = None
    ) -> FundingPage:
        """One page of the account's funding settlements of `symbol`'s perpetual.

        - OKX: `/api/v5/account/bills` type 8 (balChg signed as it moved the wallet, `sz` the
          position in contracts), newest first, paged back by billId (`after`); the rate from
          `/api/v5/public/funding-rate-history` at the bill's time; mark = |amount| / (qty × |rate|).
        - Binance USDⓈ-M: `/fapi/v1/income` incomeType FUNDING_FEE, oldest first from
          startTime (the cursor: the last row's time + 1 ms); rate and mark price from
          `/fapi/v1/fundingRate`; the position = |amount| / (mark × |rate|).
        Other venues offer no perpetuals through their API here: NotSupported (spot: empty)."""
        category = Category(category)
        if category == Category.SPOT:
            return FundingPage(payments=[])
        if self.spec.code not in ("okx", "binance"):
            raise errors.NotSupported(f"Funding history is not supported on {self.spec.code}", code="not_supported")
        m = self._market(category, symbol)
        since_ms = int(since.timestamp() * 1000) if since is not None else None
        if self.spec.code == "okx":
            return self._okx_funding(m, symbol, since_ms, cursor)
        return self._binance_funding(m, symbol, since_ms, cursor)

    @staticmethod
    def _rate_at(settlements: list[tuple[int, Decimal, Decimal | None]], ts: int):
        """The settlement a payment at `ts` belongs to: the latest at or before it (within 1 h)."""
        best = None
        for when, rate, mark in settlements:
            if when <= ts and ts - when <= 3_600_000 and (best is None or when > best[0]):
                best = (when, rate, mark)
        return best

    def _okx_funding(self, m: dict, symbol: str, since_ms: int | None, cursor: str | None) -> FundingPage:
        params: dict[str, Any] = {"instType": "SWAP", "type": "8", "instId": m["id"], "limit": str(self.fills_page_size)}
        if cursor:
            params["after"] = cursor
        if since_ms is not None:
            params["begin"] = str(since_ms)
        rows = self._call("account", Category.LINEAR, self.exchange.privateGetAccountBills, params).get("data") or []
        rates: list[tuple[int, Decimal, Decimal | None]] = []
        if rows:
            oldest = min(int(r.get("ts") or 0) for r in rows)
            history = self._call(
                "read",
                Category.LINEAR,
                self.exchange.publicGetPublicFundingRateHistory,
                {"instId": m["id"], "before": str(oldest - 3_600_000 - 1), "limit": "100"},
            ).get("data") or []
            rates = [(int(h["fundingTime"]), D(h.get("realizedRate") or h.get("fundingRate")), None) for h in history]
        ct = self._contract(m)
        payments = [
            self._funding_payment(
                venue_id=f"okx-bill-{r['billId']}",
                symbol=symbol,
                coin=str(r.get("ccy") or m["settle"] or m["quote"]),
                amount=D(r.get("balChg")),
                ts=int(r.get("ts") or 0),
                rates=rates,
                qty=abs(D(r.get("sz"))) * ct,
            )
            for r in rows
        ]
        next_cursor = min((str(r["billId"]) for r in rows), key=int) if len(rows) >= self.fills_page_size else None
        return FundingPage(payments=payments, next_cursor=next_cursor)

    def _funding_payment(
        self,
        *,
        venue_id: str,
        symbol: str,
        coin: str,
        amount: Decimal,
        ts: int,
        rates: list[tuple[int, Decimal, Decimal | None]],
        qty: Decimal | None = None,
    ) -> FundingPayment:
        """One settlement from a venue's row, with the rate in force at `ts` from the venue's rate
        history. Each venue leaves one figure out, worked back from amount = qty x mark x rate:
        OKX's bill has the position size (`qty`), not the mark; Binance's income has neither, but
        its rate history carries the mark price."""
        found = self._rate_at(rates, ts)
        rate = found[1] if found else Decimal(0)
        if qty is None:
            mark = (found[2] if found else None) or Decimal(0)
            qty = abs(amount) / (mark * abs(rate)) if mark and rate else Decimal(0)
        else:
            mark = abs(amount) / (qty * abs(rate)) if qty and rate else Decimal(0)
        return FundingPayment(
            venue_id=venue_id,
            symbol=symbol,
            amount=amount,
            coin=coin,
            rate=rate,
            position_qty=qty,
            mark_price=mark,
            paid_at=datetime.fromtimestamp(ts / 1000, tz=UTC),
        )

    def _binance_funding(self, m: dict, symbol: str, since_ms: int | None, cursor: str | None) -> FundingPage:
        start = int(cursor) if cursor else since_ms
        params: dict[str, Any] = {"symbol": m["id"], "incomeType": "FUNDING_FEE", "limit": self.fills_page_size}
        if start is not None:
            params["startTime"] = start
        rows = self._call("account", Category.LINEAR, self.exchange.fapiPrivateGetIncome, params) or []
        rates: list[tuple[int, Decimal, Decimal | None]] = []
        if rows:
            first = min(int(r.get("time") or 0) for r in rows)
            history = self._call(
                "read",
                Category.LINEAR,
                self.exchange.fapiPublicGetFundingRate,
                {"symbol": m["id"], "startTime": first - 3_600_000, "limit": 1000},
            ) or []
            rates = [(int(h["fundingTime"]), D(h.get("fundingRate")), D(h.get("markPrice"))) for h in history]
        payments = [
            self._funding_payment(
                venue_id=f"binance-income-{r['tranId']}",
                symbol=symbol,
                coin=str(r.get("asset") or m["settle"] or m["quote"]),
                amount=D(r.get("income")),
                ts=int(r.get("time") or 0),
                rates=rates,
            )
            for r in rows
        ]
        next_cursor = str(max(int(r.get("time") or 0) for r in rows) + 1) if len(rows) >= self.fills_page_size else None
        return FundingPage(payments=payments, next_cursor=next_cursor)

    def positions(self, *, category: Category, symbol: str) -> list[Position]:
        if Category(category) == Category.SPOT:
            return []
        m = self._market(category, symbol)
        rows = self._call("account", category, self.exchange.fetch_positions, [m["symbol"]])
        ct = self._contract(m)
        out = []
        for p in rows:
            size = D(p.get("contracts")) * ct
            if not size:
                continue
            out.append(
                Position(
                    symbol=symbol,
                    side=Side.BUY if p.get("side") == "long" else Side.SELL,
                    size=size,
                    avg_price=D(p.get("entryPrice")),
                    leverage=D(p.get("leverage") or 1),
                    mark_price=D(p.get("markPrice")),
                    unrealized_pnl=D(p.get("unrealizedPnl")),
                    liq_price=D(p["liquidationPrice"]) if p.get("liquidationPrice") else None,
                )
            )
        if not out:
            out.append(
                Position(
                    symbol=symbol,
                    side=None,
                    size=Decimal(0),
                    avg_price=Decimal(0),
                    leverage=Decimal(0),
                    mark_price=Decimal(0),
                    unrealized_pnl=Decimal(0),
                    liq_price=None,
                )
            )
        return out

    def set_leverage(self, *, category: Category, symbol: str, leverage: Decimal) -> None:
        m = self._market(category, symbol)
        params = {"mgnMode": "cross"} if self.spec.code == "okx" else {}
        self._call(
            "config", category, self.exchange.set_leverage, int(Decimal(leverage)), m["symbol"], params, mutating=True
        )


# --- private stream ----------------------------------------------------------------------------
# the ccxt venues whose private order stream Setka holds (the registry's `private_stream`)
STREAM_VENUES = frozenset(code for code, v in VENUES.items() if v.adapter == "ccxt" and v.private_stream)


class CcxtPrivateStream:
    """The private order stream of one account on a ccxt venue, through ccxt.pro's
    `watch_orders` (OKX: `/ws/v5/private` login + `orders` channel, every instrument type;
    KuCoin: the socket `POST /api/v1/bullet-private` hands out, topic `/spotMarket/tradeOrders`;
    Binance spot: the WebSocket API's `userDataStream.subscribe.signature` and its
    `executionReport` events; Binance USDⓈ-M: the listenKey from `POST /fapi/v1/listenKey` and its
    `ORDER_TRADE_UPDATE` events), mapped onto
    the port's stream interface as Bybit's is: `on_event("order", [item])` for every order
    change and `on_event("execution", [item])` when an order's filled amount grew, each item
    carrying `orderLinkId` (the client order id, which names the bot). Fills themselves are
    stored by the bot's REST reconciliation, keyed by exec_id, so a pushed fill is stored once.

    A dropped socket is reconnected (ccxt opens a new one, logs in and subscribes again) with
    a capped backoff; `on_reconnect()` runs after every reconnect so the caller resyncs by REST
    (pushes during the gap are lost). A refused key sets `auth_failed` and stops the stream.
    One daemon thread with its own asyncio loop per stream; `close()` ends it."""

    def __init__(
        self,
        *,
        venue_code: str,
        api_key: str,
        api_secret: str,
        passphrase: str = "",
        base_url: str | None,
        on_event,
        on_reconnect=None,
        broker_id: str = "",
        allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
        timeout: float = 10.0,
        backoff_max: float = 5.0,
    ):
        import asyncio

        self.spec = venue(venue_code)
        if self.spec.code not in STREAM_VENUES:
            raise ValueError(f"{self.spec.name}: no private stream (Setka polls it by REST)")
        self._on_event = on_event
        self._on_reconnect = on_reconnect
        self.backoff_max = backoff_max
        self.reconnects = 0
        self.events_received = 0
        self.auth_failed = False
        self._ready = threading.Event()  # every stream of the venue subscribed
        self._kind_ready: dict[str, threading.Event] = {}
        self._stopped = threading.Event()
        self._filled: dict[str, Decimal] = {}  # order id -> filled amount last seen
        self._loop = asyncio.new_event_loop()
        self.exchange = self._build(api_key, api_secret, passphrase, base_url, broker_id, allowed_hosts, timeout)
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"ccxt-stream-{venue_code}")
        self._thread.start()

    def __repr__(self) -> str:
        return f"<CcxtPrivateStream {self.spec.code}>"

    def _build(self, api_key, api_secret, passphrase, base_url, broker_id, allowed_hosts, timeout):
        import ccxt.pro as ccxtpro

        options = json.loads(json.dumps(self.spec.ccxt_options))
        if self.spec.code == "okx":
            options["brokerId"] = broker_id
        elif self.spec.code == "binance":
            options["broker"] = {t: broker_id for t in options.get("broker", {})}
        exchange = getattr(ccxtpro, self.spec.ccxt_id)(
            {
                "apiKey": api_key,
                "secret": api_secret,
                "password": passphrase,
                "timeout": int(timeout * 1000),
                "enableRateLimit": False,
                "options": options,
                "aiohttp_trust_env": False,  # never through a proxy
                "asyncio_loop": self._loop,
            }
        )
        if base_url:
            exchange.urls = rewrite_urls(exchange.urls, base_url)
            exchange.hostname = urlsplit(base_url).netloc
        if self.spec.code == "kucoin":
            exchange.options["partner"] = kucoin_partner(broker_id)
        if allowed_hosts is not None:
            bad = [u for u in urls_of(exchange.urls.get("api", {})) if _host(u) not in allowed_hosts]
            if bad:
                raise errors.InvalidRequest(
                    f"{self.spec.name}: refusing to use non-allowed hosts ({len(bad)} URLs)", code="host_not_allowed"
                )
            fetch, client = exchange.fetch, exchange.client

            async def guarded_fetch(url, method="GET", headers=None, body=None):
                if _host(url) not in allowed_hosts:
                    raise ccxt.ExchangeNotAvailable(f"{self.spec.ccxt_id} refused: {_host(url)} is not allowed")
                return await fetch(url, method, headers, body)

            def guarded_client(url):
                # ccxt also keys bookkeeping clients by plain names ("authenticationFlights"):
                # only a URL can open a socket
                if "://" in str(url) and _host(url) not in allowed_hosts:
                    raise ccxt.ExchangeNotAvailable(f"{self.spec.ccxt_id} refused: {_host(url)} is not allowed")
                return client(url)

            exchange.fetch = guarded_fetch
            exchange.client = guarded_client
        return exchange

    # --- the loop ------------------------------------------------------------------------------
    def _run(self) -> None:
        import asyncio

        asyncio.set_event_loop(self._loop)
        self._main_task = self._loop.create_task(self._main())
        try:
            self._loop.run_until_complete(self._main_task)
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001
            logger.exception("%s private stream ended", self.spec.name)
        finally:
            try:
                self._loop.run_until_complete(self.exchange.close())
            except Exception:  # noqa: BLE001
                pass
            self._loop.close()

    def _kinds(self) -> dict[str, dict]:
        """The venue's order streams and the watch_orders parameters of each: OKX one channel
        for every instrument type; Binance the spot WebSocket API and, where USDⓈ-M futures
        are offered, the futures user data stream (listenKey)."""
        if self.spec.code == "kucoin":  # the bullet-private socket's /spotMarket/tradeOrders
            return {"kucoin": {"type": "spot"}}
        if self.spec.code == "binance":
            kinds = {"spot": {"type": "spot"}}
            if self.spec.supports(Category.LINEAR):
                kinds["linear"] = {"type": "swap", "subType": "linear"}
            return kinds
        return {"any": {"type": "ANY"}}

    async def _subscribed(self, kind: str, params: dict) -> bool:
        """True once the venue accepted the key and the order subscription is on the wire."""
        import asyncio

        if kind == "kucoin":
            # the socket's URL carries the token from POST /api/v1/bullet-private; subscribed
            # once the twin (or KuCoin) acked the topic: ccxt then drops the request id entry
            url = await self.exchange.negotiate(True, False)
            topic = "/spotMarket/tradeOrders"
            for _ in range(500):
                client = self.exchange.clients.get(url)
                subs = client.subscriptions if client is not None else {}
                if topic in subs and not any(v == topic for k, v in subs.items() if k != topic):
                    return True
                await asyncio.sleep(0.01)
            return False
        if kind == "spot":
            await self.exchange.authenticate({"type": "spot"})  # resolves on the subscriptionId
            return True
        if kind == "linear":
            await self.exchange.authenticate(dict(params))
            url = self.exchange.get_private_ws_url("linear", self.exchange.options["linear"]["listenKey"])
            for _ in range(500):  # the stream is the listenKey's URL itself: subscribed once connected
                client = self.exchange.clients.get(url)
                if client is not None and client.connected.done() and not client.connected.exception():
                    return True
                await asyncio.sleep(0.01)
            return False
        await self.exchange.authenticate({"access": "private"})
        url = self.exchange.get_url("orders", "private")
        for _ in range(200):
            client = self.exchange.clients.get(url)
            if client is not None and "orders" in client.subscriptions:
                return True
            await asyncio.sleep(0.01)
        return False

    async def _main(self) -> None:
        import asyncio

        kinds = self._kinds()
        self._kind_ready = {kind: threading.Event() for kind in kinds}
        await asyncio.gather(*(self._watch_loop(kind, params) for kind, params in kinds.items()))

    def _all_ready(self) -> None:
        if all(e.is_set() for e in self._kind_ready.values()):
            self._ready.set()

    async def _watch_loop(self, kind: str, params: dict) -> None:
        import asyncio

        ready = self._kind_ready[kind]
        attempt, connected_once = 0, False
        while not self._stopped.is_set():
            watch = asyncio.ensure_future(self.exchange.watch_orders(None, None, None, dict(params)))
            try:
                done, _ = await asyncio.wait({watch}, timeout=0.05)
                if not done and await asyncio.wait_for(self._subscribed(kind, params), timeout=10):
                    ready.set()
                    self._all_ready()
                    if connected_once:
                        self.reconnects += 1
                        self._reconnected()
                    connected_once, attempt = True, 0
                while not self._stopped.is_set():
                    orders = await watch
                    self._emit(orders)
                    watch = asyncio.ensure_future(self.exchange.watch_orders(None, None, None, dict(params)))
            except ccxt.AuthenticationError:
                self.auth_failed = True
                logger.error("%s private stream: authentication refused", self.spec.name)
                self._stopped.set()
            except Exception as exc:  # noqa: BLE001 - a dropped socket: reconnect
                if self._stopped.is_set():
                    break
                logger.info("%s %s private stream dropped (%r); reconnecting", self.spec.name, kind, exc)
            finally:
                if not watch.done():
                    watch.cancel()
                elif not watch.cancelled():
                    watch.exception()  # retrieved: its failure was handled above
            ready.clear()
            self._ready.clear()
            if self._stopped.is_set():
                break
            await asyncio.sleep(min(self.backoff_max, 0.1 * (2**attempt)))
            attempt += 1

    def _emit(self, orders) -> None:
        for o in orders or []:
            try:
                order_id = str(o.get("id") or "")
                info = o.get("info") or {}
                cid = str(o.get("clientOrderId") or info.get("clOrdId") or info.get("c") or "")
                market = (self.exchange.markets or {}).get(o.get("symbol")) or {}
                filled = D(o.get("filled")) * CcxtClient._contract(market)  # base units, as the port speaks
                item = {
                    "orderLinkId": cid,
                    "orderId": order_id,
                    "symbol": str(o.get("symbol") or ""),
                    "orderStatus": str(o.get("status") or ""),
                    "cumExecQty": _plain(filled),
                }
                self.events_received += 1
                self._on_event("order", [item])
                if filled > self._filled.get(order_id, Decimal(0)):
                    self._filled[order_id] = filled
                    self._on_event("execution", [item])
                if o.get("status") in ("closed", "canceled", "expired", "rejected"):
                    self._filled.pop(order_id, None)  # done: a long-lived stream keeps only open orders
            except Exception:  # noqa: BLE001 - a bad callback must not end the stream
                logger.exception("%s private stream callback failed", self.spec.name)

    def _reconnected(self) -> None:
        if self._on_reconnect is None:
            return
        try:
            self._on_reconnect()
        except Exception:  # noqa: BLE001
            logger.exception("%s private stream on_reconnect failed", self.spec.name)

    # --- the stream interface ------------------------------------------------------------------
    def is_connected(self) -> bool:
        return not self.auth_failed and self._ready.is_set()

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """True once the key is accepted and the order subscription sent (also after a reconnect)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.auth_failed:
            if self._ready.wait(0.05):
                return True
        return False

    def close(self) -> None:
        self._stopped.set()
        task = getattr(self, "_main_task", None)
        if task is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop closed meanwhile
                pass
        self._thread.join(5)
