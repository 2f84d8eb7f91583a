"""OKX v5 dialect (spot and USDT-margined perpetual swaps) on the one matching engine.

- Envelope {"code": "0", "msg": "", "data": [...]}; errors keep HTTP 200 with the code, except
  authentication (401) and rate limits (429, 50011).
- Signing: OK-ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath[?query] + body)),
  OK-ACCESS-TIMESTAMP an ISO-8601 time within 30 s, OK-ACCESS-PASSPHRASE the key's passphrase.
- Instruments: BTC-USDT (spot, sz in the base coin), BTC-USDT-SWAP (sz in contracts of ctVal).
- Client order ids (clOrdId): 1-32 letters and digits; a duplicate is 51016.
- ccxt's okx client calls /asset/currencies and /public/instruments first, places every order
  through /trade/batch-orders and reads fills from /trade/fills-history.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from decimal import Decimal

from aiohttp import web

from .. import wire
from ..funding import INTERVAL_MS as FUNDING_INTERVAL_MS
from ..funding import funding_slot
from ..instruments import INSTRUMENTS, SYMBOLS, Instrument, instrument
from ..models import ZERO, BybitError, Position
from ..rest import market as bybit_market
from .base import Dialect, Route, VenueError, funding_settlements, ms

S = wire.s
CT_VAL = {"BTC": Decimal("0.01"), "ETH": Decimal("0.1"), "LTC": Decimal("1")}
CLORDID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
STATES = {
    "New": "live",
    "PartiallyFilled": "partially_filled",
    "Filled": "filled",
    "Cancelled": "canceled",
    "PartiallyFilledCanceled": "canceled",
    "Rejected": "canceled",
    "Deactivated": "canceled",
}
BARS = {
    "1m": "1",
    "3m": "3",
    "5m": "5",
    "15m": "15",
    "30m": "30",
    "1H": "60",
    "2H": "120",
    "4H": "240",
    "6H": "360",
    "12H": "720",
    "1D": "D",
    "1W": "W",
    "6Hutc": "360",
    "12Hutc": "720",
    "1Dutc": "D",
}


def inst_id(inst: Instrument) -> str:
    base = f"{inst.base_coin}-{inst.quote_coin}"
    return base if inst.category == "spot" else f"{base}-SWAP"


def parse_inst(value) -> Instrument:
    parts = str(value or "").split("-")
    if len(parts) == 2 or (len(parts) == 3 and parts[2] == "SWAP"):
        inst = instrument("spot" if len(parts) == 2 else "linear", parts[0] + parts[1])
        if inst is not None:
            return inst
    raise VenueError("51001", "Instrument ID does not exist", 200)


def ct_val(inst: Instrument) -> Decimal:
    return CT_VAL.get(inst.base_coin, Decimal(1)) if inst.category == "linear" else Decimal(1)


def to_sz(inst: Instrument, qty: Decimal) -> Decimal:
    return qty / ct_val(inst)


def from_sz(inst: Instrument, sz: Decimal) -> Decimal:
    return sz * ct_val(inst)


def _dec(value, name: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except Exception:
        raise VenueError("51000", f"Parameter {name} error", 200) from None
    if not d.is_finite():
        raise VenueError("51000", f"Parameter {name} error", 200)
    return d


def _inst_type(inst: Instrument) -> str:
    return "SPOT" if inst.category == "spot" else "SWAP"


# --- wire shapes -------------------------------------------------------------------------------
def instrument_json(inst: Instrument) -> dict:
    ct = ct_val(inst)
    spot = inst.category == "spot"
    return {
        "alias": "",
        "auctionEndTime": "",
        "baseCcy": inst.base_coin if spot else "",
        "category": "1",
        "ctMult": "" if spot else "1",
        "ctType": "" if spot else "linear",
        "ctVal": "" if spot else S(ct),
        "ctValCcy": "" if spot else inst.base_coin,
        "expTime": "",
        "instFamily": "" if spot else f"{inst.base_coin}-{inst.quote_coin}",
        "instId": inst_id(inst),
        "instType": _inst_type(inst),
        "lever": "10" if spot else S(inst.max_leverage),
        "listTime": "1548133413000",
        "lotSz": S(inst.qty_step / ct),
        "maxIcebergSz": S(inst.max_qty / ct),
        "maxLmtAmt": "20000000",
        "maxLmtSz": S(inst.max_qty / ct),
        "maxMktAmt": "1000000",
        "maxMktSz": S((inst.max_market_qty or inst.max_qty) / ct),
        "maxStopSz": S(inst.max_qty / ct),
        "maxTriggerSz": S(inst.max_qty / ct),
        "maxTwapSz": S(inst.max_qty / ct),
        "minSz": S(inst.min_qty / ct),
        "optType": "",
        "quoteCcy": inst.quote_coin if spot else "",
        "settleCcy": "" if spot else inst.quote_coin,
        "state": "live",
        "ruleType": "normal",
        "stk": "",
        "tickSz": S(inst.tick_size),
        "uly": "" if spot else f"{inst.base_coin}-{inst.quote_coin}",
    }


def order_json(o) -> dict:
    inst = instrument(o.category, o.symbol)
    assert inst is not None  # the order/position exists, so its instrument does
    ct = ct_val(inst)
    if o.order_type == "Market":
        ord_type = "market"
    else:
        ord_type = {"PostOnly": "post_only", "IOC": "ioc", "FOK": "fok"}.get(o.time_in_force, "limit")
    avg = o.cum_value / o.cum_qty if o.cum_qty else ZERO
    sz = o.qty if o.market_unit == "quoteCoin" else o.qty / ct
    return {
        "accFillSz": S(o.cum_qty / ct),
        "algoClOrdId": "",
        "algoId": "",
        "attachAlgoClOrdId": "",
        "attachAlgoOrds": [],
        "avgPx": S(avg.quantize(Decimal("0.00000001"))) if o.cum_qty else "",
        "cTime": str(o.created_ms),
        "cancelSource": "1" if o.cancel_type == "CancelByUser" else "",
        "cancelSourceReason": "",
        "category": "normal",
        "ccy": "",
        "clOrdId": o.order_link_id,
        "fee": S(-o.cum_fee),
        "feeCcy": o.fee_coin,
        "fillPx": S(o.cum_value / o.cum_qty) if o.cum_qty else "",
        "fillSz": S(o.cum_qty / ct) if o.cum_qty else "0",
        "fillTime": str(o.updated_ms) if o.cum_qty else "",
        "instId": inst_id(inst),
        "instType": _inst_type(inst),
        "isTpLimit": "false",
        "lever": "" if o.category == "spot" else "10",
        "linkedAlgoOrd": {"algoId": ""},
        "ordId": o.order_id,
        "ordType": ord_type,
        "pnl": S(o.closed_pnl),
        "posSide": "net",
        "px": S(o.price) if o.order_type == "Limit" else "",
        "pxType": "",
        "pxUsd": "",
        "pxVol": "",
        "quickMgnType": "",
        "rebate": "0",
        "rebateCcy": o.fee_coin,
        "reduceOnly": "true" if o.reduce_only else "false",
        "side": o.side.lower(),
        "slOrdPx": "",
        "slTriggerPx": "",
        "slTriggerPxType": "",
        "source": "",
        "state": STATES.get(o.status, "canceled"),
        "stpId": "",
        "stpMode": "cancel_maker",
        "sz": S(sz),
        "tag": "",
        "tdMode": "cash" if o.category == "spot" else "cross",
        "tgtCcy": "quote_ccy" if o.market_unit == "quoteCoin" else ("base_ccy" if o.category == "spot" else ""),
        "tpOrdPx": "",
        "tpTriggerPx": "",
        "tpTriggerPxType": "",
        "tradeId": "",
        "uTime": str(o.updated_ms),
    }


def fill_json(e) -> dict:
    inst = instrument(e.category, e.symbol)
    assert inst is not None  # the order/position exists, so its instrument does
    return {
        "instType": _inst_type(inst),
        "instId": inst_id(inst),
        "tradeId": str(e.seq),
        "ordId": e.order_id,
        "clOrdId": e.order_link_id,
        "billId": str(e.seq),
        "subType": "1" if e.side == "Buy" else "2",
        "tag": "",
        "fillPx": S(e.exec_price),
        "fillSz": S(to_sz(inst, e.exec_qty)),
        "fillIdxPx": S(e.mark_price),
        "fillPnl": S(e.exec_pnl),
        "fillPxVol": "",
        "fillPxUsd": "",
        "fillMarkVol": "",
        "fillFwdPx": "",
        "fillMarkPx": S(e.mark_price),
        "side": e.side.lower(),
        "posSide": "net",
        "execType": "M" if e.is_maker else "T",
        "feeCcy": e.fee_currency,
        "fee": S(-e.exec_fee),
        "ts": str(e.exec_time),
        "fillTime": str(e.exec_time),
        "feeRate": S(-e.fee_rate),
    }


# --- handlers ----------------------------------------------------------------------------------
def public_time(sim, key, p):
    return [{"ts": str(sim.clock())}]


def instruments(sim, key, p):
    itype = p.get("instType")
    if itype not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
        raise VenueError("51000", "Parameter instType error", 200)
    cat = {"SPOT": "spot", "SWAP": "linear"}.get(itype)
    out = [instrument_json(i) for (c, _s), i in INSTRUMENTS.items() if c == cat]
    if p.get("instId"):
        out = [i for i in out if i["instId"] == p["instId"]]
    return out


def currencies(sim, key, p):
    coins = ["USDT"] + [s[:-4] for s in SYMBOLS]
    return [
        {
            "ccy": c,
            "chain": f"{c}-{c}",
            "canDep": True,
            "canWd": True,
            "canInternal": True,
            "name": c,
            "minWd": "0.0001",
            "maxWd": "1000000",
            "wdTickSz": "8",
            "minFee": "0.0001",
            "maxFee": "0.001",
            "mainNet": True,
            "logoLink": "",
        }
        for c in coins
    ]


def _ticker(sim, inst: Instrument) -> dict:
    t = wire.ticker(sim.engine, inst.category, inst.symbol)
    return {
        "instType": _inst_type(inst),
        "instId": inst_id(inst),
        "last": t["lastPrice"],
        "lastSz": "1",
        "askPx": t["ask1Price"],
        "askSz": "1",
        "bidPx": t["bid1Price"],
        "bidSz": "1",
        "open24h": t["prevPrice24h"],
        "high24h": t["highPrice24h"],
        "low24h": t["lowPrice24h"],
        "volCcy24h": t["turnover24h"],
        "vol24h": t["volume24h"],
        "sodUtc0": t["prevPrice24h"],
        "sodUtc8": t["prevPrice24h"],
        "ts": str(sim.clock()),
    }


def ticker(sim, key, p):
    return [_ticker(sim, parse_inst(p.get("instId")))]


def tickers(sim, key, p):
    cat = {"SPOT": "spot", "SWAP": "linear"}.get(p.get("instType"))
    return [_ticker(sim, i) for (c, _s), i in INSTRUMENTS.items() if c == cat]


def candles(sim, key, p):
    inst = parse_inst(p.get("instId"))
    interval = BARS.get(p.get("bar") or "1m")
    if interval is None:
        raise VenueError("51000", "Parameter bar error", 200)
    limit = min(300, max(1, ms(p.get("limit")) or 100))
    # OKX pages by open time: `before` = newer than, `after` = older than (both exclusive).
    newer_than, older_than = max(0, ms(p.get("before"))), max(0, ms(p.get("after")))
    window = {"start": str(newer_than + 1) if newer_than else "", "end": str(older_than - 1) if older_than > 1 else ""}
    rows = bybit_market.kline(
        sim,
        None,
        {"category": inst.category, "symbol": inst.symbol, "interval": interval, "limit": str(limit)} | window,
        1,
    )["list"]
    ct = ct_val(inst)
    return [[r[0], r[1], r[2], r[3], r[4], S(Decimal(r[5]) / ct), r[5], r[6], "1"] for r in rows]


def books(sim, key, p):
    inst = parse_inst(p.get("instId"))
    depth = min(400, max(1, ms(p.get("sz")) or 1))
    bids, asks = wire.book(sim.engine, inst.category, inst.symbol, depth)
    return [
        {
            "asks": [[px, sz, "0", "1"] for px, sz in asks],
            "bids": [[px, sz, "0", "1"] for px, sz in bids],
            "ts": str(sim.clock()),
        }
    ]


def balance(sim, key, p):
    ex = sim.engine
    acc = ex.accounts[key.uid]
    w = wire.wallet(ex, key.uid)
    wanted = [c for c in (p.get("ccy") or "").split(",") if c]
    details = []
    for item in w["coin"]:
        coin = item["coin"]
        if wanted and coin not in wanted:
            continue
        cash = acc.balances.get(coin, ZERO)
        avail = ex.available(key.uid, coin)
        eq = Decimal(item["equity"])
        details.append(
            {
                "ccy": coin,
                "eq": S(eq),
                "cashBal": S(cash),
                "availBal": S(avail),
                "availEq": S(avail),
                "frozenBal": S(eq - avail),
                "ordFrozen": S(acc.locked.get(coin, ZERO) + (ex.order_im_total(key.uid) if coin == "USDT" else ZERO)),
                "upl": item["unrealisedPnl"],
                "isoEq": "0",
                "disEq": item["usdValue"],
                "eqUsd": item["usdValue"],
                "liab": "0",
                "uTime": str(sim.clock()),
            }
        )
    return [
        {
            "adjEq": w["totalEquity"],
            "details": details,
            "imr": w["totalInitialMargin"],
            "mmr": w["totalMaintenanceMargin"],
            "totalEq": w["totalEquity"],
            "uTime": str(sim.clock()),
        }
    ]


def account_config(sim, key, p):
    perm = ["read_only"] + ([] if key.read_only or not (key.spot_trade or key.contract_trade) else ["trade"])
    if key.withdraw:
        perm.append("withdraw")
    return [
        {
            "acctLv": "2",
            "acctStpMode": "cancel_maker",
            "autoLoan": False,
            "ctIsoMode": "automatic",
            "greeksType": "PA",
            "ip": ",".join(key.ips),
            "kycLv": "2",
            "label": key.note or "setka-twin",
            "level": "Lv1",
            "levelTmp": "",
            "liquidationGear": "-1",
            "mainUid": str(key.uid),
            "mgnIsoMode": "automatic",
            "opAuth": "0",
            "perm": ",".join(perm),
            "posMode": "net_mode",
            "roleType": "0",
            "spotBorrowAutoRepay": False,
            "spotOffsetType": "",
            "spotRoleType": "0",
            "spotTraderInsts": [],
            "traderInsts": [],
            "type": "0",
            "uid": str(key.uid),
            "enableSpotBorrow": False,
        }
    ]


def trade_fee(sim, key, p):
    acc = sim.engine.account(key.uid)
    spot = p.get("instType") == "SPOT"
    maker, taker = (acc.spot_maker, acc.spot_taker) if spot else (acc.linear_maker, acc.linear_taker)
    base = {
        "category": "1",
        "delivery": "",
        "exercise": "",
        "instType": p.get("instType") or "SPOT",
        "level": "Lv1",
        "ts": str(sim.clock()),
        "fiat": [],
    }
    if spot:
        return [
            base
            | {"maker": S(-maker), "taker": S(-taker), "makerU": "", "takerU": "", "makerUSDC": "", "takerUSDC": ""}
        ]
    return [
        base
        | {
            "maker": "",
            "taker": "",
            "makerU": S(-maker),
            "takerU": S(-taker),
            "makerUSDC": S(-maker),
            "takerUSDC": S(-taker),
        }
    ]


def _place(sim, key, item: dict):
    inst = parse_inst(item.get("instId"))
    link = str(item.get("clOrdId") or "")
    if link and not CLORDID_RE.match(link):
        raise VenueError("51000", "Parameter clOrdId error", 200)
    side = str(item.get("side") or "").lower()
    if side not in ("buy", "sell"):
        raise VenueError("51000", "Parameter side error", 200)
    td = item.get("tdMode")
    if inst.category == "spot" and td not in ("cash", None, ""):
        raise VenueError("51000", "Parameter tdMode error", 200)
    if inst.category == "linear" and td not in ("cross", "isolated"):
        raise VenueError("51000", "Parameter tdMode error", 200)
    ord_type = item.get("ordType")
    params = {"symbol": inst.symbol, "side": side.capitalize(), "orderLinkId": link}
    if ord_type == "market":
        params["orderType"] = "Market"
    elif ord_type in ("limit", "post_only", "ioc", "fok"):
        params["orderType"] = "Limit"
        params["timeInForce"] = {"limit": "GTC", "post_only": "PostOnly", "ioc": "IOC", "fok": "FOK"}[ord_type]
        if item.get("px") in (None, ""):
            raise VenueError("51000", "Parameter px error", 200)
        params["price"] = str(_dec(item["px"], "px"))
    else:
        raise VenueError("51000", "Parameter ordType error", 200)
    sz = _dec(item.get("sz"), "sz")
    if sz <= 0:
        raise VenueError("51000", "Parameter sz error", 200)
    if inst.category == "spot" and ord_type == "market":
        tgt = item.get("tgtCcy") or ("quote_ccy" if side == "buy" else "base_ccy")
        params["marketUnit"] = "quoteCoin" if tgt == "quote_ccy" else "baseCoin"
        params["qty"] = str(sz)
    else:
        if (sz / (inst.qty_step / ct_val(inst))) % 1 != 0:
            raise VenueError(
                "51121", f"Order quantity must be a multiple of the lot size {inst.qty_step / ct_val(inst)}.", 200
            )
        params["qty"] = str(from_sz(inst, sz))
    if str(item.get("reduceOnly", "")).lower() == "true":
        params["reduceOnly"] = "true"
    o = sim.engine.place_order(key.uid, inst.category, params)
    return o


def _item_result(o=None, link="", err: VenueError | None = None) -> dict:
    if err is not None:
        return {"clOrdId": link, "ordId": "", "sCode": str(err.code), "sMsg": err.msg, "tag": "", "ts": ""}
    return {
        "clOrdId": o.order_link_id,
        "ordId": o.order_id,
        "sCode": "0",
        "sMsg": "Order placed",
        "tag": "",
        "ts": str(o.created_ms),
    }


def _batch(sim, key, items, action):
    if not isinstance(items, list) or not items:
        raise VenueError("51000", "Parameter error", 200)
    if len(items) > 20:
        raise VenueError("51000", "Parameter error: at most 20 orders per batch", 200)
    out = []
    for item in items:
        link = str((item or {}).get("clOrdId") or "") if isinstance(item, dict) else ""
        try:
            if not isinstance(item, dict):
                raise VenueError("51000", "Parameter error", 200)
            o = action(sim, key, item)
            res = _item_result(o)
            if action is _cancel:
                res["sMsg"] = ""
            out.append(res)
        except VenueError as exc:
            out.append(_item_result(link=link, err=exc))
        except BybitError as exc:
            out.append(_item_result(link=link, err=DIALECT_ERRORS(exc)))
    failed = sum(1 for r in out if r["sCode"] != "0")
    if failed:
        code = "1" if failed == len(out) else "2"
        msg = "All operations failed" if code == "1" else "Bulk operation partially succeeded"
        raise VenueError(code, msg, 200, {"data": out})
    return out


def place_order(sim, key, p):
    return _batch(sim, key, [{k: v for k, v in p.items() if k != "__list__"}], _place)


def batch_orders(sim, key, p):
    return _batch(sim, key, p.get("__list__"), _place)


def _find(sim, key, p):
    inst = parse_inst(p.get("instId"))
    o = None
    if p.get("ordId"):
        o = sim.engine.orders.get(str(p["ordId"]))
        if o is not None and (o.uid != key.uid or o.symbol != inst.symbol or o.category != inst.category):
            o = None
    elif p.get("clOrdId"):
        o = sim.engine.by_link.get((key.uid, inst.category, str(p["clOrdId"])))
    else:
        raise VenueError("51000", "Parameter ordId or clOrdId error", 200)
    if o is None:
        raise VenueError("51603", "Order does not exist", 200)
    return inst, o


def _cancel(sim, key, item):
    inst, o = _find(sim, key, item)
    if not o.is_open:
        raise VenueError(
            "51400", "Order cancellation failed as the order has been filled, canceled or does not exist", 200
        )
    return sim.engine.cancel_order(key.uid, inst.category, {"symbol": inst.symbol, "orderId": o.order_id})


def cancel_order(sim, key, p):
    return _batch(sim, key, [{k: v for k, v in p.items() if k != "__list__"}], _cancel)


def cancel_batch(sim, key, p):
    return _batch(sim, key, p.get("__list__"), _cancel)


def get_order(sim, key, p):
    _inst, o = _find(sim, key, p)
    return [order_json(o)]


def _orders_of(sim, key, p, *, open_only: bool):
    ex = sim.engine
    itype = p.get("instType")
    inst = parse_inst(p["instId"]) if p.get("instId") else None
    src = ex.open_orders[key.uid].values() if open_only else ex.user_orders[key.uid]
    out = []
    for o in sorted(src, key=lambda o: o.seq, reverse=True):
        if open_only != o.is_open:
            continue
        if inst is not None and (o.category, o.symbol) != (inst.category, inst.symbol):
            continue
        listed = instrument(o.category, o.symbol)
        assert listed is not None  # orders exist only on listed instruments
        if itype and _inst_type(listed) != itype:
            continue
        out.append(o)
    after, before = p.get("after"), p.get("before")  # ordId pagination, newest first
    if after:
        out = [o for o in out if int(o.order_id) < int(after)]
    if before:
        out = [o for o in out if int(o.order_id) > int(before)]
    limit = min(100, max(1, ms(p.get("limit")) or 100))
    return [order_json(o) for o in out[:limit]]


def orders_pending(sim, key, p):
    return _orders_of(sim, key, p, open_only=True)


def orders_history(sim, key, p):
    if not p.get("instType"):
        raise VenueError("51000", "Parameter instType error", 200)
    return _orders_of(sim, key, p, open_only=False)


def fills(sim, key, p):
    itype = p.get("instType")
    inst = parse_inst(p["instId"]) if p.get("instId") else None
    rows = []
    for e in reversed(sim.engine.executions[key.uid]):
        if e.exec_type == "Funding":  # a settlement, not a fill
            continue
        if inst is not None and (e.category, e.symbol) != (inst.category, inst.symbol):
            continue
        if itype and _inst_type(instrument(e.category, e.symbol)) != itype:
            continue
        if p.get("ordId") and e.order_id != p["ordId"]:
            continue
        rows.append(e)
    after, before = p.get("after"), p.get("before")  # billId pagination
    if after:
        rows = [e for e in rows if e.seq < int(after)]
    if before:
        rows = [e for e in rows if e.seq > int(before)]
    begin, end = ms(p.get("begin")), ms(p.get("end"))
    if begin:
        rows = [e for e in rows if e.exec_time >= begin]
    if end:
        rows = [e for e in rows if e.exec_time <= end]
    limit = min(100, max(1, ms(p.get("limit")) or 100))
    return [fill_json(e) for e in rows[:limit]]


def fills_history(sim, key, p):
    if not p.get("instType"):
        raise VenueError("51000", "Parameter instType error", 200)
    return fills(sim, key, p)


def _position_json(sim, pos, inst) -> dict:
    ex = sim.engine
    data = wire.position(ex, pos)
    ct = ct_val(inst)
    return {
        "adl": "1",
        "availPos": "",
        "avgPx": data["avgPrice"] if pos.size else "",
        "cTime": str(pos.created_ms),
        "ccy": "USDT",
        "deltaBS": "",
        "imr": data["positionIM"],
        "instId": inst_id(inst),
        "instType": "SWAP",
        "interest": "0",
        "last": S(ex.price("linear", inst.symbol)),
        "lever": S(pos.leverage),
        "liab": "",
        "liqPx": data["liqPrice"],
        "margin": "",
        "markPx": data["markPrice"],
        "mgnMode": "cross",
        "mgnRatio": "",
        "mmr": data["positionMM"],
        "notionalUsd": data["positionValue"],
        "pos": S(pos.size / ct),
        "posCcy": "",
        "posId": f"{pos.uid}{inst.symbol}",
        "posSide": "net",
        "realizedPnl": S(pos.cum_realised),
        "upl": data["unrealisedPnl"],
        "uplRatio": "0",
        "uTime": str(pos.updated_ms),
    }


def positions(sim, key, p):
    ex = sim.engine
    wanted = {parse_inst(i) for i in (p.get("instId") or "").split(",") if i} if p.get("instId") else None
    out = []
    for sym in SYMBOLS:
        inst = instrument("linear", sym)
        pos = ex.positions.get((key.uid, sym))
        if pos is None or not pos.size or (wanted is not None and inst not in wanted):
            continue
        out.append(_position_json(sim, pos, inst))
    return out


def funding_rate_history(sim, key, p):
    """GET /api/v5/public/funding-rate-history: newest first; `after`/`before` are fundingTime."""
    inst = parse_inst(p.get("instId"))
    if inst.category != "linear":
        raise VenueError("51000", "Parameter instId error", 200)
    rows = list(reversed(funding_settlements(sim, inst.symbol)))
    after, before = ms(p.get("after")), ms(p.get("before"))
    rows = [r for r in rows if (not after or r[0] < after) and (not before or r[0] > before)]
    limit = min(100, max(1, ms(p.get("limit")) or 100))
    return [
        {
            "fundingRate": S(rate),
            "fundingTime": str(t),
            "instId": inst_id(inst),
            "instType": "SWAP",
            "method": "current_period",
            "realizedRate": S(rate),
        }
        for t, rate, _mark in rows[:limit]
    ]


def funding_rate(sim, key, p):
    """GET /api/v5/public/funding-rate: the swap's rate for the period now running (settled at
    fundingTime, the next 8-hour boundary of market time); settFundingRate is the last settled
    rate. As OKX answers today: method "current_period", nextFundingRate empty."""
    inst = parse_inst(p.get("instId"))
    if inst.category != "linear":
        raise VenueError("51000", "Parameter instId error", 200)
    now = sim.clock()
    settle_at = (funding_slot(now) + 1) * FUNDING_INTERVAL_MS
    rate = sim.engine.funding_rate(inst.symbol)
    settled = funding_settlements(sim, inst.symbol)
    return [
        {
            "formulaType": "withRate",
            "fundingRate": S(rate),
            "fundingTime": str(settle_at),
            "impactValue": "",
            "instId": inst_id(inst),
            "instType": "SWAP",
            "interestRate": "0.0001",
            "maxFundingRate": "0.00375",
            "method": "current_period",
            "minFundingRate": "-0.00375",
            "nextFundingRate": "",
            "nextFundingTime": str(settle_at + FUNDING_INTERVAL_MS),
            "premium": S(rate - Decimal("0.0001")),
            "settFundingRate": S(settled[-1][1] if settled else rate),
            "settState": "settled",
            "ts": str(now),
        }
    ]


def bills(sim, key, p):
    """GET /api/v5/account/bills (and -archive): the account's funding settlements as type 8
    bills (subType 173 expense, 174 income; `sz` the position in contracts); newest first, paged
    back with `after` (a billId). Other bill types are not kept by the twin."""
    if p.get("type") not in (None, "", "8"):
        return []
    wanted = parse_inst(p.get("instId")) if p.get("instId") else None
    rows = []
    for e in sim.engine.executions[key.uid]:
        if e.exec_type != "Funding":
            continue
        inst = instrument("linear", e.symbol)
        if inst is None or (wanted is not None and inst != wanted):
            continue
        rows.append((e, inst))
    rows.sort(key=lambda r: r[0].seq, reverse=True)
    after, before = ms(p.get("after")), ms(p.get("before"))
    begin, end = ms(p.get("begin")), ms(p.get("end"))
    rows = [
        (e, inst)
        for e, inst in rows
        if (not after or e.seq < after)
        and (not before or e.seq > before)
        and (not begin or e.exec_time >= begin)
        and (not end or e.exec_time <= end)
    ]
    limit = min(100, max(1, ms(p.get("limit")) or 100))
    out = []
    for e, inst in rows[:limit]:
        change = -e.exec_fee
        out.append(
            {
                "bal": S(sim.engine.accounts[key.uid].balances.get("USDT", ZERO)),
                "balChg": S(change),
                "billId": str(e.seq),
                "ccy": "USDT",
                "clOrdId": "",
                "execType": "",
                "fee": "0",
                "fillTime": "",
                "from": "",
                "instId": inst_id(inst),
                "instType": "SWAP",
                "interest": "0",
                "mgnMode": "cross",
                "notes": "",
                "ordId": "",
                "pnl": S(change),
                "posBal": "0",
                "posBalChg": "0",
                "px": "",
                "subType": "174" if change > 0 else "173",
                "sz": S(to_sz(inst, e.exec_qty)),
                "tag": "",
                "to": "",
                "tradeId": "",
                "ts": str(e.exec_time),
                "type": "8",
            }
        )
    return out


def set_leverage(sim, key, p):
    inst = parse_inst(p.get("instId"))
    if inst.category != "linear":
        raise VenueError("51000", "Parameter instId error", 200)
    lever = str(_dec(p.get("lever"), "lever"))
    try:
        sim.engine.set_leverage(
            key.uid, {"category": "linear", "symbol": inst.symbol, "buyLeverage": lever, "sellLeverage": lever}
        )
    except BybitError as exc:
        if exc.code != 110043:  # unchanged: OKX just confirms
            raise
    return [{"instId": inst_id(inst), "lever": lever, "mgnMode": p.get("mgnMode") or "cross", "posSide": "net"}]


def leverage_info(sim, key, p):
    out = []
    for i in (p.get("instId") or "").split(","):
        inst = parse_inst(i)
        pos = sim.engine.positions.get((key.uid, inst.symbol)) or Position(uid=key.uid, symbol=inst.symbol)
        out.append(
            {
                "instId": inst_id(inst),
                "lever": S(pos.leverage),
                "mgnMode": p.get("mgnMode") or "cross",
                "posSide": "net",
            }
        )
    return out


def set_position_mode(sim, key, p):
    if p.get("posMode") != "net_mode":
        raise VenueError("51000", "Parameter posMode error: the twin supports net_mode only", 200)
    return [{"posMode": "net_mode"}]


def _err(code, msg, status=200):
    return (code, msg, status)


class OkxDialect(Dialect):
    name = "okx"
    banner = "OKX v5"
    prefixes = ("/api/v5/",)
    DEFAULT_LIMIT = 20
    LIMITS = {  # per account per second (OKX publishes them per 2 s; halved)
        "POST /api/v5/trade/order": {"*": 30},
        "POST /api/v5/trade/batch-orders": {"*": 150},
        "POST /api/v5/trade/cancel-order": {"*": 30},
        "POST /api/v5/trade/cancel-batch-orders": {"*": 150},
        "GET /api/v5/trade/order-pending": {"*": 30},
        "GET /api/v5/trade/orders-pending": {"*": 30},
        "GET /api/v5/trade/orders-history": {"*": 20},
        "GET /api/v5/trade/fills": {"*": 30},
        "GET /api/v5/trade/fills-history": {"*": 5},
        "GET /api/v5/account/balance": {"*": 5},
        "GET /api/v5/account/positions": {"*": 5},
        "GET /api/v5/account/bills": {"*": 5},
        "GET /api/v5/account/bills-archive": {"*": 2},
        "GET /api/v5/account/config": {"*": 2},
        "GET /api/v5/account/trade-fee": {"*": 2},
        "POST /api/v5/account/set-leverage": {"*": 10},
        "GET /api/v5/asset/currencies": {"*": 3},
    }
    ERRORS = {
        170131: _err("51008", "Order failed. Insufficient USDT balance in account."),
        110007: _err("51008", "Order failed. Insufficient USDT margin in account."),
        170141: _err("51016", "Duplicated clOrdId"),
        110072: _err("51016", "Duplicated clOrdId"),
        170134: _err("51006", "Order price is not a multiple of the tick size."),
        170137: _err("51121", "Order quantity must be a multiple of the lot size."),
        170136: _err("51020", "Your order should meet or exceed the minimum order amount."),
        170140: _err("51020", "Your order should meet or exceed the minimum order amount."),
        110094: _err("51020", "Your order should meet or exceed the minimum order amount."),
        170135: _err("51202", "Market order amount exceeds the maximum amount."),
        170121: _err("51001", "Instrument ID does not exist"),
        170213: _err("51603", "Order does not exist"),
        110001: _err("51603", "Order does not exist"),
        170810: _err("51024", "Trading account is blocked: too many open orders"),
        110020: _err("51024", "Trading account is blocked: too many open orders"),
        110017: _err(
            "51169",
            "Order failed because you don't have any positions in this direction for this contract to reduce or close.",
        ),
        110012: _err("51008", "Order failed. Insufficient USDT margin in account."),
        "*": _err("51000", ""),
    }
    ROUTES = {
        ("GET", "/api/v5/public/time"): Route(public_time),
        ("GET", "/api/v5/public/instruments"): Route(instruments),
        ("GET", "/api/v5/market/ticker"): Route(ticker),
        ("GET", "/api/v5/market/tickers"): Route(tickers),
        ("GET", "/api/v5/market/candles"): Route(candles),
        ("GET", "/api/v5/market/history-candles"): Route(candles),
        ("GET", "/api/v5/market/books"): Route(books),
        ("GET", "/api/v5/asset/currencies"): Route(currencies, auth=True),
        ("GET", "/api/v5/account/balance"): Route(balance, auth=True),
        ("GET", "/api/v5/account/config"): Route(account_config, auth=True),
        ("GET", "/api/v5/account/trade-fee"): Route(trade_fee, auth=True),
        ("GET", "/api/v5/account/positions"): Route(positions, auth=True),
        ("GET", "/api/v5/account/bills"): Route(bills, auth=True),
        ("GET", "/api/v5/account/bills-archive"): Route(bills, auth=True),
        ("GET", "/api/v5/public/funding-rate"): Route(funding_rate),
        ("GET", "/api/v5/public/funding-rate-history"): Route(funding_rate_history),
        ("GET", "/api/v5/account/leverage-info"): Route(leverage_info, auth=True),
        ("POST", "/api/v5/account/set-leverage"): Route(set_leverage, auth=True, trade="linear", mutating=True),
        ("POST", "/api/v5/account/set-position-mode"): Route(set_position_mode, auth=True, trade="linear"),
        ("POST", "/api/v5/trade/order"): Route(place_order, auth=True, trade="params", mutating=True),
        ("POST", "/api/v5/trade/batch-orders"): Route(
            batch_orders, auth=True, trade="params", mutating=True, per_item=True
        ),
        ("POST", "/api/v5/trade/cancel-order"): Route(cancel_order, auth=True, trade="params", mutating=True),
        ("POST", "/api/v5/trade/cancel-batch-orders"): Route(
            cancel_batch, auth=True, trade="params", mutating=True, per_item=True
        ),
        ("GET", "/api/v5/trade/order"): Route(get_order, auth=True),
        ("GET", "/api/v5/trade/orders-pending"): Route(orders_pending, auth=True),
        ("GET", "/api/v5/trade/orders-history"): Route(orders_history, auth=True),
        ("GET", "/api/v5/trade/orders-history-archive"): Route(orders_history, auth=True),
        ("GET", "/api/v5/trade/fills"): Route(fills, auth=True),
        ("GET", "/api/v5/trade/fills-history"): Route(fills_history, auth=True),
    }

    def add_routes(self, app) -> None:
        from .stream import VenueStreamHub

        self.stream_hub = VenueStreamHub(self.sim, self)
        app.router.add_get("/ws/v5/private", self.stream_hub.handle)
        super().add_routes(app)

    # --- the private WebSocket (/ws/v5/private, `orders` channel) ------------------------------
    def stream_bad_message(self, conn, text) -> None:
        conn.send({"event": "error", "code": "60012", "msg": f"Illegal request: {text[:200]}"})

    def stream_on_message(self, conn, data: dict) -> None:
        from .stream import okx_login

        op = data.get("op")
        if op == "login":
            key, code, msg = okx_login(self.sim, data.get("args"))
            if key is None:
                conn.send({"event": "error", "code": code, "msg": msg})
                return
            conn.uid = key.uid
            conn.send({"event": "login", "code": "0", "msg": "", "connId": str(id(conn))})
        elif op == "subscribe":
            args = data.get("args") or []
            if conn.uid is None:
                conn.send({"event": "error", "code": "60011", "msg": "Please log in"})
                return
            for arg in args:
                if not isinstance(arg, dict) or arg.get("channel") != "orders":
                    conn.send({"event": "error", "code": "60018", "msg": f"Wrong URL or channel:{arg}"})
                    return
            conn.subscribed = True
            for arg in args:
                conn.send({"event": "subscribe", "arg": arg, "connId": str(id(conn))})
        else:
            conn.send({"event": "error", "code": "60012", "msg": f"Illegal request: {op}"})

    def stream_messages(self, conn, o, row, fill) -> list:
        data = order_json(o)
        if fill is not None:
            inst = instrument(o.category, o.symbol)
            assert inst is not None  # the order exists, so its instrument does
            data.update(
                fillPx=S(fill.exec_price),
                fillSz=S(to_sz(inst, fill.exec_qty)),
                tradeId=str(fill.seq),
                fillTime=str(fill.exec_time),
                fillFee=S(-fill.exec_fee),
                fillFeeCcy=fill.fee_currency,
                execType="M" if fill.is_maker else "T",
            )
        else:
            data.update(fillPx="", fillSz="0", tradeId="")
        return [{"arg": {"channel": "orders", "instType": "ANY", "uid": str(conn.uid)}, "data": [data]}]

    def trade_category(self, path, params) -> str | None:
        items = params.get("__list__") or [params]
        cats = set()
        for item in items:
            if isinstance(item, dict):
                try:
                    cats.add(parse_inst(item.get("instId")).category)
                except VenueError:
                    pass
        return "linear" if "linear" in cats else "spot"

    def authenticate(self, request, raw_query, raw_body, params):
        h = request.headers
        api_key = h.get("OK-ACCESS-KEY") or ""
        if not api_key:
            raise VenueError("50103", "Request header OK-ACCESS-KEY cannot be empty.", 401)
        key = self.sim.engine.keys.get(api_key)
        if key is None:
            raise VenueError("50111", "Invalid OK-ACCESS-KEY.", 401)
        ts = h.get("OK-ACCESS-TIMESTAMP") or ""
        try:
            sent = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp() * 1000
        except ValueError:
            raise VenueError("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401) from None
        now = self.sim.clock()
        if abs(now - sent) > 30_000:
            raise VenueError("50102", "Timestamp request expired.", 401)
        if key.expires_ms is not None and key.expires_ms <= now:
            raise VenueError("50119", "API key doesn't exist.", 401)
        if not hmac.compare_digest(h.get("OK-ACCESS-PASSPHRASE") or "", key.passphrase):
            raise VenueError("50105", "Invalid OK-ACCESS-PASSPHRASE.", 401)
        request_path = request.rel_url.raw_path + (f"?{raw_query}" if raw_query else "")
        payload = f"{ts}{request.method}{request_path}{raw_body}"
        expected = base64.b64encode(hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, h.get("OK-ACCESS-SIGN") or ""):
            raise VenueError("50113", "Invalid Sign.", 401)
        if key.ips and request.remote not in key.ips:
            raise VenueError("50110", f"Your IP {request.remote} is not included in your API key's IP whitelist.", 401)
        return key

    def ok(self, data, headers=None):
        return web.Response(
            text=self.dump({"code": "0", "msg": "", "data": data}), content_type="application/json", headers=headers
        )

    def error(self, exc, headers=None):
        body = {"code": str(exc.code), "msg": exc.msg, "data": exc.extra.get("data", [])}
        return web.Response(text=self.dump(body), status=exc.status, content_type="application/json", headers=headers)

    def not_found(self):
        return VenueError("50014", "Not Found", 404)

    def bad_json(self):
        return ("50002", "Json data format error.", 400)

    def permission_denied(self):
        return VenueError("50120", "Your API key does not have permission to perform this operation.", 200)

    def rate_limited(self, reset_ms):
        return VenueError("50011", "Too Many Requests", 429)

    def internal_error(self):
        return VenueError("50000", "System error.", 500)


def DIALECT_ERRORS(exc: BybitError) -> VenueError:  # noqa: N802 - used before the class exists
    code, msg, status = OkxDialect.ERRORS.get(exc.code, OkxDialect.ERRORS["*"])
    return VenueError(code, msg or exc.msg, status)
