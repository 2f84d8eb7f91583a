"""MEXC spot dialect (/api/v3): Binance-shaped paths and shapes with MEXC's own key header,
signing, error codes and quirks, on the one engine.

- Signing: header X-MEXC-APIKEY; every parameter travels in the query string (POST and DELETE
  too) and `signature` = hex HMAC-SHA256(secret, that query without the signature).
- exchangeInfo: status "1" = online, precisions as decimal counts (baseAssetPrecision,
  quoteAssetPrecision), minimums in baseSizePrecision and quoteAmountPrecision.
- Not every listed symbol is tradable through the API: LTCUSDT answers 10007 "symbol not support
  api" here, as some MEXC symbols do.
- Errors: HTTP 400 {"code": 30004, "msg": ...}; rate limit HTTP 429 {"code": 429}. MEXC does not
  publish a duplicate-client-id code; the twin answers -2010 "Duplicate order sent." as Binance.
- No futures: MEXC's futures API is closed to regular users.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from aiohttp import web

from ..instruments import INSTRUMENTS, Instrument
from . import binance as bn
from .base import Route, VenueError, ms

NOT_API_TRADABLE = {"LTCUSDT"}
# Binance codes the shared handlers raise -> MEXC's answer
FROM_BINANCE = {
    -1121: (10007, "symbol not support api"),
    -1100: (33333, "Parameter error"),
    -1102: (33333, "Parameter error"),
    -1104: (33333, "Parameter error"),
    -1115: (33333, "Parameter error"),
    -1116: (33333, "Parameter error"),
    -1120: (33333, "Parameter error"),
}
BY_MESSAGE = {
    "Account has insufficient balance for requested action.": (30004, "Insufficient position"),
    "Filter failure: LOT_SIZE": (30002, "Minimum transaction volume cannot be less than the symbol's minimum"),
    "Filter failure: NOTIONAL": (30002, "Minimum transaction volume cannot be less than the symbol's minimum"),
    "Filter failure: PRICE_FILTER": (30010, "price precision exceeds the symbol's"),
    "Filter failure: MAX_NUM_ORDERS": (30025, "max open order limit reached"),
}


def _precision(step) -> int:
    return max(0, -step.normalize().as_tuple().exponent)


def symbol_json(inst: Instrument) -> dict:
    return {
        "symbol": inst.symbol,
        "status": "1",
        "baseAsset": inst.base_coin,
        "baseAssetPrecision": _precision(inst.qty_step),
        "quoteAsset": inst.quote_coin,
        "quotePrecision": _precision(inst.tick_size),
        "quoteAssetPrecision": _precision(inst.tick_size),
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "quoteAmountPrecision": bn.S(inst.min_value),
        "baseSizePrecision": bn.S(inst.min_qty),
        "permissions": ["SPOT"],
        "filters": [],
        "maxQuoteAmount": "2000000",
        "makerCommission": "0",
        "takerCommission": "0.0005",
        "quoteAmountPrecisionMarket": bn.S(inst.min_value),
        "maxQuoteAmountMarket": "100000",
        "fullName": inst.base_coin,
        "tradeSideType": 1,
        "st": False,
    }


MEXC_INTERVALS = {"60m": "1h", "1W": "1w", "1M": "1M"}  # MEXC's names where they differ from Binance's


def klines(sim, key, p):
    interval = str(p.get("interval") or "")
    return bn.klines(sim, key, p | {"interval": MEXC_INTERVALS.get(interval, interval)})


def exchange_info(sim, key, p):
    symbols = [
        symbol_json(i) for (c, s), i in INSTRUMENTS.items() if c == "spot" and (not p.get("symbol") or s == p["symbol"])
    ]
    return {"timezone": "CST", "serverTime": sim.clock(), "rateLimits": [], "exchangeFilters": [], "symbols": symbols}


def _tradable(p):
    if str(p.get("symbol") or "") in NOT_API_TRADABLE:
        raise VenueError(10007, "symbol not support api", 400)


def new_order(sim, key, p):
    _tradable(p)
    out = bn.spot_new_order(sim, key, p | {"newOrderRespType": "ACK"})
    return {
        "symbol": out["symbol"],
        "orderId": str(out["orderId"]),
        "orderListId": -1,
        "price": p.get("price", ""),
        "origQty": p.get("quantity", ""),
        "type": str(p.get("type", "")).upper(),
        "side": str(p.get("side", "")).upper(),
        "transactTime": out["transactTime"],
    }


def _stringify(order: dict) -> dict:
    return order | {"orderId": str(order["orderId"])}


def query(sim, key, p):
    return _stringify(bn.spot_query(sim, key, p))


def cancel(sim, key, p):
    return _stringify(bn.spot_cancel(sim, key, p))


def open_orders(sim, key, p):
    return [_stringify(o) for o in bn.spot_open_orders(sim, key, p)]


def all_orders(sim, key, p):
    return [_stringify(o) for o in bn.spot_all_orders(sim, key, p)]


def cancel_all(sim, key, p):
    return [_stringify(o) for o in bn.spot_cancel_all(sim, key, p)]


def my_trades(sim, key, p):
    rows = bn.spot_my_trades(sim, key, p)
    links = {o.order_id: o.order_link_id for o in sim.engine.user_orders[key.uid]}
    return [
        t
        | {
            "id": str(t["id"]),
            "orderId": str(t["orderId"]),
            "isSelfTrade": False,
            "clientOrderId": links.get(str(t["orderId"]), ""),
        }
        for t in rows
    ]


def account(sim, key, p):
    out = bn.spot_account(sim, key, p)
    return {
        k: out[k]
        for k in (
            "makerCommission",
            "takerCommission",
            "buyerCommission",
            "sellerCommission",
            "canTrade",
            "canWithdraw",
            "canDeposit",
            "updateTime",
            "accountType",
            "balances",
            "permissions",
        )
    }


def trade_fee(sim, key, p):
    bn._inst("spot", p.get("symbol"))  # noqa: SLF001 - the shared symbol check
    acc = sim.engine.account(key.uid)
    return {
        "data": {"makerCommission": float(acc.spot_maker), "takerCommission": float(acc.spot_taker)},
        "code": 0,
        "msg": "success",
    }


def default_symbols(sim, key, p):
    return {
        "code": 0,
        "data": sorted(s for (c, s) in INSTRUMENTS if c == "spot" and s not in NOT_API_TRADABLE),
        "msg": None,
    }


def _e(code, msg, status=400):
    return (code, msg, status)


class MexcDialect(bn.BinanceDialect):
    name = "mexc"
    banner = "MEXC v3"
    prefixes = ("/api/",)
    KEY_HEADER = "X-MEXC-APIKEY"
    WS_API = ""  # MEXC's spot private stream is protobuf: not served; Setka polls MEXC by REST
    DEFAULT_LIMIT = 20
    LIMITS = {
        "POST /api/v3/order": {"*": 5},
        "DELETE /api/v3/openOrders": {"*": 10},
    }  # orders: 5 per second per account
    ERRORS = {
        170131: _e(30004, "Insufficient position"),
        170141: _e(-2010, "Duplicate order sent."),
        170134: _e(30010, "price precision exceeds the symbol's"),
        170137: _e(30002, "Minimum transaction volume cannot be less than the symbol's minimum"),
        170136: _e(30002, "Minimum transaction volume cannot be less than the symbol's minimum"),
        170135: _e(30029, "Cannot exceed the maximum order limit"),
        170140: _e(30002, "Minimum transaction volume cannot be less than the symbol's minimum"),
        170121: _e(10007, "symbol not support api"),
        170213: _e(-2011, "Unknown order sent."),
        170810: _e(30025, "max open order limit reached"),
        "*": _e(33333, "Parameter error"),
    }
    ROUTES = {
        ("GET", "/api/v3/ping"): Route(bn.ping),
        # the contract API: no perpetuals for API users (ccxt's client asks while loading markets)
        ("GET", "/api/v1/contract/detail"): Route(lambda sim, key, p: {"success": True, "code": 0, "data": []}),
        ("GET", "/api/v3/time"): Route(bn.server_time),
        ("GET", "/api/v3/exchangeInfo"): Route(exchange_info),
        ("GET", "/api/v3/defaultSymbols"): Route(default_symbols),
        ("GET", "/api/v3/ticker/24hr"): Route(bn.ticker_24hr),
        ("GET", "/api/v3/ticker/price"): Route(lambda sim, key, p: bn._price(sim, key, p, "spot")),  # noqa: SLF001
        ("GET", "/api/v3/ticker/bookTicker"): Route(bn.book_ticker),
        ("GET", "/api/v3/klines"): Route(klines),
        ("GET", "/api/v3/depth"): Route(bn.depth),
        ("GET", "/api/v3/account"): Route(account, auth=True),
        ("GET", "/api/v3/tradeFee"): Route(trade_fee, auth=True),
        ("GET", "/api/v3/capital/config/getall"): Route(bn.capital_config, auth=True),
        ("POST", "/api/v3/order"): Route(new_order, auth=True, trade="spot", mutating=True),
        ("DELETE", "/api/v3/order"): Route(cancel, auth=True, trade="spot", mutating=True),
        ("GET", "/api/v3/order"): Route(query, auth=True),
        ("GET", "/api/v3/openOrders"): Route(open_orders, auth=True),
        ("DELETE", "/api/v3/openOrders"): Route(cancel_all, auth=True, trade="spot", mutating=True),
        ("GET", "/api/v3/allOrders"): Route(all_orders, auth=True),
        ("GET", "/api/v3/myTrades"): Route(my_trades, auth=True),
    }

    def translate(self, exc, path=""):
        code, msg, status = self.ERRORS.get(exc.code, self.ERRORS["*"])
        return VenueError(code, msg or exc.msg, status)

    def authenticate(self, request, raw_query, raw_body, params):
        api_key = request.headers.get(self.KEY_HEADER) or ""
        key = self.sim.engine.keys.get(api_key)
        if key is None:
            raise VenueError(10072, "Api key info invalid", 400)
        ts, window = ms(params.get("timestamp")), ms(params.get("recvWindow")) or 5000
        now = self.sim.clock()
        if not ts or ts > now + 1000 or now - ts > min(window, 60000):
            raise VenueError(700003, "Timestamp for this request is outside of the recvWindow.", 400)
        payload = re.sub(r"&?signature=[^&]*", "", raw_query)
        expected = hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, str(params.get("signature", "")).lower()):
            raise VenueError(700002, "Signature for this request is not valid.", 400)
        if key.expires_ms is not None and key.expires_ms <= now:
            raise VenueError(10072, "Api key info invalid", 400)
        if key.ips and request.remote not in key.ips:
            raise VenueError(700006, f"IP [{request.remote}] not in the ip white list", 400)
        params.pop("signature", None)
        return key

    def trade_allowed(self, key):
        return True

    def error(self, exc, headers=None):
        code, msg = exc.code, exc.msg
        if isinstance(code, int) and code < 0 and code not in (-2010, -2011, -2013):
            code, msg = FROM_BINANCE.get(code, (code, msg))
        code, msg = BY_MESSAGE.get(exc.msg, (code, msg))
        return web.Response(
            text=self.dump({"code": code, "msg": msg}),
            status=exc.status,
            content_type="application/json",
            headers=headers,
        )

    def permission_denied(self):
        return VenueError(700007, "No permission to access the endpoint.", 403)

    def rate_limited(self, reset_ms):
        return VenueError(429, "Too many requests", 429, {"retry_after": 1})

    def not_found(self):
        return VenueError(404, "Not Found", 404)

    def limit_headers(self, path, limit, remaining, reset_ms):
        return {}
