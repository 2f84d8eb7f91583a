"""Handlers of the /v5/ REST endpoints. Each takes (sim, key | None, params, units) and returns `result`
(or (result, retExtInfo)); errors are raised as BybitError and answered as HTTP 200 envelopes."""

from __future__ import annotations

import time
from decimal import Decimal

from . import feed, wire
from .instruments import CATEGORIES, INSTRUMENTS, SYMBOLS, instrument
from .models import BybitError

TRADE = "trade"
READ = "read"


def clean_params(params: dict, *, nested: tuple[str, ...] = ()) -> dict:
    """Scalars become strings (JSON numbers from non-pybit clients, booleans as "true"/"false");
    a list or object where Bybit expects a scalar is a parameter error."""
    out = {}
    for k, v in params.items():
        if v is None:
            continue
        if k in nested:
            out[k] = v
        elif isinstance(v, (list, dict)):
            raise BybitError(10001, f"params error: {k} invalid")
        elif isinstance(v, bool):
            out[k] = "true" if v else "false"
        else:
            out[k] = str(v)
    return out


def _category(params, allowed=CATEGORIES) -> str:
    cat = params.get("category")
    if cat not in allowed:
        raise BybitError(10001, "params error: category invalid" if cat else "params error: category is required")
    return cat


def _int(params, name, default, lo, hi) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        v = int(str(raw))
    except ValueError:
        raise BybitError(10001, f"params error: {name} invalid") from None
    if not lo <= v <= hi:
        raise BybitError(10001, f"params error: {name} out of range [{lo},{hi}]")
    return v


def _page(items: list, params, *, default: int, maximum: int, seq=lambda x: x.seq):
    """Newest-first items, cursor = seq of the last item returned."""
    limit = _int(params, "limit", default, 1, maximum)
    cursor = params.get("cursor")
    if cursor:
        try:
            c = int(str(cursor))
        except ValueError:
            raise BybitError(10001, "params error: cursor invalid") from None
        items = [i for i in items if seq(i) < c]
    page = items[:limit]
    nxt = str(seq(page[-1])) if len(items) > limit else ""
    return page, nxt


