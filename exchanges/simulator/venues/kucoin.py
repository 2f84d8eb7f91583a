"""KuCoin spot dialect (classic /api/v1 and /api/v2 REST) on the one matching engine.

- Envelope {"code": "200000", "data": ...}; errors {"code": "400100", "msg": ...} with the HTTP
  status KuCoin uses (400 parameters, 401 authentication, 403 permission, 429 rate limit).
- Signing (key version 2): KC-API-KEY, KC-API-TIMESTAMP (ms, within 5 s of the server),
  KC-API-SIGN = base64 HMAC-SHA256(secret, timestamp + METHOD + path[?query] + body),
  KC-API-PASSPHRASE = base64 HMAC-SHA256(secret, passphrase), KC-API-KEY-VERSION 2.
- Symbols BTC-USDT; sizes in the base coin; client order ids (clientOid) 1-40 of [A-Za-z0-9_-];
  a duplicate is 126044 "clientOid duplicate".
- ccxt's kucoin client (options hf False, uta False) loads /api/v2/symbols, the margin symbol
  lists and /api/v1/market/allTickers (fee rates), places through POST /api/v1/orders, cancels
  through DELETE /api/v1/orders/{orderId} or /api/v1/order/client-order/{clientOid}, and reads
  fills from /api/v1/fills (pages by currentPage, newest first).
- Private stream: POST /api/v1/bullet-private hands out a token and this twin's own loopback
  WebSocket (`/kucoin/ws`); the socket greets with `welcome`, answers `ping` with `pong`, acks a
  `subscribe` of `/spotMarket/tradeOrders` and pushes `orderChange` messages (type open, match,
  filled, canceled).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from decimal import Decimal

from aiohttp import web

from .. import wire
from ..instruments import INSTRUMENTS, Instrument, instrument
from ..models import ZERO
from ..rest import market as bybit_market
from .base import Dialect, Route, VenueError, ms

S = wire.s
CLIENT_OID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
TYPES = {
    "1min": "1",
    "3min": "3",
    "5min": "5",
    "15min": "15",
    "30min": "30",
    "1hour": "60",
    "2hour": "120",
    "4hour": "240",
    "6hour": "360",
    "12hour": "720",
    "1day": "D",
    "1week": "W",
    "1month": "M",
}
CANCELLED = ("Cancelled", "PartiallyFilledCanceled", "Rejected", "Deactivated")


def symbol_id(inst: Instrument) -> str:
    return f"{inst.base_coin}-{inst.quote_coin}"


def parse_symbol(value) -> Instrument:
    parts = str(value or "").split("-")
    if len(parts) == 2:
        inst = instrument("spot", parts[0] + parts[1])
        if inst is not None:
            return inst
    raise VenueError("400100", "Unsupported trading pair.", 400)


def _dec(value, name: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except Exception:
        raise VenueError("400100", f"{name} invalid", 400) from None
    if not d.is_finite():
        raise VenueError("400100", f"{name} invalid", 400)
    return d


# --- wire shapes -------------------------------------------------------------------------------
def symbol_json(inst: Instrument) -> dict:
    return {
        "symbol": symbol_id(inst),
        "name": symbol_id(inst),
        "baseCurrency": inst.base_coin,
        "quoteCurrency": inst.quote_coin,
        "feeCurrency": inst.quote_coin,
        "market": "USDS",
        "baseMinSize": S(inst.min_qty),
        "quoteMinSize": S(inst.min_value),
        "baseMaxSize": S(inst.max_qty),
        "quoteMaxSize": "99999999",
        "baseIncrement": S(inst.qty_step),
        "quoteIncrement": S(inst.tick_size),
        "priceIncrement": S(inst.tick_size),
        "priceLimitRate": "0.1",
        "minFunds": S(inst.min_value),
        "isMarginEnabled": False,
        "enableTrading": True,
        "feeCategory": 1,
        "makerFeeCoefficient": "1.00",
        "takerFeeCoefficient": "1.00",
        "st": False,
    }


def order_json(o) -> dict:
    inst = instrument(o.category, o.symbol)
    assert inst is not None  # the order exists, so its instrument does
    cancelled = o.status in CANCELLED
    by_funds = o.market_unit == "quoteCoin"
    return {
        "id": o.order_id,
        "symbol": symbol_id(inst),
        "opType": "DEAL",
        "type": "market" if o.order_type == "Market" else "limit",
        "side": o.side.lower(),
        "price": S(o.price) if o.order_type == "Limit" else "0",
        "size": "0" if by_funds else S(o.qty),
        "funds": S(o.qty) if by_funds else "0",
        "dealFunds": S(o.cum_value),
        "dealSize": S(o.cum_qty),
        "fee": S(o.cum_fee),
        "feeCurrency": o.fee_coin or inst.quote_coin,
        "stp": "",
        "stop": None,
        "stopTriggered": False,
        "stopPrice": "0",
        "timeInForce": {"IOC": "IOC", "FOK": "FOK"}.get(o.time_in_force, "GTC"),
        "postOnly": o.time_in_force == "PostOnly",
        "hidden": False,
        "iceberg": False,
        "visibleSize": "0",
        "cancelAfter": 0,
        "channel": "API",
        "clientOid": o.order_link_id,
        "remark": None,
        "tags": None,
        "isActive": bool(o.is_open),
        "cancelExist": cancelled,
        "createdAt": o.created_ms,
        "tradeType": "TRADE",
    }


def fill_json(e) -> dict:
    inst = instrument(e.category, e.symbol)
    assert inst is not None
    return {
        "symbol": symbol_id(inst),
        "tradeId": str(e.seq),
        "orderId": e.order_id,
        "counterOrderId": "",
        "side": e.side.lower(),
        "liquidity": "maker" if e.is_maker else "taker",
        "forceTaker": False,
        "price": S(e.exec_price),
        "size": S(e.exec_qty),
        "funds": S(e.exec_value),
        "fee": S(e.exec_fee),
        "feeRate": S(e.fee_rate),
        "feeCurrency": e.fee_currency,
        "stop": "",
        "tradeType": "TRADE",
        "type": "market" if e.order_type == "Market" else "limit",
        "createdAt": e.exec_time,
    }


# --- handlers ----------------------------------------------------------------------------------
def server_time(sim, key, p):
    return sim.clock()


def symbols(sim, key, p):
    return [symbol_json(i) for (c, _s), i in INSTRUMENTS.items() if c == "spot"]


def currencies(sim, key, p):
    coins = sorted({c for (cat, _s), i in INSTRUMENTS.items() if cat == "spot" for c in (i.base_coin, i.quote_coin)})
    return [
        {
            "currency": c,
            "name": c,
            "fullName": c,
            "precision": 8,
            "confirms": None,
            "contractAddress": None,
            "isMarginEnabled": False,
            "isDebitEnabled": False,
            "chains": [],
        }
        for c in coins
    ]


def _ticker(sim, inst: Instrument) -> dict:
    t = wire.ticker(sim.engine, inst.category, inst.symbol)
    acc_maker, acc_taker = "0.001", "0.001"
    last, prev = Decimal(t["lastPrice"] or 0), Decimal(t["prevPrice24h"] or 0)
    return {
        "symbol": symbol_id(inst),
        "symbolName": symbol_id(inst),
        "buy": t["bid1Price"],
        "bestBidSize": "1",
        "sell": t["ask1Price"],
        "bestAskSize": "1",
        "changeRate": S((last - prev) / prev) if prev else "0",
        "changePrice": S(last - prev),
        "high": t["highPrice24h"],
        "low": t["lowPrice24h"],
        "vol": t["volume24h"],
        "volValue": t["turnover24h"],
        "last": t["lastPrice"],
        "averagePrice": t["lastPrice"],
        "takerFeeRate": acc_taker,
        "makerFeeRate": acc_maker,
        "takerCoefficient": "1",
        "makerCoefficient": "1",
    }


def all_tickers(sim, key, p):
    return {"time": sim.clock(), "ticker": [_ticker(sim, i) for (c, _s), i in INSTRUMENTS.items() if c == "spot"]}


def stats(sim, key, p):
    inst = parse_symbol(p.get("symbol"))
    return _ticker(sim, inst) | {"time": sim.clock()}


def level1(sim, key, p):
    inst = parse_symbol(p.get("symbol"))
    t = wire.ticker(sim.engine, inst.category, inst.symbol)
    return {
        "time": sim.clock(),
        "sequence": str(sim.clock()),
        "price": t["lastPrice"],
        "size": "1",
        "bestBid": t["bid1Price"],
        "bestBidSize": "1",
        "bestAsk": t["ask1Price"],
        "bestAskSize": "1",
    }


def orderbook(sim, key, p):
    inst = parse_symbol(p.get("symbol"))
    bids, asks = wire.book(sim.engine, inst.category, inst.symbol, 100)
    return {"time": sim.clock(), "sequence": str(sim.clock()), "bids": bids, "asks": asks}


def candles(sim, key, p):
    inst = parse_symbol(p.get("symbol"))
    interval = TYPES.get(str(p.get("type") or ""))
    if interval is None:
        raise VenueError("400100", "type invalid", 400)
    start, end = ms(p.get("startAt")), ms(p.get("endAt"))  # seconds
    window = {"start": str(start * 1000) if start else "", "end": str(end * 1000) if end else ""}
    rows = bybit_market.kline(
        sim,
        None,
        {"category": "spot", "symbol": inst.symbol, "interval": interval, "limit": "1000"} | window,
        1,
    )["list"]
    # KuCoin: [time (s), open, close, high, low, volume, turnover], newest first
    return [[str(int(r[0]) // 1000), r[1], r[4], r[2], r[3], r[5], r[6]] for r in rows]


def accounts(sim, key, p):
    ex = sim.engine
    acc = ex.accounts[key.uid]
    kind = p.get("type") or "trade"
    if kind != "trade":
        return []
    out = []
    for coin in sorted(set(acc.balances) | set(acc.locked)):
        if p.get("currency") and p["currency"] != coin:
            continue
        total = acc.balances.get(coin, ZERO)
        avail = ex.available(key.uid, coin)
        out.append(
            {
                "id": f"{key.uid}-{coin}",
                "currency": coin,
                "type": "trade",
                "balance": S(total),
                "available": S(avail),
                "holds": S(total - avail),
            }
        )
    return out


def trade_fees(sim, key, p):
    acc = sim.engine.account(key.uid)
    names = [s for s in str(p.get("symbols") or "").split(",") if s]
    if not names or len(names) > 10:
        raise VenueError("400100", "symbols invalid", 400)
    return [
        {"symbol": symbol_id(parse_symbol(n)), "makerFeeRate": S(acc.spot_maker), "takerFeeRate": S(acc.spot_taker)}
        for n in names
    ]


def base_fee(sim, key, p):
    acc = sim.engine.account(key.uid)
    return {"makerFeeRate": S(acc.spot_maker), "takerFeeRate": S(acc.spot_taker)}


def user_info(sim, key, p):
    return {"level": 0, "subQuantity": 0, "maxDefaultSubQuantity": 5, "maxSubQuantity": 5}


def api_key_info(sim, key, p):
    perms = ["General"] + ([] if key.read_only or not key.spot_trade else ["Spot"])
    if key.withdraw:
        perms.append("Withdraw")
    return {
        "remark": key.note or "setka-twin",
        "apiKey": key.api_key,
        "apiVersion": 2,
        "permission": ",".join(perms),
        "ipWhitelist": ",".join(key.ips),
        "isMaster": True,
        "uid": key.uid,
        "createdAt": 0,
    }


def place(sim, key, p):
    inst = parse_symbol(p.get("symbol"))
    link = str(p.get("clientOid") or "")
    if not CLIENT_OID_RE.match(link):
        raise VenueError("400100", "clientOid invalid", 400)
    side = str(p.get("side") or "").lower()
    if side not in ("buy", "sell"):
        raise VenueError("400100", "side invalid", 400)
    kind = str(p.get("type") or "limit").lower()
    params = {"symbol": inst.symbol, "side": side.capitalize(), "orderLinkId": link}
    if kind == "limit":
        params["orderType"] = "Limit"
        if p.get("price") in (None, ""):
            raise VenueError("400100", "price invalid", 400)
        params["price"] = str(_dec(p["price"], "price"))
        tif = str(p.get("timeInForce") or "GTC").upper()
        if tif not in ("GTC", "IOC", "FOK", "GTT"):
            raise VenueError("400100", "timeInForce invalid", 400)
        post_only = str(p.get("postOnly", "")).lower() == "true"
        params["timeInForce"] = "PostOnly" if post_only else ("GTC" if tif == "GTT" else tif)
        size = _dec(p.get("size"), "size")
    elif kind == "market":
        params["orderType"] = "Market"
        if p.get("funds") not in (None, ""):
            params["marketUnit"] = "quoteCoin"
            size = _dec(p["funds"], "funds")
        else:
            params["marketUnit"] = "baseCoin"
            size = _dec(p.get("size"), "size")
    else:
        raise VenueError("400100", "type invalid", 400)
    if size <= 0:
        raise VenueError("400100", "Order size below the minimum requirement.", 400)
    if params.get("marketUnit") != "quoteCoin" and (size / inst.qty_step) % 1 != 0:
        raise VenueError("400100", "Order size increment invalid.", 400)
    params["qty"] = str(size)
    o = sim.engine.place_order(key.uid, "spot", params)
    return {"orderId": o.order_id}


def _by_id(sim, key, order_id: str):
    o = sim.engine.orders.get(str(order_id))
    if o is None or o.uid != key.uid or o.category != "spot":
        return None
    return o


def _by_client(sim, key, client_oid: str):
    return sim.engine.by_link.get((key.uid, "spot", str(client_oid)))


def _cancel(sim, key, o) -> None:
    if o is None or not o.is_open:
        raise VenueError("400100", "order_not_exist_or_not_allow_to_cancel", 400)
    sim.engine.cancel_order(key.uid, "spot", {"symbol": o.symbol, "orderId": o.order_id})


def cancel_by_id(sim, key, p):
    o = _by_id(sim, key, p["__tail__"])
    _cancel(sim, key, o)
    return {"cancelledOrderIds": [o.order_id]}


def cancel_by_client(sim, key, p):
    o = _by_client(sim, key, p["__tail__"])
    _cancel(sim, key, o)
    return {"cancelledOrderId": o.order_id, "clientOid": o.order_link_id}


def cancel_all(sim, key, p):
    inst = parse_symbol(p["symbol"]) if p.get("symbol") else None
    ids = []
    for o in list(sim.engine.open_orders[key.uid].values()):
        if o.category != "spot" or (inst is not None and o.symbol != inst.symbol):
            continue
        sim.engine.cancel_order(key.uid, "spot", {"symbol": o.symbol, "orderId": o.order_id})
        ids.append(o.order_id)
    return {"cancelledOrderIds": ids}


def get_by_id(sim, key, p):
    o = _by_id(sim, key, p["__tail__"])
    if o is None:
        raise VenueError("400100", "order not exist.", 404)
    return order_json(o)


def get_by_client(sim, key, p):
    o = _by_client(sim, key, p["__tail__"])
    if o is None:
        raise VenueError("400100", "order not exist.", 404)
    return order_json(o)


def _page(rows: list, p) -> dict:
    size = min(500, max(1, ms(p.get("pageSize")) or 50))
    page = max(1, ms(p.get("currentPage")) or 1)
    total = len(rows)
    return {
        "currentPage": page,
        "pageSize": size,
        "totalNum": total,
        "totalPage": (total + size - 1) // size,
        "items": rows[(page - 1) * size : page * size],
    }


def list_orders(sim, key, p):
    status = p.get("status") or ""
    if status not in ("", "active", "done"):
        raise VenueError("400100", "status invalid", 400)
    inst = parse_symbol(p["symbol"]) if p.get("symbol") else None
    start, end = ms(p.get("startAt")), ms(p.get("endAt"))
    out = []
    for o in sorted(sim.engine.user_orders[key.uid], key=lambda o: o.seq, reverse=True):
        if o.category != "spot" or (inst is not None and o.symbol != inst.symbol):
            continue
        if (status == "active" and not o.is_open) or (status == "done" and o.is_open):
            continue
        if (start and o.created_ms < start) or (end and o.created_ms > end):
            continue
        out.append(order_json(o))
    return _page(out, p)


def fills(sim, key, p):
    inst = parse_symbol(p["symbol"]) if p.get("symbol") else None
    start, end = ms(p.get("startAt")), ms(p.get("endAt"))
    rows = []
    for e in reversed(sim.engine.executions[key.uid]):
        if e.exec_type != "Trade" or e.category != "spot":
            continue
        if inst is not None and e.symbol != inst.symbol:
            continue
        if p.get("orderId") and e.order_id != p["orderId"]:
            continue
        if (start and e.exec_time < start) or (end and e.exec_time > end):
            continue
        rows.append(fill_json(e))
    return _page(rows, p)


def margin_symbols(sim, key, p):
    return {"timestamp": sim.clock(), "items": []}


def bullet_private(sim, key, p):
    dialect = sim.dialect
    token = secrets.token_urlsafe(24)
    dialect.tokens[token] = key.uid
    return {
        "token": token,
        "instanceServers": [
            {
                "endpoint": f"ws://{dialect.host}/kucoin/ws",
                "encrypt": False,
                "protocol": "websocket",
                "pingInterval": 18000,
                "pingTimeout": 10000,
            }
        ],
    }


def _e(code, msg, status=400):
    return (code, msg, status)


# paths that carry an id: (METHOD, prefix, the ROUTES template)
PATH_IDS = (
    ("DELETE", "/api/v1/orders/", "/api/v1/orders/{orderId}"),
    ("GET", "/api/v1/orders/", "/api/v1/orders/{orderId}"),
    ("DELETE", "/api/v1/order/client-order/", "/api/v1/order/client-order/{clientOid}"),
    ("GET", "/api/v1/order/client-order/", "/api/v1/order/client-order/{clientOid}"),
)


class KucoinDialect(Dialect):
    name = "kucoin"
    banner = "KuCoin v1"
    prefixes = ("/api/",)
    DEFAULT_LIMIT = 30
    WINDOW_MS = 1000
    # per account per second (KuCoin publishes weights per 30 s per pool; these are its
    # per-second equivalents for the classic order endpoints)
    LIMITS = {
        "POST /api/v1/orders": {"*": 45},
        "DELETE /api/v1/orders/{orderId}": {"*": 60},
        "DELETE /api/v1/order/client-order/{clientOid}": {"*": 60},
        "GET /api/v1/accounts": {"*": 20},
        "GET /api/v1/fills": {"*": 20},
    }
    ERRORS = {
        170131: _e("200004", "Balance insufficient!"),
        170141: _e("126044", "clientOid duplicate"),
        170134: _e("400100", "Price increment invalid."),
        170137: _e("400100", "Order size increment invalid."),
        170136: _e("400100", "Order size below the minimum requirement."),
        170140: _e("400100", "Order funds below the minimum requirement."),
        170135: _e("400100", "Order size above the maximum requirement."),
        170121: _e("400100", "Unsupported trading pair."),
        170213: _e("400100", "order_not_exist_or_not_allow_to_cancel"),
        170810: _e("200003", "Exceeded the maximum number of active orders."),
        170218: _e("400100", "The order would immediately match and take; post-only orders are not accepted."),
        "*": _e("400100", ""),
    }
    ROUTES = {
        ("GET", "/api/v1/timestamp"): Route(server_time),
        ("GET", "/api/v1/status"): Route(lambda sim, key, p: {"status": "open", "msg": ""}),
        ("GET", "/api/v2/symbols"): Route(symbols),
        ("GET", "/api/v3/currencies"): Route(currencies),
        ("GET", "/api/v1/market/allTickers"): Route(all_tickers),
        ("GET", "/api/v1/market/stats"): Route(stats),
        ("GET", "/api/v1/market/orderbook/level1"): Route(level1),
        ("GET", "/api/v1/market/orderbook/level2_20"): Route(orderbook),
        ("GET", "/api/v1/market/orderbook/level2_100"): Route(orderbook),
        ("GET", "/api/v1/market/candles"): Route(candles),
        ("GET", "/api/v3/margin/symbols"): Route(margin_symbols, auth=True),
        ("GET", "/api/v1/isolated/symbols"): Route(lambda sim, key, p: [], auth=True),
        ("GET", "/api/v1/hf/accounts/opened"): Route(lambda sim, key, p: False, auth=True),
        # classic accounts (not the unified trading account): ccxt asks unless told
        ("GET", "/api/ua/v1/account/mode"): Route(
            lambda sim, key, p: {"selfAccountMode": "CLASSIC", "accountMode": "CLASSIC"}, auth=True
        ),
        ("GET", "/api/v1/accounts"): Route(accounts, auth=True),
        ("GET", "/api/v1/trade-fees"): Route(trade_fees, auth=True),
        ("GET", "/api/v1/base-fee"): Route(base_fee, auth=True),
        ("GET", "/api/v2/user-info"): Route(user_info, auth=True),
        ("GET", "/api/v1/user/api-key"): Route(api_key_info, auth=True),
        ("POST", "/api/v1/orders"): Route(place, auth=True, trade="spot", mutating=True),
        ("DELETE", "/api/v1/orders"): Route(cancel_all, auth=True, trade="spot", mutating=True),
        ("GET", "/api/v1/orders"): Route(list_orders, auth=True),
        ("GET", "/api/v1/fills"): Route(fills, auth=True),
        ("POST", "/api/v1/bullet-private"): Route(bullet_private, auth=True),
        ("DELETE", "/api/v1/orders/{orderId}"): Route(cancel_by_id, auth=True, trade="spot", mutating=True),
        ("GET", "/api/v1/orders/{orderId}"): Route(get_by_id, auth=True),
        ("DELETE", "/api/v1/order/client-order/{clientOid}"): Route(
            cancel_by_client, auth=True, trade="spot", mutating=True
        ),
        ("GET", "/api/v1/order/client-order/{clientOid}"): Route(get_by_client, auth=True),
    }

    def __init__(self, sim):
        super().__init__(sim)
        self.tokens: dict[str, int] = {}  # bullet-private token -> uid
        # KC-API-PARTNER-SIGN of the last signed requests (tests check a broker's signature;
        # `received` leaves every *SIGN* header out)
        self.partner_signatures: list[str] = []
        self.host = "127.0.0.1"  # the host:port clients reach this twin on (the bullet's endpoint)

    async def handle(self, request):
        self.host = request.host or self.host
        return await super().handle(request)

    def route_path(self, method: str, path: str) -> tuple[str, str | None]:
        for m, prefix, template in PATH_IDS:
            if m == method and path.startswith(prefix) and len(path) > len(prefix) and "/" not in path[len(prefix) :]:
                return template, path[len(prefix) :]
        return path, None

    def add_routes(self, app) -> None:
        from .stream import VenueStreamHub

        self.stream_hub = VenueStreamHub(self.sim, self)
        app.router.add_get("/kucoin/ws", self.stream_hub.handle)
        super().add_routes(app)

    # --- the private WebSocket ------------------------------------------------------------------
    def stream_on_open(self, conn, request) -> bool:
        uid = self.tokens.get(request.query.get("token") or "")
        if uid is None:
            return False
        conn.uid = uid
        conn.send({"id": request.query.get("connectId") or str(id(conn)), "type": "welcome"})
        return True

    def stream_bad_message(self, conn, text) -> None:
        conn.send({"type": "error", "code": 400, "data": "illegal message"})

    def stream_on_message(self, conn, data: dict) -> None:
        kind, msg_id = data.get("type"), data.get("id")
        if kind == "ping":
            conn.send({"id": msg_id, "type": "pong", "timestamp": self.sim.clock() * 1000})
        elif kind == "subscribe":
            if data.get("topic") != "/spotMarket/tradeOrders":
                conn.send({"id": msg_id, "type": "error", "code": 404, "data": "topic does not exist"})
                return
            conn.subscribed = True
            if data.get("response"):
                conn.send({"id": msg_id, "type": "ack"})
        elif kind == "unsubscribe":
            conn.subscribed = False
            if data.get("response"):
                conn.send({"id": msg_id, "type": "ack"})
        else:
            conn.send({"id": msg_id, "type": "error", "code": 400, "data": "illegal message type"})

    def stream_messages(self, conn, o, row, fill) -> list:
        inst = instrument(o.category, o.symbol)
        if inst is None or o.category != "spot":
            return []
        status = o.status
        if fill is not None and status in ("PartiallyFilled", "Filled"):
            kind = "match"
        elif status == "Filled":
            kind = "filled"
        elif status in CANCELLED:
            kind = "canceled"
        else:
            kind = "open"
        out = []
        base = {
            "symbol": symbol_id(inst),
            "orderType": "market" if o.order_type == "Market" else "limit",
            "side": o.side.lower(),
            "orderId": o.order_id,
            "clientOid": o.order_link_id,
            "price": S(o.price) if o.order_type == "Limit" else "0",
            "size": S(o.qty),
            "filledSize": S(o.cum_qty),
            "remainSize": S(o.qty - o.cum_qty) if o.is_open else "0",
            "canceledSize": S(o.qty - o.cum_qty) if status in CANCELLED else "0",
            "orderTime": o.created_ms * 1_000_000,
            "ts": o.updated_ms * 1_000_000,
        }
        if kind == "match":
            out.append(
                base
                | {
                    "type": "match",
                    "status": "match",
                    "matchPrice": S(fill.exec_price),
                    "matchSize": S(fill.exec_qty),
                    "tradeId": str(fill.seq),
                    "liquidity": "maker" if fill.is_maker else "taker",
                }
            )
            if status == "Filled":
                out.append(base | {"type": "filled", "status": "done"})
        else:
            out.append(base | {"type": kind, "status": "open" if kind == "open" else "done"})
        return [
            {
                "type": "message",
                "topic": "/spotMarket/tradeOrders",
                "subject": "orderChange",
                "channelType": "private",
                "userId": str(conn.uid),
                "data": d,
            }
            for d in out
        ]

    # --- REST ------------------------------------------------------------------------------------
    def authenticate(self, request, raw_query, raw_body, params):
        h = request.headers
        api_key = h.get("KC-API-KEY") or ""
        if not api_key:
            raise VenueError("400001", "Please check the header of your request for KC-API-KEY", 401)
        key = self.sim.engine.keys.get(api_key)
        if key is None:
            raise VenueError("400003", "KC-API-KEY not exists", 401)
        now = self.sim.clock()
        sent = ms(h.get("KC-API-TIMESTAMP"))
        if not sent or abs(now - sent) > 5000:
            raise VenueError(
                "400002", "KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds", 401
            )
        if key.expires_ms is not None and key.expires_ms <= now:
            raise VenueError("400003", "KC-API-KEY not exists", 401)
        version = h.get("KC-API-KEY-VERSION") or "1"
        passphrase = h.get("KC-API-PASSPHRASE") or ""
        if version == "2":
            expected_pass = base64.b64encode(
                hmac.new(key.secret.encode(), key.passphrase.encode(), hashlib.sha256).digest()
            ).decode()
        else:
            expected_pass = key.passphrase
        if not hmac.compare_digest(passphrase, expected_pass):
            raise VenueError("400004", "Invalid KC-API-PASSPHRASE", 401)
        path = request.rel_url.raw_path + (f"?{raw_query}" if raw_query else "")
        payload = f"{h.get('KC-API-TIMESTAMP')}{request.method}{path}{raw_body}"
        expected = base64.b64encode(hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, h.get("KC-API-SIGN") or ""):
            raise VenueError("400005", "Invalid KC-API-SIGN", 401)
        if h.get("KC-API-PARTNER-SIGN"):
            self.partner_signatures = [*self.partner_signatures[-49:], h["KC-API-PARTNER-SIGN"]]
        if key.ips and request.remote not in key.ips:
            raise VenueError("400006", f"The requested ip address {request.remote} is not in the api whitelist", 401)
        return key

    def ok(self, data, headers=None):
        return web.Response(
            text=self.dump({"code": "200000", "data": data}), content_type="application/json", headers=headers
        )

    def error(self, exc, headers=None):
        body = {"code": str(exc.code), "msg": exc.msg}
        return web.Response(text=self.dump(body), status=exc.status, content_type="application/json", headers=headers)

    def not_found(self):
        return VenueError("404", "Not Found", 404)

    def bad_json(self):
        return ("400100", "Invalid JSON body", 400)

    def permission_denied(self):
        return VenueError(
            "400007", "Access Denied -- Your api key does not have sufficient permissions to access the URI", 403
        )

    def rate_limited(self, reset_ms):
        return VenueError("429000", "Too many requests. System-level rate limit exceeded.", 429)

    def internal_error(self):
        return VenueError("500000", "Internal Server Error", 500)

    def limit_headers(self, path, limit, remaining, reset_ms):
        return {
            "gw-ratelimit-limit": str(limit),
            "gw-ratelimit-remaining": str(remaining),
            "gw-ratelimit-reset": str(max(0, reset_ms - self.sim.clock())),
        }
