"""The Bybit V5 adapter of the exchange port, on pybit. The ONLY module in Setka that imports pybit.

- `BybitClient` implements exchanges.client.ExchangeClient over pybit's HTTP session.
  pybit's own retries are disabled (max_retries=1, no retry codes): this layer decides. Idempotent
  calls (GETs, cancels, and placements, which are idempotent thanks to orderLinkId) are retried on
  5xx / 10006 / timeouts with bounded exponential back-off. A timeout or connection error on a
  placement is never a failure: the retry re-sends the same orderLinkId, a duplicate answer
  (170141 / 110072) is resolved by looking the order up, and if nothing settles it the caller gets
  AmbiguousOutcome.
- `BybitPrivateStream` holds the private WebSocket (order, execution, wallet, position) on pybit's
  WebSocket with a `_connect` override (base URL per instance, reconnect back-off, `on_reconnect`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests
from pybit.exceptions import FailedRequestError, InvalidRequestError
from pybit.unified_trading import HTTP, WebSocket

from exchanges import errors
from exchanges.adapters import bybit_parse as wire
from exchanges.client import (
    Balance,
    BatchItemResult,
    CancelItemResult,
    Category,
    ExchangeOrder,
    FeeRates,
    FillPage,
    FundingPage,
    InstrumentRules,
    KeyPermissions,
    Kline,
    OrderType,
    PlacedOrder,
    PlaceOrder,
    Position,
    Ticker,
    cancel_orders_one_by_one,
    not_sent,
)
from exchanges.ratelimit import RateLimiter
from exchanges.venues import venue

logger = logging.getLogger(__name__)

HOSTS = {
    "mainnet": ("https://api.bybit.com", "wss://stream.bybit.com"),
    "testnet": ("https://api-testnet.bybit.com", "wss://stream-testnet.bybit.com"),
    "demo": ("https://api-demo.bybit.com", "wss://stream-demo.bybit.com"),
}
RULES_TTL = 3600
_NO_RETRY_CODES = {-1}  # pybit replaces an empty set by its defaults; this code never occurs


class _LocalTTLCache:
    """Fallback for the instrument-rules cache when no Django cache is given."""

    def __init__(self):
        self._data: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            item = self._data.get(key)
        if item is None or item[0] < time.monotonic():
            return default
        return item[1]

    def set(self, key, value, timeout=None):
        with self._lock:
            self._data[key] = (time.monotonic() + (timeout or RULES_TTL), value)


def _reset_after(headers, default: float = 1.0) -> float:
    """Seconds until X-Bapi-Limit-Reset-Timestamp (ms), at least a few milliseconds."""
    if not headers:
        return default
    value = headers.get("X-Bapi-Limit-Reset-Timestamp") if hasattr(headers, "get") else None
    try:
        return max(0.01, int(value) / 1000 - time.time()) if value else default
    except (TypeError, ValueError):
        return default


class BybitClient:
    """One authenticated Bybit account (or the Setka simulator, which speaks the same protocol)."""

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        environment: str = "mainnet",
        base_url: str | None = None,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff_base: float = 0.2,
        backoff_max: float = 3.0,
        limiter: RateLimiter | None = None,
        rules_cache=None,
        recv_window: int = 5000,
        account_key: str | None = None,
        fills_page_size: int = 100,
        broker_id: str = "",
    ):
        if base_url is None:
            if environment not in HOSTS:
                raise ValueError(f"Unknown Bybit environment {environment!r}")
            base_url = HOSTS[environment][0]
        self.base_url = base_url.rstrip("/")
        self.environment = environment
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.limiter = limiter or RateLimiter(account_key=account_key or f"anon-{id(self)}")
        self.rules_cache = rules_cache if rules_cache is not None else _LocalTTLCache()
        self.retries = 0  # attempts beyond the first, over the client's life (observability)
        self.fills_page_size = max(1, min(100, fills_page_size))
        self._sleep = time.sleep
        self._http = HTTP(
            api_key=api_key,
            api_secret=api_secret,
            timeout=timeout,
            recv_window=recv_window,
            max_retries=1,
            retry_codes=set(_NO_RETRY_CODES),
            force_retry=False,
            return_response_headers=True,
            referral_id=broker_id or None,  # Bybit's broker field: the Referer header, or none
        )
        self._http.endpoint = self.base_url
        self._http.client.trust_env = False  # loopback simulator; no proxy for exchange traffic

    def __repr__(self) -> str:  # pybit's dataclass repr would print the secret
        return f"<BybitClient {self.environment} {self.base_url}>"

    # --- transport ---------------------------------------------------------------------------
    def _map_exception(self, exc: Exception, *, order_call: bool, mutating: bool) -> errors.ExchangeError:
        if isinstance(exc, InvalidRequestError):
            retry_after = _reset_after(exc.resp_headers)
            return wire.error_for_code(int(exc.status_code), str(exc.message), order_call=order_call,
                                       retry_after=retry_after)
        if isinstance(exc, FailedRequestError):
            return wire.error_for_http_status(int(exc.status_code or 0), str(exc.message),
                                              retry_after=_reset_after(exc.resp_headers))
        if isinstance(exc, (requests.exceptions.ConnectTimeout,)):
            # nothing reached the exchange
            return errors.TemporaryExchangeError(f"Connection to Bybit timed out: {type(exc).__name__}")
        if isinstance(exc, (requests.exceptions.Timeout, requests.exceptions.ConnectionError)):
            if mutating:
                return errors.AmbiguousOutcome(f"No answer from Bybit ({type(exc).__name__}); outcome unknown")
            return errors.TemporaryExchangeError(f"No answer from Bybit ({type(exc).__name__})")
        if isinstance(exc, ValueError):  # pybit sleeping a negative reset time, bad JSON numbers
            return errors.TemporaryExchangeError(f"Malformed answer from Bybit: {type(exc).__name__}")
        raise exc

    def _request(
        self,
        method: str,
        path: str,
        *,
        order_call: bool = False,
        mutating: bool = False,
        cost: int = 1,
        **params,
    ) -> dict:
        """Call pybit's `method` with `params` (V5 names), retrying what is safe to retry;
        returns the full JSON body (retCode 0)."""
        params = {k: v for k, v in params.items() if v is not None}
        category = params.get("category")
        ambiguous: errors.AmbiguousOutcome | None = None
        last: errors.ExchangeError | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                self.retries += 1
            try:
                self.limiter.acquire(path, category, cost)
            except errors.RateLimited as exc:
                last = exc
            else:
                try:
                    body, _elapsed, headers = getattr(self._http, method)(**params)
                except Exception as exc:  # noqa: BLE001 - mapped below, unknown types re-raised
                    last = self._map_exception(exc, order_call=order_call, mutating=mutating)
                    headers = getattr(exc, "resp_headers", None)
                    self.limiter.observe(path, category, headers)
                    if isinstance(last, errors.RateLimited) and last.code == 10006:
                        self.limiter.block_until(path, category, time.time() + last.retry_after)
                else:
                    self.limiter.observe(path, category, headers)
                    return body
            if isinstance(last, errors.AmbiguousOutcome):
                ambiguous = last
            retryable = isinstance(last, (errors.TemporaryExchangeError, errors.AmbiguousOutcome))
            if ambiguous is not None and isinstance(last, errors.DuplicateClientOrderId):
                raise last  # an earlier attempt got through: the caller resolves it by lookup
            if not retryable or attempt == self.max_attempts - 1:
                break
            delay = min(self.backoff_max, self.backoff_base * (2**attempt)) * (0.8 + 0.4 * random.random())
            if isinstance(last, errors.RateLimited):
                if last.retry_after > self.backoff_max * 2:
                    break
                delay = max(delay, last.retry_after)
            self._sleep(delay)
        assert last is not None
        if ambiguous is not None and isinstance(last, (errors.TemporaryExchangeError, errors.AmbiguousOutcome)):
            raise errors.AmbiguousOutcome(
                f"{path}: the exchange may have applied the request ({last.message})", code=last.code
            ) from last
        raise last

    def _result(self, method: str, path: str, **kwargs) -> dict:
        return self._request(method, path, **kwargs).get("result") or {}

    # --- market data -------------------------------------------------------------------------
    def instrument_rules(self, *, category: Category, symbol: str) -> InstrumentRules:
        cache_key = f"setka:bybit:rules:{self.base_url}:{category}:{symbol}"
        cached = self.rules_cache.get(cache_key)
        if cached is not None:
            return cached
        result = self._result("get_instruments_info", "/v5/market/instruments-info", category=str(category),
                              symbol=symbol)
        items = result.get("list") or []
        if not items:
            raise errors.InvalidRequest(f"Unknown symbol {symbol} ({category})", code="unknown_symbol")
        rules = wire.parse_rules(items[0], Category(category))
        self.rules_cache.set(cache_key, rules, RULES_TTL)
        return rules

    def symbols(self, *, category: Category) -> list[InstrumentRules]:
        list_key = f"setka:bybit:symbols:{self.base_url}:{category}"
        cached = self.rules_cache.get(list_key)
        if cached is not None:
            return list(cached)
        rules: list[InstrumentRules] = []
        cursor = None
        for _ in range(50):
            result = self._result("get_instruments_info", "/v5/market/instruments-info", category=str(category),
                                  limit=1000, cursor=cursor)
            rules.extend(wire.parse_rules(item, Category(category)) for item in result.get("list") or [])
            cursor = result.get("nextPageCursor") or None
            if not cursor:
                break
        for item in rules:
            self.rules_cache.set(f"setka:bybit:rules:{self.base_url}:{category}:{item.symbol}", item, RULES_TTL)
        self.rules_cache.set(list_key, rules, RULES_TTL)
        return rules

    def ticker(self, *, category: Category, symbol: str) -> Ticker:
        result = self._result("get_tickers", "/v5/market/tickers", category=str(category), symbol=symbol)
        items = result.get("list") or []
        if not items:
            raise errors.InvalidRequest(f"Unknown symbol {symbol} ({category})", code="unknown_symbol")
        return wire.parse_ticker(items[0])

    def klines(self, *, category: Category, symbol: str, interval: str = "60", limit: int = 200,
               start: datetime | None = None) -> list[Kline]:
        """Candles oldest first (Bybit answers newest first). With `start`, the page [start,
        start + limit intervals): Bybit serves the newest `limit` of a range, so the range is
        bounded on both sides."""
        window = {}
        if start is not None:
            minutes = {"D": 1440, "W": 10080, "M": 44640}.get(str(interval)) or int(interval)
            start_ms = int(start.timestamp() * 1000)
            window = {"start": start_ms, "end": start_ms + int(limit) * minutes * 60_000 - 1}
        result = self._result("get_kline", "/v5/market/kline", category=str(category), symbol=symbol,
                              interval=str(interval), limit=int(limit), **window)
        return sorted((wire.parse_kline(row) for row in result.get("list") or []), key=lambda k: k.start)

    def funding_rate(self, *, category: Category, symbol: str) -> Decimal | None:
        """Bybit's linear ticker carries the current funding rate."""
        if Category(category) != Category.LINEAR:
            return None
        return self.ticker(category=category, symbol=symbol).funding_rate

    # --- account -----------------------------------------------------------------------------
    def balances(self) -> dict[str, Balance]:
        """Unified account coins. `locked` = spot open-order lock + order and position margin."""
        result = self._result("get_wallet_balance", "/v5/account/wallet-balance", accountType="UNIFIED")
        balances: dict[str, Balance] = {}
        for account in result.get("list") or []:
            for coin in account.get("coin") or []:
                locked = (wire.dec(coin.get("locked")) + wire.dec(coin.get("totalOrderIM"))
                          + wire.dec(coin.get("totalPositionIM")))
                balances[coin["coin"]] = Balance(coin=coin["coin"], total=wire.dec(coin.get("walletBalance")),
                                                 locked=locked)
        return balances

    def fee_rates(self, *, category: Category, symbol: str) -> FeeRates:
        result = self._result("get_fee_rates", "/v5/account/fee-rate", category=str(category), symbol=symbol)
        items = result.get("list") or []
        if not items:
            raise errors.InvalidRequest(f"No fee rates for {symbol} ({category})")
        return FeeRates(maker=wire.dec(items[0].get("makerFeeRate")), taker=wire.dec(items[0].get("takerFeeRate")))

    def key_permissions(self) -> KeyPermissions:
        return wire.parse_key_permissions(self._result("get_api_key_information", "/v5/user/query-api"))

    # --- orders ------------------------------------------------------------------------------
    @staticmethod
    def _order_params(order: PlaceOrder) -> dict:
        if not order.client_order_id or len(order.client_order_id) > 36:
            raise errors.InvalidOrder("client_order_id is required (1-36 characters)", code="client_order_id")
        params: dict[str, Any] = {
            "symbol": order.symbol,
            "side": str(order.side),
            "orderType": str(order.order_type),
            "qty": _plain(order.qty),
            "orderLinkId": order.client_order_id,
        }
        if order.order_type == OrderType.LIMIT:
            if order.price is None:
                raise errors.InvalidOrder("A limit order needs a price", code="price")
            params["price"] = _plain(order.price)
            params["timeInForce"] = str(order.time_in_force)
        if order.category == Category.SPOT:
            if order.order_type == OrderType.MARKET:
                params["marketUnit"] = "baseCoin"  # the port's qty is always in the base coin
        else:
            params["positionIdx"] = 0
            if order.reduce_only:
                params["reduceOnly"] = True
        return params

    def place_order(self, order: PlaceOrder) -> PlacedOrder:
        params = self._order_params(order)
        try:
            result = self._request("place_order", "/v5/order/create", order_call=True, mutating=True,
                                   category=str(order.category), **params).get("result") or {}
        except errors.DuplicateClientOrderId:
            existing = self._lookup_after_duplicate(order)
            return PlacedOrder(order_id=existing.order_id, client_order_id=existing.client_order_id)
        return PlacedOrder(order_id=str(result.get("orderId", "")),
                           client_order_id=result.get("orderLinkId") or order.client_order_id)

    def _lookup_after_duplicate(self, order: PlaceOrder) -> ExchangeOrder:
        existing = self.order_by_client_id(category=order.category, symbol=order.symbol,
                                           client_order_id=order.client_order_id)
        if existing is None:
            raise errors.AmbiguousOutcome(
                f"Bybit reports order {order.client_order_id} as duplicate but it cannot be found yet",
                code="duplicate_not_found",
            )
        if (existing.side != order.side or existing.symbol != order.symbol) and existing.symbol:
            raise errors.DuplicateClientOrderId(
                f"orderLinkId {order.client_order_id} already used by a different order", code="duplicate_mismatch"
            )
        return existing

    def place_orders(self, orders: Sequence[PlaceOrder]) -> list[BatchItemResult]:
        """Batch placement (create-batch, 10 per request for spot, 20 for linear). Items with a
        duplicate orderLinkId are resolved by lookup; a batch whose outcome is unknown is settled
        order by order by looking each client order id up (AmbiguousOutcome where not found)."""
        results: dict[str, BatchItemResult] = {}
        by_category: dict[Category, list[PlaceOrder]] = {}
        for order in orders:
            by_category.setdefault(Category(order.category), []).append(order)
        waiting: errors.BudgetWait | None = None
        for category, items in by_category.items():
            size = venue("bybit").batch_size(category)
            for start in range(0, len(items), size):
                chunk = items[start:start + size]
                if waiting is None:
                    try:
                        results.update(self._place_chunk(category, chunk))
                        continue
                    except errors.BudgetWait as wait:
                        if not results:
                            raise  # nothing sent at all
                        waiting = wait
                results.update((r.client_order_id, r) for r in not_sent(chunk, waiting))  # the chunks before were sent
        return [results[o.client_order_id] for o in orders]

    def _place_chunk(self, category: Category, chunk: list[PlaceOrder]) -> dict[str, BatchItemResult]:
        out: dict[str, BatchItemResult] = {}
        requests_: list[dict] = []
        valid: list[PlaceOrder] = []
        for order in chunk:
            try:
                requests_.append(self._order_params(order))
                valid.append(order)
            except errors.ExchangeError as exc:
                out[order.client_order_id] = BatchItemResult(client_order_id=order.client_order_id, error=exc)
        if not valid:
            return out
        try:
            body = self._request("place_batch_order", "/v5/order/create-batch", order_call=True, mutating=True,
                                 cost=len(valid), category=str(category), request=requests_)
        except errors.AmbiguousOutcome as exc:
            # the batch may have been applied: each order is whatever its client id says
            for order in valid:
                try:
                    existing = self._lookup_after_duplicate(order)
                    out[order.client_order_id] = BatchItemResult(
                        client_order_id=order.client_order_id,
                        placed=PlacedOrder(order_id=existing.order_id, client_order_id=order.client_order_id))
                except errors.ExchangeError:
                    out[order.client_order_id] = BatchItemResult(client_order_id=order.client_order_id, error=exc)
            return out
        except errors.ExchangeError as exc:
            for order in valid:
                out[order.client_order_id] = BatchItemResult(client_order_id=order.client_order_id, error=exc)
            return out
        listed = (body.get("result") or {}).get("list") or []
        ext = (body.get("retExtInfo") or {}).get("list") or []
        for index, order in enumerate(valid):
            item = listed[index] if index < len(listed) else {}
            code = int((ext[index] if index < len(ext) else {}).get("code", 0) or 0)
            msg = (ext[index] if index < len(ext) else {}).get("msg", "")
            if code == 0 and item.get("orderId"):
                out[order.client_order_id] = BatchItemResult(
                    client_order_id=order.client_order_id,
                    placed=PlacedOrder(order_id=str(item["orderId"]), client_order_id=order.client_order_id))
                continue
            error = wire.error_for_code(code, msg, order_call=True) if code else errors.AmbiguousOutcome(
                "Batch item without order id", code="batch_missing")
            if isinstance(error, (errors.DuplicateClientOrderId, errors.AmbiguousOutcome)):
                try:
                    existing = self._lookup_after_duplicate(order)
                    out[order.client_order_id] = BatchItemResult(
                        client_order_id=order.client_order_id,
                        placed=PlacedOrder(order_id=existing.order_id, client_order_id=order.client_order_id))
                    continue
                except errors.ExchangeError as lookup_error:
                    error = lookup_error
            out[order.client_order_id] = BatchItemResult(client_order_id=order.client_order_id, error=error)
        return out

    def cancel_order(self, *, category: Category, symbol: str, client_order_id: str) -> None:
        self._request("cancel_order", "/v5/order/cancel", mutating=True, category=str(category), symbol=symbol,
                      orderLinkId=client_order_id)

    def cancel_orders(
        self, *, category: Category, symbol: str, client_order_ids: Sequence[str]
    ) -> list[CancelItemResult]:
        """Batch cancel (/v5/order/cancel-batch, `batch_cancel` ids per request). Each item counts
        one unit of the endpoint's per-second quota, as on Bybit. Per-item errors (not found,
        already closed, over the quota) come from retExtInfo; a batch whose outcome is unknown
        gives AmbiguousOutcome for each of its items (the caller asks their state); an error of
        the whole request (auth, rate limit after retries) is raised, as a single cancel would."""
        size = venue("bybit").batch_cancel
        if size <= 1:
            return cancel_orders_one_by_one(self, category=category, symbol=symbol, client_order_ids=client_order_ids)
        ids = list(client_order_ids)
        out: list[CancelItemResult] = []
        for start in range(0, len(ids), size):
            out.extend(self._cancel_chunk(category, symbol, ids[start:start + size]))
        return out

    def _cancel_chunk(self, category: Category, symbol: str, chunk: list[str]) -> list[CancelItemResult]:
        try:
            body = self._request("cancel_batch_order", "/v5/order/cancel-batch", mutating=True, cost=len(chunk),
                                 category=str(category),
                                 request=[{"symbol": symbol, "orderLinkId": cid} for cid in chunk])
        except errors.AmbiguousOutcome as exc:
            return [CancelItemResult(client_order_id=cid, error=exc) for cid in chunk]
        ext = (body.get("retExtInfo") or {}).get("list") or []
        out = []
        for index, cid in enumerate(chunk):
            info = ext[index] if index < len(ext) else {}
            code = int(info.get("code", 0) or 0)
            error = wire.error_for_code(code, info.get("msg", ""), retry_after=1.0) if code else None
            out.append(CancelItemResult(client_order_id=cid, error=error))
        return out

    def cancel_all(self, *, category: Category, symbol: str) -> list[str]:
        """Cancel every open order of the symbol; returns their client order ids."""
        result = self._result("cancel_all_orders", "/v5/order/cancel-all", mutating=True, category=str(category),
                              symbol=symbol)
        return [item.get("orderLinkId") or item.get("orderId", "") for item in result.get("list") or []]

    def open_orders(self, *, category: Category, symbol: str) -> list[ExchangeOrder]:
        orders: list[ExchangeOrder] = []
        cursor = None
        for _ in range(20):  # 20 pages x 50 = 1000 orders, above Bybit's 500 cap
            result = self._result("get_open_orders", "/v5/order/realtime", category=str(category), symbol=symbol,
                                  openOnly=0, limit=50, cursor=cursor)
            orders.extend(wire.parse_order(item, category) for item in result.get("list") or [])
            cursor = result.get("nextPageCursor") or None
            if not cursor:
                break
        return [o for o in orders if o.status.is_open]

    def account_open_orders(self, *, category: Category, symbols: Sequence[str]) -> list[ExchangeOrder]:
        """Every open order of the category in one (paged) request: spot takes no symbol,
        linear needs one of symbol/baseCoin/settleCoin (Setka trades USDT perpetuals)."""
        scope = {"settleCoin": "USDT"} if Category(category) == Category.LINEAR else {}
        orders: list[ExchangeOrder] = []
        cursor = None
        for _ in range(20):  # 20 pages x 50 = 1000 orders, above Bybit's 500 cap
            result = self._result("get_open_orders", "/v5/order/realtime", category=str(category), openOnly=0,
                                  limit=50, cursor=cursor, **scope)
            orders.extend(wire.parse_order(item, category) for item in result.get("list") or [])
            cursor = result.get("nextPageCursor") or None
            if not cursor:
                break
        return [o for o in orders if o.status.is_open]

    def order_by_client_id(self, *, category: Category, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        for method, path in (("get_open_orders", "/v5/order/realtime"), ("get_order_history", "/v5/order/history")):
            result = self._result(method, path, category=str(category), symbol=symbol, orderLinkId=client_order_id)
            for item in result.get("list") or []:
                if item.get("orderLinkId") == client_order_id:
                    return wire.parse_order(item, category)
        return None

    def fills(
        self, *, category: Category, symbol: str, since: datetime | None = None, cursor: str | None = None
    ) -> FillPage:
        """One page of executions (newest first, as Bybit sends them); pass next_cursor back to
        continue. Funding and settlement rows are not fills and are skipped."""
        params: dict[str, Any] = {"symbol": symbol, "limit": self.fills_page_size}
        if cursor:
            params["cursor"] = cursor
        if since is not None:
            params["startTime"] = wire.dt_to_ms(since)
        result = self._result("get_executions", "/v5/execution/list", category=str(category), **params)
        items = [i for i in result.get("list") or [] if (i.get("execType") or "Trade") in ("Trade", "AdlTrade",
                                                                                             "BustTrade")]
        rules = None
        if any(not i.get("feeCurrency") for i in items):
            rules = self.instrument_rules(category=category, symbol=symbol)
        fills = [wire.parse_fill(item, category, rules) for item in items]
        return FillPage(fills=fills, next_cursor=result.get("nextPageCursor") or None)

    def account_fills(
        self, *, category: Category, symbols: Sequence[str], since: datetime | None = None,
        cursor: str | None = None
    ) -> FillPage:
        """One page of the account's executions of every symbol of the category (no symbol
        parameter: Bybit lists them all)."""
        params: dict[str, Any] = {"limit": self.fills_page_size}
        if cursor:
            params["cursor"] = cursor
        if since is not None:
            params["startTime"] = wire.dt_to_ms(since)
        result = self._result("get_executions", "/v5/execution/list", category=str(category), **params)
        items = [i for i in result.get("list") or [] if (i.get("execType") or "Trade") in ("Trade", "AdlTrade",
                                                                                             "BustTrade")]
        fills = [
            wire.parse_fill(item, category, None if item.get("feeCurrency") else self.instrument_rules(
                category=category, symbol=item.get("symbol", "")))
            for item in items
        ]
        return FillPage(fills=fills, next_cursor=result.get("nextPageCursor") or None)

    def funding_payments(
        self, *, category: Category, symbol: str, since: datetime | None = None, cursor: str | None = None
    ) -> FundingPage:
        """One page of funding settlements (newest first): the `Funding` rows of the execution
        list. Spot has none."""
        if Category(category) == Category.SPOT:
            return FundingPage(payments=[])
        params: dict[str, Any] = {"symbol": symbol, "execType": "Funding", "limit": self.fills_page_size}
        if cursor:
            params["cursor"] = cursor
        if since is not None:
            params["startTime"] = wire.dt_to_ms(since)
        result = self._result("get_executions", "/v5/execution/list", category=str(category), **params)
        items = [i for i in result.get("list") or [] if i.get("execType") == "Funding"]
        settle = ""
        if any(not i.get("feeCurrency") for i in items):
            settle = self.instrument_rules(category=category, symbol=symbol).quote_coin
        payments = [wire.parse_funding(item, settle) for item in items]
        return FundingPage(payments=payments, next_cursor=result.get("nextPageCursor") or None)

    def positions(self, *, category: Category, symbol: str) -> list[Position]:
        if Category(category) == Category.SPOT:
            return []
        result = self._result("get_positions", "/v5/position/list", category=str(category), symbol=symbol)
        return [wire.parse_position(item) for item in result.get("list") or []]

    def set_leverage(self, *, category: Category, symbol: str, leverage: Decimal) -> None:
        value = _plain(Decimal(leverage))
        try:
            self._request("set_leverage", "/v5/position/set-leverage", mutating=True, category=str(category),
                          symbol=symbol, buyLeverage=value, sellLeverage=value)
        except errors.ExchangeError as exc:
            if exc.code != wire.LEVERAGE_NOT_MODIFIED:
                raise


def _plain(value: Decimal) -> str:
    """A Decimal as Bybit wants it: no exponent, no trailing zeros."""
    text = format(Decimal(value).normalize(), "f")
    return text


# --- private stream --------------------------------------------------------------------------
class _RoutedWebSocket(WebSocket):
    """pybit's WebSocket pointed at `ws_base` (e.g. ws://127.0.0.1:PORT) per instance, with a
    back-off between reconnect attempts and a hook after every successful reconnect."""

    def __init__(self, *, ws_base: str | None, before_reconnect: Callable[[], None],
                 after_reconnect: Callable[[], None], **kwargs):
        self._ws_base = ws_base
        self._before_reconnect = before_reconnect
        self._after_reconnect = after_reconnect
        self._connected_once = False
        self._closing = False
        super().__init__(**kwargs)

    def _rewrite(self, url: str) -> str:
        if self._ws_base:
            for template in ("wss://{SUBDOMAIN}.{DOMAIN}.{TLD}", "wss://{SUBDOMAIN}.{DOMAIN}.com"):
                url = url.replace(template, self._ws_base)
        return url

    def _connect(self, url):
        url = self._rewrite(url)
        if not self._connected_once:
            super()._connect(url)
            self._connected_once = True
            return
        delay = 0.2
        self._before_reconnect()
        while not self._closing:
            try:
                super()._connect(url)
                break
            except Exception as exc:  # noqa: BLE001 - keep trying with back-off until closed
                logger.warning("Bybit private stream reconnect failed: %s", type(exc).__name__)
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
        if not self._closing:
            self._after_reconnect()

    def close(self):
        """Stop for good (pybit's own exit() is also called before each reconnect)."""
        self._closing = True
        self.exit()


class BybitPrivateStream:
    """Private topics of one account. `on_event(topic, data)` is called for every order,
    execution, wallet and position message (data = the message's list); `on_reconnect()` after
    the socket came back (auth and subscriptions are re-sent): the caller must resync by REST,
    since messages during the gap are lost. Exceptions in callbacks are logged, never kill the
    socket."""

    TOPICS = ("order", "execution", "wallet", "position")

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        on_event: Callable[[str, list], None],
        on_reconnect: Callable[[], None] | None = None,
        environment: str = "mainnet",
        ws_base: str | None = None,
        topics: Sequence[str] = TOPICS,
        ping_interval: int = 20,
        ping_timeout: int = 10,
        connect_retries: int = 3,
    ):
        if ws_base is None and environment not in HOSTS:
            raise ValueError(f"Unknown Bybit environment {environment!r}")
        self._on_event = on_event
        self._on_reconnect = on_reconnect
        self.reconnects = 0
        self.auth_failed = False
        self.events_received = 0
        self._authenticated = threading.Event()
        self._constructed = threading.Event()
        self._subscribed = threading.Event()
        self._acks = 0
        self._topic_count = len(topics)
        self._ws = _RoutedWebSocket(
            ws_base=ws_base.rstrip("/") if ws_base else None,
            before_reconnect=self._reconnecting,
            after_reconnect=self._reconnected,
            channel_type="private",
            testnet=environment == "testnet",
            demo=environment == "demo",
            api_key=api_key,
            api_secret=api_secret,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            retries=connect_retries,
            private_auth_expire=10,
            callback_function=self._dispatch,
        )
        for topic in topics:
            self._ws.subscribe(topic, self._dispatch)
        self._constructed.set()

    def _dispatch(self, message: dict) -> None:
        try:
            op = message.get("op")
            if op == "auth" or message.get("type") == "AUTH_RESP":
                if message.get("success") is False:
                    # revoked or wrong key: stop instead of reconnecting with it forever
                    self.auth_failed = True
                    logger.error("Bybit private stream: authentication refused")
                    threading.Thread(target=self._close_after_refusal, daemon=True).start()
                else:
                    self._authenticated.set()
                return
            if op == "subscribe":
                if message.get("success", True):
                    self._acks += 1
                    if self._acks >= self._topic_count:
                        self._subscribed.set()
                else:
                    logger.error("Bybit private stream: subscription refused: %s", message.get("ret_msg", ""))
                return
            if op in ("unsubscribe", "pong", "ping") or "topic" not in message:
                return
            self.events_received += 1
            data = message.get("data")
            self._on_event(message["topic"], data if isinstance(data, list) else [data])
        except Exception:  # noqa: BLE001 - an exception here would close pybit's socket for good
            logger.exception("Bybit private stream callback failed")

    def _reconnecting(self) -> None:
        self._authenticated.clear()
        self._subscribed.clear()
        self._acks = 0

    def _reconnected(self) -> None:
        self.reconnects += 1
        if self._on_reconnect is None:
            return
        try:
            self._on_reconnect()
        except Exception:  # noqa: BLE001
            logger.exception("Bybit private stream on_reconnect failed")

    def is_connected(self) -> bool:
        return not self.auth_failed and bool(self._ws.is_connected())

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """True once the key is accepted and every topic subscription acknowledged (events from
        then on are delivered). Also after a reconnect."""
        return self.wait_authenticated(timeout) and self._subscribed.wait(timeout)

    def wait_authenticated(self, timeout: float = 5.0) -> bool:
        """True once the exchange accepted the key on this socket (False on refusal/timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.auth_failed:
            if self._authenticated.wait(0.05):
                return True
        return False

    def _close_after_refusal(self) -> None:
        # the reply can arrive while the constructor is still subscribing: let it finish first
        if self._constructed.wait(30):
            self._ws.close()

    def close(self) -> None:
        self._ws.close()