# ---------------------------------------------------------------- market (public)
def market_time(sim, key, p, units):
    ns = time.time_ns()
    return {"timeSecond": str(ns // 1_000_000_000), "timeNano": str(ns)}


def instruments_info(sim, key, p, units):
    cat = _category(p)
    items = [
        i
        for (c, s), i in INSTRUMENTS.items()
        if c == cat
        and (not p.get("symbol") or s == p["symbol"])
        and (not p.get("baseCoin") or i.base_coin == p["baseCoin"])
    ]
    out = {"category": cat, "list": [i.to_wire() for i in items]}
    if cat != "spot":
        out["nextPageCursor"] = ""
    return out


def tickers(sim, key, p, units):
    cat = _category(p)
    syms = [p["symbol"]] if p.get("symbol") else [s for s in SYMBOLS if (cat, s) in INSTRUMENTS]
    for s in syms:
        sim.engine.instrument(cat, s)
    return {"category": cat, "list": [wire.ticker(sim.engine, cat, s) for s in syms]}


def orderbook(sim, key, p, units):
    cat = _category(p)
    inst = sim.engine.instrument(cat, p.get("symbol"))
    depth = _int(p, "limit", 1 if cat == "spot" else 25, 1, 1000 if cat == "spot" else 500)
    bids, asks = wire.book(sim.engine, cat, inst.symbol, depth)
    now = sim.clock()
    m = sim.engine.markets[(cat, inst.symbol)]
    return {"s": inst.symbol, "b": bids, "a": asks, "ts": now, "u": m.trade_seq + 1, "seq": m.trade_seq + 1, "cts": now}


INTERVALS = {
    "1": 1,
    "3": 3,
    "5": 5,
    "15": 15,
    "30": 30,
    "60": 60,
    "120": 120,
    "240": 240,
    "360": 360,
    "720": 720,
    "D": 1440,
    "W": 10080,
}


def kline(sim, key, p, units):
    cat = p.get("category") or "linear"
    inst = sim.engine.instrument(cat, p.get("symbol"))
    minutes = INTERVALS.get(str(p.get("interval")))
    if minutes is None:
        raise BybitError(10001, "params error: interval invalid")
    limit = _int(p, "limit", 200, 1, 1000)
    state = sim.engine.replays.get(inst.symbol)
    path = state["csv"] if state else str(feed.default_csv(inst.symbol))
    try:
        candles = feed.load_candles(path)
    except OSError:
        candles = ()
    end_idx = state["index"] if state and state["index"] else len(candles)
    end_ms = _int(p, "end", 0, 0, 2**62) or None
    start_ms = _int(p, "start", 0, 0, 2**62) or None
    window = candles[max(0, end_idx - (limit + 1) * minutes) : end_idx]
    buckets: dict[int, list] = {}
    step = minutes * 60_000
    for c in window:
        buckets.setdefault(c.ts - c.ts % step, []).append(c)
    rows = []
    for start in sorted(buckets, reverse=True):
        if end_ms and start > end_ms or start_ms and start < start_ms:
            continue
        cs = buckets[start]
        vol = sum((c.volume for c in cs), Decimal(0))
        turnover = sum((c.volume * c.close for c in cs), Decimal(0))
        rows.append(
            [
                str(start),
                wire.s(cs[0].open),
                wire.s(max(c.high for c in cs)),
                wire.s(min(c.low for c in cs)),
                wire.s(cs[-1].close),
                wire.s(vol),
                wire.s(turnover.quantize(Decimal("0.0001"))),
            ]
        )
        if len(rows) >= limit:
            break
    return {"category": cat, "symbol": inst.symbol, "list": rows}


def recent_trade(sim, key, p, units):
    cat = _category(p)
    inst = sim.engine.instrument(cat, p.get("symbol"))
    m = sim.engine.markets[(cat, inst.symbol)]
    return {
        "category": cat,
        "list": [
            {
                "execId": str(m.trade_seq),
                "symbol": inst.symbol,
                "price": wire.s(m.last),
                "size": "0",
                "side": "Buy",
                "time": str(sim.clock()),
                "isBlockTrade": False,
            }
        ],
    }


# ---------------------------------------------------------------- orders
def order_create(sim, key, p, units):
    cat = _category(p)
    o = sim.engine.place_order(key.uid, cat, p)
    return {"orderId": o.order_id, "orderLinkId": o.order_link_id}


def order_amend(sim, key, p, units):
    cat = _category(p)
    o = sim.engine.amend_order(key.uid, cat, p)
    return {"orderId": o.order_id, "orderLinkId": o.order_link_id}


def order_cancel(sim, key, p, units):
    cat = _category(p)
    o = sim.engine.cancel_order(key.uid, cat, p)
    return {"orderId": o.order_id, "orderLinkId": o.order_link_id}


def order_cancel_all(sim, key, p, units):
    cat = _category(p)
    orders = sim.engine.cancel_all(key.uid, cat, p)
    return {"list": [{"orderId": o.order_id, "orderLinkId": o.order_link_id} for o in orders], "success": "1"}


def batch_units(p) -> int:
    req = p.get("request")
    return len(req) if isinstance(req, list) and req else 1


def _batch(sim, key, p, units, action):
    cat = _category(p)
    req = p.get("request")
    if not isinstance(req, list) or not req:
        raise BybitError(10001, "params error: request is required")
    cap = 10 if cat == "spot" else 20
    if len(req) > cap:
        raise BybitError(10001, f"params error: at most {cap} orders per batch")
    results, infos = [], []
    for i, item in enumerate(req):
        try:
            if not isinstance(item, dict):
                raise BybitError(10001, "params error: each request item must be an object")
            item = clean_params(item)
        except BybitError as exc:
            item, bad = {}, exc
        else:
            bad = None
        base = {
            "category": cat,
            "symbol": str(item.get("symbol", "")),
            "orderId": "",
            "orderLinkId": str(item.get("orderLinkId") or ""),
        }
        if i >= units:
            results.append(base | ({"createAt": ""} if action == "create" else {}))
            infos.append({"code": 10006, "msg": "Too many visits!"})
            continue
        try:
            if bad is not None:
                raise bad
            if action == "create":
                o = sim.engine.place_order(key.uid, cat, item)
                results.append(
                    base | {"orderId": o.order_id, "orderLinkId": o.order_link_id, "createAt": str(o.created_ms)}
                )
            elif action == "amend":
                o = sim.engine.amend_order(key.uid, cat, item)
                results.append(base | {"orderId": o.order_id, "orderLinkId": o.order_link_id})
            else:
                o = sim.engine.cancel_order(key.uid, cat, item)
                results.append(base | {"orderId": o.order_id, "orderLinkId": o.order_link_id})
            infos.append({"code": 0, "msg": "OK"})
        except BybitError as exc:
            results.append(base | ({"createAt": ""} if action == "create" else {}))
            infos.append({"code": exc.code, "msg": exc.msg})
    return {"list": results}, {"list": infos}


def order_create_batch(sim, key, p, units):
    return _batch(sim, key, p, units, "create")


def order_amend_batch(sim, key, p, units):
    return _batch(sim, key, p, units, "amend")


def order_cancel_batch(sim, key, p, units):
    return _batch(sim, key, p, units, "cancel")


def _filter_orders(sim, key, p, cat, *, open_only=False):
    """The user's orders of a category matching the filters, newest first (direct lookups when possible)."""
    ex = sim.engine
    sym, oid, link = p.get("symbol"), p.get("orderId"), p.get("orderLinkId")
    base, settle = p.get("baseCoin"), p.get("settleCoin")
    if oid:
        found = ex.orders.get(str(oid))
        orders = [found] if found is not None and found.uid == key.uid else []
    elif link:
        found = ex.by_link.get((key.uid, cat, link))
        orders = [found] if found is not None else []
    elif open_only:
        orders = sorted(ex.open_orders[key.uid].values(), key=lambda o: o.seq)
    else:
        orders = ex.user_orders[key.uid]
    out = []
    for o in reversed(orders):
        if (
            o.category != cat
            or sym
            and o.symbol != sym
            or oid
            and o.order_id != oid
            or link
            and o.order_link_id != link
        ):
            continue
        inst = instrument(cat, o.symbol)
        if base and inst.base_coin != base or settle and inst.quote_coin != settle:
            continue
        out.append(o)
    return out


def order_realtime(sim, key, p, units):
    cat = _category(p)
    if cat == "linear" and not (
        p.get("symbol") or p.get("baseCoin") or p.get("settleCoin") or p.get("orderId") or p.get("orderLinkId")
    ):
        raise BybitError(10001, "params error: symbol, baseCoin or settleCoin is required")
    by_id = bool(p.get("orderId") or p.get("orderLinkId"))
    closed = str(p.get("openOnly", "0")) == "1"
    orders = _filter_orders(sim, key, p, cat, open_only=not by_id and not closed)
    if not by_id:
        if closed:
            orders = [o for o in orders if not o.is_open][:500]
        else:
            orders = [o for o in orders if o.is_open]
    page, nxt = _page(orders, p, default=20, maximum=50)
    return {"category": cat, "list": [wire.order(o) for o in page], "nextPageCursor": nxt}


def order_history(sim, key, p, units):
    cat = _category(p)
    orders = _filter_orders(sim, key, p, cat)
    status = p.get("orderStatus")
    if status:
        orders = [o for o in orders if o.status == status]
    start, end = _int(p, "startTime", 0, 0, 2**62), _int(p, "endTime", 0, 0, 2**62)
    if start:
        orders = [o for o in orders if o.created_ms >= start]
    if end:
        orders = [o for o in orders if o.created_ms <= end]
    page, nxt = _page(orders, p, default=20, maximum=50)
    return {"category": cat, "list": [wire.order(o) for o in page], "nextPageCursor": nxt}


def execution_list(sim, key, p, units):
    cat = _category(p)
    sym, oid, link, etype = p.get("symbol"), p.get("orderId"), p.get("orderLinkId"), p.get("execType")
    start, end = _int(p, "startTime", 0, 0, 2**62), _int(p, "endTime", 0, 0, 2**62)
    out = [
        e
        for e in reversed(sim.engine.executions[key.uid])
        if e.category == cat
        and not (sym and e.symbol != sym)
        and not (oid and e.order_id != oid)
        and not (link and e.order_link_id != link)
        and not (etype and e.exec_type != etype)
        and not (start and e.exec_time < start)
        and not (end and e.exec_time > end)
    ]
    page, nxt = _page(out, p, default=50, maximum=100)
    return {"category": cat, "list": [wire.execution(e) for e in page], "nextPageCursor": nxt}


# ---------------------------------------------------------------- account / position / user
def wallet_balance(sim, key, p, units):
    if p.get("accountType") not in ("UNIFIED",):
        raise BybitError(10001, "accountType only support UNIFIED.")
    coins = [c for c in (p.get("coin") or "").split(",") if c] or None
    return {"list": [wire.wallet(sim.engine, key.uid, coins)]}


def fee_rate(sim, key, p, units):
    cat = _category(p)
    acc = sim.engine.account(key.uid)
    maker, taker = (acc.spot_maker, acc.spot_taker) if cat == "spot" else (acc.linear_maker, acc.linear_taker)
    syms = [s for (c, s) in INSTRUMENTS if c == cat and (not p.get("symbol") or s == p["symbol"])]
    rows = [
        {
            "symbol": s,
            "baseCoin": instrument(cat, s).base_coin,
            "takerFeeRate": wire.s(taker),
            "makerFeeRate": wire.s(maker),
        }
        for s in syms
    ]
    out = {"list": rows}
    if cat == "spot":
        out["category"] = cat
    return out


def account_info(sim, key, p, units):
    return {
        "unifiedMarginStatus": 5,
        "marginMode": "REGULAR_MARGIN",
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
        "updatedTime": str(sim.engine.accounts[key.uid].created_ms),
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
    }


def position_list(sim, key, p, units):
    cat = _category(p, ("linear",))
    sym, settle, base = p.get("symbol"), p.get("settleCoin"), p.get("baseCoin")
    if not (sym or settle):
        raise BybitError(10001, "params error: symbol or settleCoin is required")
    ex = sim.engine
    if sym:
        ex.instrument(cat, sym)
        rows = [ex.position(key.uid, sym)]
    else:
        rows = [
            pos
            for (u, s), pos in sorted(ex.positions.items())
            if u == key.uid
            and pos.size
            and instrument("linear", s).quote_coin == settle
            and (not base or instrument("linear", s).base_coin == base)
        ]
    page, nxt = _page(rows, p, default=20, maximum=200)
    return {"category": cat, "list": [wire.position(ex, r) for r in page], "nextPageCursor": nxt}


def set_leverage(sim, key, p, units):
    sim.engine.set_leverage(key.uid, p)
    return {}


def query_api(sim, key, p, units):
    perms = {
        "ContractTrade": ["Order", "Position"] if key.contract_trade else [],
        "Spot": ["SpotTrade"] if key.spot_trade else [],
        "Wallet": ["AccountTransfer", "SubMemberTransfer"] + (["Withdraw"] if key.withdraw else []),
        "Options": [],
        "Derivatives": ["DerivativesTrade"] if key.contract_trade else [],
        "CopyTrading": [],
        "BlockTrade": [],
        "Exchange": [],
        "NFT": [],
        "Affiliate": [],
        "Earn": [],
    }
    expired_at = ""
    deadline = -1
    if key.expires_ms:
        expired_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(key.expires_ms / 1000))
        deadline = max(0, int((key.expires_ms - sim.clock()) // 86_400_000))
    return {
        "id": str(key.key_id),
        "note": key.note,
        "apiKey": key.api_key,
        "readOnly": 1 if key.read_only else 0,
        "secret": "",
        "permissions": perms,
        "ips": list(key.ips) or ["*"],
        "type": 1,
        "deadlineDay": deadline,
        "expiredAt": expired_at,
        "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(key.created_ms / 1000)),
        "unified": 0,
        "uta": 1,
        "userID": key.uid,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
    }


# path -> (method, handler, auth needed, permission, categories-needed-for-trade)
ROUTES = {
    "/v5/market/time": ("GET", market_time, False, None),
    "/v5/market/instruments-info": ("GET", instruments_info, False, None),
    "/v5/market/tickers": ("GET", tickers, False, None),
    "/v5/market/orderbook": ("GET", orderbook, False, None),
    "/v5/market/kline": ("GET", kline, False, None),
    "/v5/market/recent-trade": ("GET", recent_trade, False, None),
    "/v5/order/create": ("POST", order_create, True, TRADE),
    "/v5/order/amend": ("POST", order_amend, True, TRADE),
    "/v5/order/cancel": ("POST", order_cancel, True, TRADE),
    "/v5/order/cancel-all": ("POST", order_cancel_all, True, TRADE),
    "/v5/order/create-batch": ("POST", order_create_batch, True, TRADE),
    "/v5/order/amend-batch": ("POST", order_amend_batch, True, TRADE),
    "/v5/order/cancel-batch": ("POST", order_cancel_batch, True, TRADE),
    "/v5/order/realtime": ("GET", order_realtime, True, READ),
    "/v5/order/history": ("GET", order_history, True, READ),
    "/v5/execution/list": ("GET", execution_list, True, READ),
    "/v5/account/wallet-balance": ("GET", wallet_balance, True, READ),
    "/v5/account/fee-rate": ("GET", fee_rate, True, READ),
    "/v5/account/info": ("GET", account_info, True, READ),
    "/v5/position/list": ("GET", position_list, True, READ),
    "/v5/position/set-leverage": ("POST", set_leverage, True, TRADE),
    "/v5/user/query-api": ("GET", query_api, True, READ),
}
BATCH_PATHS = {"/v5/order/create-batch", "/v5/order/amend-batch", "/v5/order/cancel-batch"}
MUTATING = {path for path, r in ROUTES.items() if r[3] == TRADE}
