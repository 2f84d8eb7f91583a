"""Binance dialect: spot (/api/v3, /sapi/v1) and USDⓈ-M futures (/fapi/v1-v3) on the one engine.

- Errors are HTTP 4xx {"code": -2010, "msg": "..."}; rate limits HTTP 429 (-1003 request weight,
  -1015 order count) with Retry-After and X-MBX-USED-WEIGHT-1M / X-MBX-ORDER-COUNT-10S headers.
- Signing: X-MBX-APIKEY header; `signature` = hex HMAC-SHA256(secret, the query string, then the
  form body, without the signature); `timestamp` must fall within `recvWindow` (-1021).
- Spot `exchangeInfo` lists each symbol's `orderTypes` (ccxt refuses to send an order type that
  is not listed) and its filters (PRICE_FILTER, LOT_SIZE, NOTIONAL); futures use MIN_NOTIONAL.
- Client order ids (newClientOrderId): 1-36 of [.A-Z:/a-z0-9_-]; a duplicate is -2010
  "Duplicate order sent." (spot) or -4116 (futures). The spot and futures wallets are one wallet
  here (the engine keeps one USDT balance per account).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from decimal import Decimal

from aiohttp import web

from .. import wire
from ..instruments import INSTRUMENTS, SYMBOLS, Instrument, instrument
from ..models import ZERO, BybitError, Position
from ..rest import market as bybit_market
from .base import Dialect, Route, VenueError, funding_settlements, ms

S = wire.s
CLIENT_ID_RE = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
STATUS = {
    "New": "NEW",
    "PartiallyFilled": "PARTIALLY_FILLED",
    "Filled": "FILLED",
    "Cancelled": "CANCELED",
    "PartiallyFilledCanceled": "CANCELED",
    "Rejected": "REJECTED",
    "Deactivated": "EXPIRED",
}
INTERVALS = {
    "1m": "1",
    "3m": "3",
    "5m": "5",
    "15m": "15",
    "30m": "30",
    "1h": "60",
    "2h": "120",
    "4h": "240",
    "6h": "360",
    "12h": "720",
    "1d": "D",
    "1w": "W",
}
SPOT_ORDER_TYPES = [
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]
FUTURES_ORDER_TYPES = [
    "LIMIT",
    "MARKET",
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
]


def _cat(path: str) -> str:
    return "linear" if path.startswith("/fapi/") else "spot"


def _inst(category: str, symbol) -> Instrument:
    inst = instrument(category, str(symbol or ""))
    if inst is None:
        raise VenueError(-1121, "Invalid symbol.", 400)
    return inst


def _dec(value, name: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except Exception:
        raise VenueError(-1100, f"Illegal characters found in parameter '{name}'.", 400) from None
    if not d.is_finite():
        raise VenueError(-1100, f"Illegal characters found in parameter '{name}'.", 400)
    return d


def _required(p: dict, name: str) -> str:
    value = p.get(name)
    if value in (None, ""):
        raise VenueError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.", 400)
    return str(value)


# --- wire shapes -------------------------------------------------------------------------------
def symbol_json(inst: Instrument) -> dict:
    price_filter = {
        "filterType": "PRICE_FILTER",
        "minPrice": S(inst.tick_size),
        "maxPrice": "1000000",
        "tickSize": S(inst.tick_size),
    }
    lot = {"filterType": "LOT_SIZE", "minQty": S(inst.min_qty), "maxQty": S(inst.max_qty), "stepSize": S(inst.qty_step)}
    market_lot = {
        "filterType": "MARKET_LOT_SIZE",
        "minQty": "0",
        "maxQty": S(inst.max_market_qty or inst.max_qty),
        "stepSize": "0",
    }
    precision = max(0, -int(inst.qty_step.normalize().as_tuple().exponent))
    price_precision = max(0, -int(inst.tick_size.normalize().as_tuple().exponent))
    if inst.category == "spot":
        return {
            "symbol": inst.symbol,
            "status": "TRADING",
            "baseAsset": inst.base_coin,
            "baseAssetPrecision": 8,
            "quoteAsset": inst.quote_coin,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": SPOT_ORDER_TYPES,
            "icebergAllowed": True,
            "ocoAllowed": True,
            "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "amendAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                price_filter,
                lot,
                market_lot,
                {
                    "filterType": "NOTIONAL",
                    "minNotional": S(inst.min_value),
                    "applyMinToMarket": True,
                    "maxNotional": S(inst.max_value),
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "NONE"],
        }
    return {
        "symbol": inst.symbol,
        "pair": inst.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": inst.base_coin,
        "quoteAsset": inst.quote_coin,
        "marginAsset": inst.quote_coin,
        "pricePrecision": price_precision,
        "quantityPrecision": precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            price_filter,
            lot,
            market_lot,
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": S(inst.min_value)},
        ],
        "orderTypes": FUTURES_ORDER_TYPES,
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        "permissionSets": ["GRID", "COPY"],
    }


def _status(o) -> str:
    if o.status == "Cancelled" and o.reject_reason in ("EC_NoImmediateQtyToFill", "EC_NoEnoughQtyToFill"):
        return "EXPIRED"
    return STATUS.get(o.status, "CANCELED")


def _type_of(o) -> str:
    if o.order_type == "Market":
        return "MARKET"
    if o.time_in_force == "PostOnly" and o.category == "spot":
        return "LIMIT_MAKER"
    return "LIMIT"


def order_json(o, *, fills=None) -> dict:
    tif = {"PostOnly": "GTX", "IOC": "IOC", "FOK": "FOK"}.get(o.time_in_force, "GTC")
    if o.order_type == "Market":
        tif = "GTC"
    if o.category == "spot":
        out = {
            "symbol": o.symbol,
            "orderId": int(o.order_id),
            "orderListId": -1,
            "clientOrderId": o.order_link_id,
            "price": S(o.price) if o.order_type == "Limit" else "0",
            "origQty": S(o.qty if o.market_unit != "quoteCoin" else o.cum_qty),
            "executedQty": S(o.cum_qty),
            "cummulativeQuoteQty": S(o.cum_value),
            "status": _status(o),
            "timeInForce": "GTC" if o.time_in_force == "PostOnly" else tif,
            "type": _type_of(o),
            "side": o.side.upper(),
            "stopPrice": "0",
            "icebergQty": "0",
            "time": o.created_ms,
            "updateTime": o.updated_ms,
            "isWorking": True,
            "workingTime": o.created_ms,
            "origQuoteOrderQty": S(o.qty) if o.market_unit == "quoteCoin" else "0",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }
        if fills is not None:
            out["transactTime"] = o.updated_ms
            out["fills"] = fills
        return out
    avg = (o.cum_value / o.cum_qty).quantize(Decimal("0.00000001")) if o.cum_qty else ZERO
    return {
        "orderId": int(o.order_id),
        "symbol": o.symbol,
        "status": _status(o),
        "clientOrderId": o.order_link_id,
        "price": S(o.price) if o.order_type == "Limit" else "0",
        "avgPrice": S(avg),
        "origQty": S(o.qty),
        "executedQty": S(o.cum_qty),
        "cumQty": S(o.cum_qty),
        "cumQuote": S(o.cum_value),
        "timeInForce": tif,
        "type": _type_of(o),
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "side": o.side.upper(),
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": _type_of(o),
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": o.created_ms,
        "updateTime": o.updated_ms,
    }


def trade_json(e) -> dict:
    if e.category == "spot":
        return {
            "symbol": e.symbol,
            "id": e.seq,
            "orderId": int(e.order_id),
            "orderListId": -1,
            "price": S(e.exec_price),
            "qty": S(e.exec_qty),
            "quoteQty": S(e.exec_value),
            "commission": S(e.exec_fee),
            "commissionAsset": e.fee_currency,
            "time": e.exec_time,
            "isBuyer": e.side == "Buy",
            "isMaker": e.is_maker,
            "isBestMatch": True,
        }
    return {
        "buyer": e.side == "Buy",
        "commission": S(e.exec_fee),
        "commissionAsset": e.fee_currency,
        "id": e.seq,
        "maker": e.is_maker,
        "orderId": int(e.order_id),
        "price": S(e.exec_price),
        "qty": S(e.exec_qty),
        "quoteQty": S(e.exec_value),
        "realizedPnl": S(e.exec_pnl),
        "side": e.side.upper(),
        "positionSide": "BOTH",
        "symbol": e.symbol,
        "time": e.exec_time,
    }


# --- public ------------------------------------------------------------------------------------
def ping(sim, key, p):
    return {}


def server_time(sim, key, p):
    return {"serverTime": sim.clock()}


def _exchange_info(sim, category: str, p: dict) -> dict:
    wanted = set()
    if p.get("symbol"):
        wanted.add(str(p["symbol"]))
    if p.get("symbols"):
        wanted.update(s.strip('" ') for s in str(p["symbols"]).strip("[]").split(",") if s.strip())
    symbols = [symbol_json(i) for (c, s), i in INSTRUMENTS.items() if c == category and (not wanted or s in wanted)]
    if wanted and not symbols:
        raise VenueError(-1121, "Invalid symbol.", 400)
    limits = [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": 100 if category == "spot" else 300,
        },
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
    ]
    out = {
        "timezone": "UTC",
        "serverTime": sim.clock(),
        "rateLimits": limits,
        "exchangeFilters": [],
        "symbols": symbols,
    }
    if category == "linear":
        out["assets"] = [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}]
        out["futuresType"] = "U_MARGINED"
    return out


def spot_exchange_info(sim, key, p):
    return _exchange_info(sim, "spot", p)


def futures_exchange_info(sim, key, p):
    return _exchange_info(sim, "linear", p)


def inverse_exchange_info(sim, key, p):
    return {"timezone": "UTC", "serverTime": sim.clock(), "rateLimits": [], "exchangeFilters": [], "symbols": []}


def _ticker(sim, inst: Instrument) -> dict:
    t = wire.ticker(sim.engine, inst.category, inst.symbol)
    last, prev = Decimal(t["lastPrice"]), Decimal(t["prevPrice24h"])
    now = sim.clock()
    out = {
        "symbol": inst.symbol,
        "priceChange": S(last - prev),
        "priceChangePercent": S(((last - prev) / prev * 100).quantize(Decimal("0.001")) if prev else ZERO),
        "weightedAvgPrice": t["lastPrice"],
        "lastPrice": t["lastPrice"],
        "lastQty": "1",
        "openPrice": t["prevPrice24h"],
        "highPrice": t["highPrice24h"],
        "lowPrice": t["lowPrice24h"],
        "volume": t["volume24h"],
        "quoteVolume": t["turnover24h"],
        "openTime": now - 86_400_000,
        "closeTime": now,
        "firstId": 1,
        "lastId": 1,
        "count": 1,
    }
    if inst.category == "spot":
        out.update(
            {
                "prevClosePrice": t["prevPrice24h"],
                "bidPrice": t["bid1Price"],
                "bidQty": "1",
                "askPrice": t["ask1Price"],
                "askQty": "1",
            }
        )
    return out


def ticker_24hr(sim, key, p, category="spot"):
    if p.get("symbol"):
        return _ticker(sim, _inst(category, p["symbol"]))
    return [_ticker(sim, i) for (c, _s), i in INSTRUMENTS.items() if c == category]


def futures_ticker_24hr(sim, key, p):
    return ticker_24hr(sim, key, p, "linear")


def _price(sim, key, p, category):
    rows = [
        {"symbol": i.symbol, "price": S(sim.engine.price(category, i.symbol)), "time": sim.clock()}
        for (c, _s), i in INSTRUMENTS.items()
        if c == category and (not p.get("symbol") or i.symbol == p["symbol"])
    ]
    if p.get("symbol"):
        if not rows:
            raise VenueError(-1121, "Invalid symbol.", 400)
        return rows[0]
    return rows


def book_ticker(sim, key, p, category="spot"):
    def row(inst):
        t = wire.ticker(sim.engine, category, inst.symbol)
        return {
            "symbol": inst.symbol,
            "bidPrice": t["bid1Price"],
            "bidQty": "1",
            "askPrice": t["ask1Price"],
            "askQty": "1",
            "time": sim.clock(),
        }

    if p.get("symbol"):
        return row(_inst(category, p["symbol"]))
    return [row(i) for (c, _s), i in INSTRUMENTS.items() if c == category]


def _klines(sim, p, category):
    inst = _inst(category, p.get("symbol"))
    interval = INTERVALS.get(str(p.get("interval")))
    if interval is None:
        raise VenueError(-1120, "Invalid interval.", 400)
    limit = min(1000 if category == "spot" else 1500, max(1, ms(p.get("limit")) or 500))
    rows = bybit_market.kline(
        sim,
        None,
        {
            "category": category,
            "symbol": inst.symbol,
            "interval": interval,
            "limit": str(min(limit, 1000)),
            "start": str(max(0, ms(p.get("startTime"))) or ""),
            "end": str(max(0, ms(p.get("endTime"))) or ""),
        },
        1,
    )["list"]
    step = bybit_market.INTERVALS[interval] * 60_000
    return [
        [int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[0]) + step - 1, r[6], 1, "0", "0", "0"] for r in reversed(rows)
    ]


def klines(sim, key, p):
    return _klines(sim, p, "spot")


def futures_klines(sim, key, p):
    return _klines(sim, p, "linear")


def _depth(sim, p, category):
    inst = _inst(category, p.get("symbol"))
    bids, asks = wire.book(sim.engine, category, inst.symbol, min(1000, max(1, ms(p.get("limit")) or 100)))
    return {"lastUpdateId": sim.engine.markets[(category, inst.symbol)].trade_seq + 1, "bids": bids, "asks": asks}


def depth(sim, key, p):
    return _depth(sim, p, "spot")


def futures_depth(sim, key, p):
    return _depth(sim, p, "linear")


def premium_index(sim, key, p):
    def row(inst):
        px = S(sim.engine.price("linear", inst.symbol))
        return {
            "symbol": inst.symbol,
            "markPrice": px,
            "indexPrice": px,
            "estimatedSettlePrice": px,
            "lastFundingRate": f"{sim.engine.funding_rate(inst.symbol):.8f}",  # the coming settlement's rate
            "interestRate": "0.00010000",
            "nextFundingTime": 0,
            "time": sim.clock(),
        }

    if p.get("symbol"):
        return row(_inst("linear", p["symbol"]))
    return [row(i) for (c, _s), i in INSTRUMENTS.items() if c == "linear"]


# --- account -----------------------------------------------------------------------------------
def spot_account(sim, key, p):
    ex = sim.engine
    acc = ex.accounts[key.uid]
    coins = sorted(set(acc.balances) | {"USDT"})
    balances = [
        {
            "asset": c,
            # one wallet behind spot and futures here: what futures margin holds shows as locked
            "free": S(ex.available(key.uid, c)),
            "locked": S(acc.balances.get(c, ZERO) - ex.available(key.uid, c)),
        }
        for c in coins
    ]
    if str(p.get("omitZeroBalances", "")).lower() == "true":
        balances = [b for b in balances if Decimal(b["free"]) or Decimal(b["locked"])]
    bps = lambda r: int(r * 10000)  # noqa: E731
    return {
        "makerCommission": bps(acc.spot_maker),
        "takerCommission": bps(acc.spot_taker),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {"maker": S(acc.spot_maker), "taker": S(acc.spot_taker), "buyer": "0", "seller": "0"},
        "canTrade": key.spot_trade and not key.read_only,
        "canWithdraw": key.withdraw,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": sim.clock(),
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": key.uid,
    }


def api_restrictions(sim, key, p):
    out = {
        "ipRestrict": bool(key.ips),
        "createTime": key.created_ms,
        "enableReading": True,
        "enableSpotAndMarginTrading": key.spot_trade and not key.read_only,
        "enableFutures": key.contract_trade and not key.read_only,
        "enableWithdrawals": key.withdraw,
        "enableInternalTransfer": False,
        "permitsUniversalTransfer": False,
        "enableVanillaOptions": False,
        "enableMargin": False,
        "enablePortfolioMarginTrading": False,
        "enableFixApiTrade": False,
        "enableFixReadOnly": False,
    }
    if key.expires_ms:
        out["tradingAuthorityExpirationTime"] = key.expires_ms
    return out


def trade_fee(sim, key, p):
    acc = sim.engine.account(key.uid)
    return [
        {"symbol": i.symbol, "makerCommission": S(acc.spot_maker), "takerCommission": S(acc.spot_taker)}
        for (c, _s), i in INSTRUMENTS.items()
        if c == "spot" and (not p.get("symbol") or i.symbol == p["symbol"])
    ]


def spot_commission(sim, key, p):
    _inst("spot", p.get("symbol"))
    acc = sim.engine.account(key.uid)
    rates = {"maker": S(acc.spot_maker), "taker": S(acc.spot_taker), "buyer": "0", "seller": "0"}
    return {
        "symbol": p["symbol"],
        "standardCommission": rates,
        "taxCommission": {k: "0" for k in rates},
        "discount": {"enabledForAccount": False, "enabledForSymbol": False, "discountAsset": "BNB", "discount": "0.75"},
    }


def futures_commission(sim, key, p):
    inst = _inst("linear", p.get("symbol"))
    acc = sim.engine.account(key.uid)
    return {
        "symbol": inst.symbol,
        "makerCommissionRate": S(acc.linear_maker),
        "takerCommissionRate": S(acc.linear_taker),
    }


def capital_config(sim, key, p):
    coins = ["USDT"] + [s[:-4] for s in SYMBOLS]
    acc = sim.engine.accounts[key.uid]
    return [
        {
            "coin": c,
            "name": c,
            "depositAllEnable": True,
            "withdrawAllEnable": True,
            "free": S(acc.balances.get(c, ZERO)),
            "locked": S(acc.locked.get(c, ZERO)),
            "freeze": "0",
            "withdrawing": "0",
            "ipoing": "0",
            "ipoable": "0",
            "storage": "0",
            "isLegalMoney": False,
            "trading": True,
            "networkList": [
                {
                    "network": c,
                    "coin": c,
                    "withdrawIntegerMultiple": "0.00000001",
                    "isDefault": True,
                    "depositEnable": True,
                    "withdrawEnable": True,
                    "name": c,
                    "withdrawFee": "0.0001",
                    "withdrawMin": "0.001",
                    "withdrawMax": "10000000",
                    "minConfirm": 1,
                    "unLockConfirm": 0,
                }
            ],
        }
        for c in coins
    ]


def _position_row(sim, key, inst, *, v2: bool) -> dict:
    ex = sim.engine
    pos = ex.positions.get((key.uid, inst.symbol)) or Position(uid=key.uid, symbol=inst.symbol)  # reads create none
    data = wire.position(ex, pos)
    mark = ex.price("linear", inst.symbol)
    row = {
        "symbol": inst.symbol,
        "positionSide": "BOTH",
        "positionAmt": S(pos.size),
        "entryPrice": S(pos.avg_price),
        "breakEvenPrice": S(pos.avg_price),
        "markPrice": S(mark),
        "unRealizedProfit": S(ex.unrealised(pos)),
        "liquidationPrice": data["liqPrice"] or "0",
        "isolatedMargin": "0",
        "notional": S(pos.size * mark),
        "marginAsset": "USDT",
        "isolatedWallet": "0",
        "initialMargin": data["positionIM"],
        "maintMargin": data["positionMM"],
        "positionInitialMargin": data["positionIM"],
        "openOrderInitialMargin": "0",
        "adl": 1,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": pos.updated_ms,
    }
    if v2:
        row.update(
            {
                "leverage": S(pos.leverage),
                "marginType": "cross",
                "isAutoAddMargin": "false",
                "maxNotionalValue": "10000000",
            }
        )
    return row


def _positions(sim, key, p, v2):
    syms = [p["symbol"]] if p.get("symbol") else list(SYMBOLS)
    rows = [_position_row(sim, key, _inst("linear", s), v2=v2) for s in syms]
    return rows if v2 or p.get("symbol") else [r for r in rows if Decimal(r["positionAmt"])]


def position_risk_v2(sim, key, p):
    return _positions(sim, key, p, True)


def position_risk_v3(sim, key, p):
    return _positions(sim, key, p, False)


def futures_account(sim, key, p):
    ex = sim.engine
    w = wire.wallet(ex, key.uid, ["USDT"])
    usdt = w["coin"][0]
    acc = ex.accounts[key.uid]
    avail = S(ex.available(key.uid, "USDT"))
    im = Decimal(usdt["totalOrderIM"]) + Decimal(usdt["totalPositionIM"])
    asset = {
        "asset": "USDT",
        "walletBalance": S(acc.balances.get("USDT", ZERO)),
        "unrealizedProfit": usdt["unrealisedPnl"],
        "marginBalance": usdt["equity"],
        "maintMargin": usdt["totalPositionMM"],
        "initialMargin": S(im),
        "positionInitialMargin": usdt["totalPositionIM"],
        "openOrderInitialMargin": usdt["totalOrderIM"],
        "crossWalletBalance": S(acc.balances.get("USDT", ZERO)),
        "crossUnPnl": usdt["unrealisedPnl"],
        "availableBalance": avail,
        "maxWithdrawAmount": avail,
        "marginAvailable": True,
        "updateTime": sim.clock(),
    }
    positions = [r for r in _positions(sim, key, {}, True)]
    return {
        "feeTier": 0,
        "canTrade": key.contract_trade and not key.read_only,
        "canDeposit": True,
        "canWithdraw": key.withdraw,
        "updateTime": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
        "totalInitialMargin": S(im),
        "totalMaintMargin": usdt["totalPositionMM"],
        "totalWalletBalance": asset["walletBalance"],
        "totalUnrealizedProfit": usdt["unrealisedPnl"],
        "totalMarginBalance": usdt["equity"],
        "totalPositionInitialMargin": usdt["totalPositionIM"],
        "totalOpenOrderInitialMargin": usdt["totalOrderIM"],
        "totalCrossWalletBalance": asset["walletBalance"],
        "totalCrossUnPnl": usdt["unrealisedPnl"],
        "availableBalance": avail,
        "maxWithdrawAmount": avail,
        "assets": [asset],
        "positions": positions,
    }


def futures_balance(sim, key, p):
    a = futures_account(sim, key, p)["assets"][0]
    return [
        {
            "accountAlias": "SgsR",
            "asset": "USDT",
            "balance": a["walletBalance"],
            "crossWalletBalance": a["crossWalletBalance"],
            "crossUnPnl": a["crossUnPnl"],
            "availableBalance": a["availableBalance"],
            "maxWithdrawAmount": a["maxWithdrawAmount"],
            "marginAvailable": True,
            "updateTime": sim.clock(),
        }
    ]


def set_leverage(sim, key, p):
    inst = _inst("linear", p.get("symbol"))
    lev = int(_dec(_required(p, "leverage"), "leverage"))
    try:
        sim.engine.set_leverage(
            key.uid, {"category": "linear", "symbol": inst.symbol, "buyLeverage": str(lev), "sellLeverage": str(lev)}
        )
    except BybitError as exc:
        if exc.code == 10001:
            raise VenueError(-4028, f"Leverage {lev} is not valid", 400) from None
        if exc.code != 110043:
            raise
    return {"leverage": lev, "maxNotionalValue": "10000000", "symbol": inst.symbol}


def margin_type(sim, key, p):
    _inst("linear", p.get("symbol"))
    if str(p.get("marginType", "")).upper() == "CROSSED":
        raise VenueError(-4046, "No need to change margin type.", 400)
    raise VenueError(-4047, "Margin type cannot be changed if there exists position or open orders.", 400)


def leverage_bracket(sim, key, p):
    rows = [
        {
            "symbol": i.symbol,
            "notionalCoef": 1.0,
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": int(i.max_leverage),
                    "notionalCap": 100000000,
                    "notionalFloor": 0,
                    "maintMarginRatio": 0.005,
                    "cum": 0.0,
                }
            ],
        }
        for (c, _s), i in INSTRUMENTS.items()
        if c == "linear" and (not p.get("symbol") or i.symbol == p["symbol"])
    ]
    if p.get("symbol"):
        if not rows:
            raise VenueError(-1121, "Invalid symbol.", 400)
        return rows[0]
    return rows


def position_side_dual(sim, key, p):
    return {"dualSidePosition": False}


# --- orders ------------------------------------------------------------------------------------
def _new_order(sim, key, p, category):
    inst = _inst(category, p.get("symbol"))
    side = _required(p, "side").upper()
    if side not in ("BUY", "SELL"):
        raise VenueError(-1100, "Illegal characters found in parameter 'side'.", 400)
    otype = _required(p, "type").upper()
    link = str(p.get("newClientOrderId") or "")
    if link and not CLIENT_ID_RE.match(link):
        raise VenueError(
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            400,
        )
    if link and (key.uid, category, link) in sim.engine.by_link:
        if category == "spot":
            raise VenueError(-2010, "Duplicate order sent.", 400)
        raise VenueError(-4116, "ClientOrderId is duplicated.", 400)
    params = {"symbol": inst.symbol, "side": side.capitalize(), "orderLinkId": link}
    tif = str(p.get("timeInForce") or "GTC").upper()
    if otype == "MARKET":
        params["orderType"] = "Market"
        if category == "spot" and p.get("quoteOrderQty") not in (None, ""):
            params["marketUnit"] = "quoteCoin"
            params["qty"] = str(_dec(p["quoteOrderQty"], "quoteOrderQty"))
        else:
            params["marketUnit"] = "baseCoin"
            params["qty"] = str(_dec(_required(p, "quantity"), "quantity"))
    elif otype in ("LIMIT", "LIMIT_MAKER"):
        if otype == "LIMIT_MAKER" and category != "spot":
            raise VenueError(-1116, "Invalid orderType.", 400)
        params["orderType"] = "Limit"
        params["price"] = str(_dec(_required(p, "price"), "price"))
        params["qty"] = str(_dec(_required(p, "quantity"), "quantity"))
        if otype == "LIMIT_MAKER" or tif == "GTX":
            params["timeInForce"] = "PostOnly"
        elif tif in ("GTC", "IOC", "FOK"):
            params["timeInForce"] = tif
        else:
            raise VenueError(-1115, "Invalid timeInForce.", 400)
        last = sim.engine.price(category, inst.symbol)
        price = Decimal(params["price"])
        crosses = (side == "BUY" and price > last) or (side == "SELL" and price < last)
        if params["timeInForce"] == "PostOnly" and crosses:
            if category == "spot":
                raise VenueError(-2010, "Order would immediately match and take.", 400)
            raise VenueError(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be "
                "rejected. The order will not be recorded in the order history",
                400,
            )
    else:
        raise VenueError(-1116, "Invalid orderType.", 400)
    if str(p.get("reduceOnly", "")).lower() == "true":
        if category == "spot":
            raise VenueError(-1104, "Not all sent parameters were read.", 400)
        params["reduceOnly"] = "true"
    o = sim.engine.place_order(key.uid, category, params)
    if category == "spot":
        resp = str(p.get("newOrderRespType") or ("FULL" if otype in ("MARKET", "LIMIT") else "ACK")).upper()
        if resp == "ACK":
            return {
                "symbol": o.symbol,
                "orderId": int(o.order_id),
                "orderListId": -1,
                "clientOrderId": o.order_link_id,
                "transactTime": o.created_ms,
            }
        fills = (
            [
                {
                    "price": S(e.exec_price),
                    "qty": S(e.exec_qty),
                    "commission": S(e.exec_fee),
                    "commissionAsset": e.fee_currency,
                    "tradeId": e.seq,
                }
                for e in sim.engine.executions[key.uid]
                if e.order_id == o.order_id
            ]
            if resp == "FULL"
            else None
        )
        return order_json(o, fills=fills)
    return order_json(o)


def spot_new_order(sim, key, p):
    return _new_order(sim, key, p, "spot")


def futures_new_order(sim, key, p):
    return _new_order(sim, key, p, "linear")


def _find(sim, key, p, category, *, unknown=(-2013, "Order does not exist.")):
    inst = _inst(category, p.get("symbol"))
    o = None
    if p.get("orderId"):
        o = sim.engine.orders.get(str(p["orderId"]))
        if o is not None and (o.uid != key.uid or o.category != category or o.symbol != inst.symbol):
            o = None
    elif p.get("origClientOrderId"):
        o = sim.engine.by_link.get((key.uid, category, str(p["origClientOrderId"])))
    else:
        raise VenueError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!", 400)
    if o is None:
        raise VenueError(unknown[0], unknown[1], 400)
    return inst, o


def _cancel(sim, key, p, category):
    inst, o = _find(sim, key, p, category, unknown=(-2011, "Unknown order sent."))
    if not o.is_open:
        raise VenueError(-2011, "Unknown order sent.", 400)
    sim.engine.cancel_order(key.uid, category, {"symbol": inst.symbol, "orderId": o.order_id})
    out = order_json(o)
    if category == "spot":
        out["origClientOrderId"] = o.order_link_id
        out["transactTime"] = o.updated_ms
    return out


def spot_cancel(sim, key, p):
    return _cancel(sim, key, p, "spot")


def futures_cancel(sim, key, p):
    return _cancel(sim, key, p, "linear")


def spot_cancel_all(sim, key, p):
    inst = _inst("spot", p.get("symbol"))
    orders = sim.engine.cancel_all(key.uid, "spot", {"symbol": inst.symbol})
    if not orders:
        raise VenueError(-2011, "Unknown order sent.", 400)
    return [order_json(o) | {"origClientOrderId": o.order_link_id} for o in orders]


def futures_cancel_all(sim, key, p):
    inst = _inst("linear", p.get("symbol"))
    sim.engine.cancel_all(key.uid, "linear", {"symbol": inst.symbol})
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def _query(sim, key, p, category):
    _inst_, o = _find(sim, key, p, category)
    return order_json(o)


def spot_query(sim, key, p):
    return _query(sim, key, p, "spot")


def futures_query(sim, key, p):
    return _query(sim, key, p, "linear")


def _open_orders(sim, key, p, category):
    inst = _inst(category, p["symbol"]) if p.get("symbol") else None
    return [
        order_json(o)
        for o in sorted(sim.engine.open_orders[key.uid].values(), key=lambda o: o.seq)
        if o.category == category and (inst is None or o.symbol == inst.symbol)
    ]


def spot_open_orders(sim, key, p):
    return _open_orders(sim, key, p, "spot")


def futures_open_orders(sim, key, p):
    return _open_orders(sim, key, p, "linear")


def _all_orders(sim, key, p, category):
    inst = _inst(category, p.get("symbol"))
    rows = [o for o in sim.engine.user_orders[key.uid] if o.category == category and o.symbol == inst.symbol]
    if p.get("orderId"):
        rows = [o for o in rows if int(o.order_id) >= int(p["orderId"])]
    start, end = ms(p.get("startTime")), ms(p.get("endTime"))
    rows = [o for o in rows if (not start or o.created_ms >= start) and (not end or o.created_ms <= end)]
    limit = min(1000, max(1, ms(p.get("limit")) or 500))
    rows = sorted(rows, key=lambda o: o.seq)
    return [order_json(o) for o in (rows[:limit] if p.get("orderId") or start else rows[-limit:])]


def spot_all_orders(sim, key, p):
    return _all_orders(sim, key, p, "spot")


def futures_all_orders(sim, key, p):
    return _all_orders(sim, key, p, "linear")


def _trades(sim, key, p, category):
    inst = _inst(category, p.get("symbol"))
    rows = [
        e
        for e in sim.engine.executions[key.uid]
        if e.category == category and e.symbol == inst.symbol and e.exec_type != "Funding"  # not a trade
    ]
    if p.get("orderId"):
        rows = [e for e in rows if e.order_id == str(p["orderId"])]
    if p.get("fromId"):
        rows = [e for e in rows if e.seq >= int(p["fromId"])]
    start, end = ms(p.get("startTime")), ms(p.get("endTime"))
    rows = [e for e in rows if (not start or e.exec_time >= start) and (not end or e.exec_time <= end)]
    limit = min(1000, max(1, ms(p.get("limit")) or 500))
    rows = rows[:limit] if p.get("fromId") or start else rows[-limit:]
    return [trade_json(e) for e in rows]


def income(sim, key, p):
    """GET /fapi/v1/income: the account's funding settlements (incomeType FUNDING_FEE; the twin
    keeps no other income types), oldest first from startTime, at most `limit` (default 100)."""
    if p.get("incomeType") not in (None, "", "FUNDING_FEE"):
        return []
    inst = _inst("linear", p["symbol"]) if p.get("symbol") else None
    rows = [
        e
        for e in sim.engine.executions[key.uid]
        if e.exec_type == "Funding" and (inst is None or e.symbol == inst.symbol)
    ]
    start, end = ms(p.get("startTime")), ms(p.get("endTime"))
    rows = [e for e in rows if (not start or e.exec_time >= start) and (not end or e.exec_time <= end)]
    limit = min(1000, max(1, ms(p.get("limit")) or 100))
    rows = rows[:limit] if start else rows[-limit:]
    return [
        {
            "symbol": e.symbol,
            "incomeType": "FUNDING_FEE",
            "income": S(-e.exec_fee),
            "asset": "USDT",
            "info": "FUNDING_FEE",
            "time": e.exec_time,
            "tranId": e.seq,
            "tradeId": "",
        }
        for e in rows
    ]


def funding_rate(sim, key, p):
    """GET /fapi/v1/fundingRate: settlements of a symbol (rate and mark price), oldest first."""
    inst = _inst("linear", p.get("symbol"))
    rows = funding_settlements(sim, inst.symbol)
    start, end = ms(p.get("startTime")), ms(p.get("endTime"))
    rows = [r for r in rows if (not start or r[0] >= start) and (not end or r[0] <= end)]
    limit = min(1000, max(1, ms(p.get("limit")) or 100))
    rows = rows[:limit] if start else rows[-limit:]
    return [
        {"symbol": inst.symbol, "fundingTime": t, "fundingRate": S(rate), "markPrice": S(mark)}
        for t, rate, mark in rows
    ]


def spot_my_trades(sim, key, p):
    return _trades(sim, key, p, "spot")


def futures_user_trades(sim, key, p):
    return _trades(sim, key, p, "linear")


def _e(code, msg, status=400):
    return (code, msg, status)


class BinanceDialect(Dialect):
    name = "binance"
    banner = "Binance v3"
    prefixes: tuple[str, ...] = ("/api/", "/sapi/", "/fapi/", "/dapi/")
    DEFAULT_LIMIT = 100  # 6000 request weight per minute per IP
    LIMITS = {  # orders: spot 100 / 10 s, futures 300 / 10 s per account (here per second)
        "POST /api/v3/order": {"*": 10},
        "POST /fapi/v1/order": {"*": 30},
        "DELETE /api/v3/openOrders": {"*": 20},
        "DELETE /fapi/v1/allOpenOrders": {"*": 20},
    }
    ERRORS = {
        170131: _e(-2010, "Account has insufficient balance for requested action."),
        110007: _e(-2019, "Margin is insufficient."),
        110012: _e(-2019, "Margin is insufficient."),
        170141: _e(-2010, "Duplicate order sent."),
        110072: _e(-4116, "ClientOrderId is duplicated."),
        170134: _e(-1013, "Filter failure: PRICE_FILTER"),
        170137: _e(-1013, "Filter failure: LOT_SIZE"),
        170136: _e(-1013, "Filter failure: LOT_SIZE"),
        170135: _e(-1013, "Filter failure: LOT_SIZE"),
        170140: _e(-1013, "Filter failure: NOTIONAL"),
        110094: _e(-4164, "Order's notional must be no smaller than 5 (unless you choose reduce only)."),
        170121: _e(-1121, "Invalid symbol."),
        170213: _e(-2011, "Unknown order sent."),
        110001: _e(-2011, "Unknown order sent."),
        170810: _e(-1013, "Filter failure: MAX_NUM_ORDERS"),
        110020: _e(-1013, "Filter failure: MAX_NUM_ORDERS"),
        110017: _e(-2022, "ReduceOnly Order is rejected."),
        "*": _e(-1100, ""),
    }
    ROUTES = {
        ("GET", "/api/v3/ping"): Route(ping),
        ("GET", "/api/v3/time"): Route(server_time),
        ("GET", "/api/v3/exchangeInfo"): Route(spot_exchange_info),
        ("GET", "/api/v3/ticker/24hr"): Route(ticker_24hr),
        ("GET", "/api/v3/ticker/price"): Route(lambda sim, key, p: _price(sim, key, p, "spot")),
        ("GET", "/api/v3/ticker/bookTicker"): Route(book_ticker),
        ("GET", "/api/v3/klines"): Route(klines),
        ("GET", "/api/v3/depth"): Route(depth),
        ("GET", "/api/v3/account"): Route(spot_account, auth=True),
        ("GET", "/api/v3/account/commission"): Route(spot_commission, auth=True),
        ("POST", "/api/v3/order"): Route(spot_new_order, auth=True, trade="spot", mutating=True),
        ("DELETE", "/api/v3/order"): Route(spot_cancel, auth=True, trade="spot", mutating=True),
        ("GET", "/api/v3/order"): Route(spot_query, auth=True),
        ("GET", "/api/v3/openOrders"): Route(spot_open_orders, auth=True),
        ("DELETE", "/api/v3/openOrders"): Route(spot_cancel_all, auth=True, trade="spot", mutating=True),
        ("GET", "/api/v3/allOrders"): Route(spot_all_orders, auth=True),
        ("GET", "/api/v3/myTrades"): Route(spot_my_trades, auth=True),
        ("GET", "/sapi/v1/account/apiRestrictions"): Route(api_restrictions, auth=True),
        ("GET", "/sapi/v1/asset/tradeFee"): Route(trade_fee, auth=True),
        ("GET", "/sapi/v1/capital/config/getall"): Route(capital_config, auth=True),
        ("GET", "/sapi/v1/margin/allPairs"): Route(lambda sim, key, p: [], auth=True),  # no margin trading here
        ("GET", "/sapi/v1/margin/isolated/allPairs"): Route(lambda sim, key, p: [], auth=True),
        ("GET", "/dapi/v1/exchangeInfo"): Route(inverse_exchange_info),
        ("GET", "/fapi/v1/ping"): Route(ping),
        ("GET", "/fapi/v1/time"): Route(server_time),
        ("GET", "/fapi/v1/exchangeInfo"): Route(futures_exchange_info),
        ("GET", "/fapi/v1/ticker/24hr"): Route(futures_ticker_24hr),
        ("GET", "/fapi/v1/ticker/price"): Route(lambda sim, key, p: _price(sim, key, p, "linear")),
        ("GET", "/fapi/v2/ticker/price"): Route(lambda sim, key, p: _price(sim, key, p, "linear")),
        ("GET", "/fapi/v1/ticker/bookTicker"): Route(lambda sim, key, p: book_ticker(sim, key, p, "linear")),
        ("GET", "/fapi/v1/klines"): Route(futures_klines),
        ("GET", "/fapi/v1/depth"): Route(futures_depth),
        ("GET", "/fapi/v1/premiumIndex"): Route(premium_index),
        ("GET", "/fapi/v2/account"): Route(futures_account, auth=True),
        ("GET", "/fapi/v3/account"): Route(futures_account, auth=True),
        ("GET", "/fapi/v2/balance"): Route(futures_balance, auth=True),
        ("GET", "/fapi/v3/balance"): Route(futures_balance, auth=True),
        ("GET", "/fapi/v1/commissionRate"): Route(futures_commission, auth=True),
        ("GET", "/fapi/v2/positionRisk"): Route(position_risk_v2, auth=True),
        ("GET", "/fapi/v3/positionRisk"): Route(position_risk_v3, auth=True),
        ("GET", "/fapi/v1/positionSide/dual"): Route(position_side_dual, auth=True),
        ("GET", "/fapi/v1/leverageBracket"): Route(leverage_bracket, auth=True),
        ("POST", "/fapi/v1/leverage"): Route(set_leverage, auth=True, trade="linear", mutating=True),
        ("POST", "/fapi/v1/marginType"): Route(margin_type, auth=True, trade="linear"),
        ("POST", "/fapi/v1/order"): Route(futures_new_order, auth=True, trade="linear", mutating=True),
        ("DELETE", "/fapi/v1/order"): Route(futures_cancel, auth=True, trade="linear", mutating=True),
        ("GET", "/fapi/v1/order"): Route(futures_query, auth=True),
        ("GET", "/fapi/v1/openOrders"): Route(futures_open_orders, auth=True),
        ("DELETE", "/fapi/v1/allOpenOrders"): Route(futures_cancel_all, auth=True, trade="linear", mutating=True),
        ("GET", "/fapi/v1/allOrders"): Route(futures_all_orders, auth=True),
        ("GET", "/fapi/v1/userTrades"): Route(futures_user_trades, auth=True),
        ("GET", "/fapi/v1/income"): Route(income, auth=True),
        ("POST", "/fapi/v1/listenKey"): Route(lambda sim, key, p: sim.dialect.listen_key(key), auth=True, key_only=True),
        ("PUT", "/fapi/v1/listenKey"): Route(lambda sim, key, p: sim.dialect.listen_key(key), auth=True, key_only=True),
        ("DELETE", "/fapi/v1/listenKey"): Route(lambda sim, key, p: {}, auth=True, key_only=True),
        ("GET", "/fapi/v1/fundingRate"): Route(funding_rate),
    }
    KEY_HEADER = "X-MBX-APIKEY"
    WS_API = "/ws-api/v3"

    def __init__(self, sim):
        super().__init__(sim)
        self.listen_keys: dict[str, int] = {}  # listenKey -> uid (in memory: a restart asks for new ones)
        self.listen_key_owner: dict[str, str] = {}  # listenKey -> the API key that asked for it  # the WebSocket API where the spot user data stream is subscribed

    def add_routes(self, app) -> None:
        if self.WS_API:
            from .stream import VenueStreamHub

            self.stream_hub = VenueStreamHub(self.sim, self)
            app.router.add_get(self.WS_API, self.stream_hub.handle)
            # USDⓈ-M user data stream: listenKey from POST /fapi/v1/listenKey
            app.router.add_get("/private/ws", self.stream_hub.handle)
            app.router.add_get("/ws/{listen_key}", self.stream_hub.handle)
        super().add_routes(app)

    def listen_key(self, key) -> dict:
        """One listenKey per API key (a repeated POST or a keep-alive PUT answers the same)."""
        import secrets

        for token, uid in self.listen_keys.items():
            if uid == key.uid and self.listen_key_owner.get(token) == key.api_key:
                return {"listenKey": token}
        token = secrets.token_urlsafe(48)
        self.listen_keys[token] = key.uid
        self.listen_key_owner[token] = key.api_key
        return {"listenKey": token}

    def authenticate_key_only(self, request):
        key = self.sim.engine.keys.get(request.headers.get(self.KEY_HEADER) or "")
        if key is None:
            raise VenueError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return key

    def stream_on_open(self, conn, request) -> bool:
        """The futures stream is addressed by its listenKey; the WS API needs no key to connect."""
        if request.path == self.WS_API:
            return True
        listen_key = request.query.get("listenKey") or request.match_info.get("listen_key") or ""
        uid = self.listen_keys.get(listen_key)
        if uid is None:
            return False
        conn.uid, conn.kind, conn.subscribed = uid, "linear", True
        return True
    # --- the WebSocket API's user data stream (spot executionReport) ---------------------------
    def stream_bad_message(self, conn, text) -> None:
        conn.send({"id": None, "status": 400, "error": {"code": -1142, "msg": "Malformed request."}})

    def stream_on_message(self, conn, data: dict) -> None:
        from .stream import binance_signature_ok

        req_id, method = data.get("id"), data.get("method")
        raw_params = data.get("params")
        params: dict = raw_params if isinstance(raw_params, dict) else {}

        def fail(code, msg, status=400):
            conn.send({"id": req_id, "status": status, "error": {"code": code, "msg": msg}})

        if method == "ping":
            conn.send({"id": req_id, "status": 200, "result": {}})
        elif method == "userDataStream.subscribe.signature":
            key = self.sim.engine.keys.get(str(params.get("apiKey") or ""))
            if key is None:
                return fail(-2015, "Invalid API-key, IP, or permissions for action.", 401)
            ts = ms(params.get("timestamp"))
            now = self.sim.clock()
            if not ts or ts > now + 1000 or now - ts > (ms(params.get("recvWindow")) or 5000):
                return fail(-1021, "Timestamp for this request is outside of the recvWindow.")
            if not binance_signature_ok(key.secret, params):
                return fail(-1022, "Signature for this request is not valid.")
            conn.uid, conn.subscribed = key.uid, True
            conn.send({"id": req_id, "status": 200, "result": {"subscriptionId": conn.sub_id}})
        elif method == "userDataStream.unsubscribe":
            conn.subscribed = False
            conn.send({"id": req_id, "status": 200, "result": {}})
        else:
            fail(-1100, f"Unknown method {method}")

    def stream_messages(self, conn, o, row, fill) -> list:
        if o.category != conn.kind:
            return []
        if conn.kind == "linear":
            return [self._order_trade_update(o, fill)]
        status = _status(o)
        exec_type = "TRADE" if fill is not None else {"NEW": "NEW", "PARTIALLY_FILLED": "NEW"}.get(status, status)
        now = self.sim.clock()
        event = {
            "e": "executionReport",
            "E": now,
            "s": o.symbol,
            "c": o.order_link_id,
            "S": o.side.upper(),
            "o": _type_of(o),
            "f": "GTC" if o.time_in_force == "PostOnly" else {"IOC": "IOC", "FOK": "FOK"}.get(o.time_in_force, "GTC"),
            "q": S(o.qty),
            "p": S(o.price) if o.order_type == "Limit" else "0",
            "P": "0",
            "F": "0",
            "g": -1,
            "C": o.order_link_id if status == "CANCELED" else "",
            "x": exec_type,
            "X": status,
            "r": "NONE",
            "i": int(o.order_id),
            "l": S(fill.exec_qty) if fill is not None else "0",
            "z": S(o.cum_qty),
            "L": S(fill.exec_price) if fill is not None else "0",
            "n": S(fill.exec_fee) if fill is not None else "0",
            "N": fill.fee_currency if fill is not None else None,
            "T": fill.exec_time if fill is not None else o.updated_ms,
            "t": fill.seq if fill is not None else -1,
            "I": now,
            "w": status in ("NEW", "PARTIALLY_FILLED"),
            "m": bool(fill.is_maker) if fill is not None else False,
            "M": fill is not None,
            "O": o.created_ms,
            "Z": S(o.cum_value),
            "Y": S(fill.exec_value) if fill is not None else "0",
            "Q": "0",
            "W": o.created_ms,
            "V": "EXPIRE_MAKER",
        }
        return [{"subscriptionId": conn.sub_id, "event": event}]

    def _order_trade_update(self, o, fill) -> dict:
        status = _status(o)
        now = self.sim.clock()
        avg = (o.cum_value / o.cum_qty).quantize(Decimal("0.00000001")) if o.cum_qty else ZERO
        return {
            "e": "ORDER_TRADE_UPDATE",
            "E": now,
            "T": now,
            "o": {
                "s": o.symbol,
                "c": o.order_link_id,
                "S": o.side.upper(),
                "o": _type_of(o),
                "f": {"PostOnly": "GTX", "IOC": "IOC", "FOK": "FOK"}.get(o.time_in_force, "GTC"),
                "q": S(o.qty),
                "p": S(o.price) if o.order_type == "Limit" else "0",
                "ap": S(avg),
                "sp": "0",
                "x": "TRADE" if fill is not None else ("NEW" if status in ("NEW", "PARTIALLY_FILLED") else status),
                "X": status,
                "i": int(o.order_id),
                "l": S(fill.exec_qty) if fill is not None else "0",
                "z": S(o.cum_qty),
                "L": S(fill.exec_price) if fill is not None else "0",
                "N": fill.fee_currency or "USDT" if fill is not None else "USDT",
                "n": S(fill.exec_fee) if fill is not None else "0",
                "T": fill.exec_time if fill is not None else o.updated_ms,
                "t": fill.seq if fill is not None else 0,
                "b": "0",
                "a": "0",
                "m": bool(fill.is_maker) if fill is not None else False,
                "R": o.reduce_only,
                "wt": "CONTRACT_PRICE",
                "ot": _type_of(o),
                "ps": "BOTH",
                "cp": False,
                "rp": S(fill.exec_pnl) if fill is not None else "0",
                "pP": False,
                "si": 0,
                "ss": 0,
                "V": "EXPIRE_MAKER",
                "pm": "NONE",
                "gtd": 0,
            },
        }

    def translate(self, exc, path=""):
        out = super().translate(exc, path)
        if path.startswith("/fapi/") and out.code == -2010 and "Duplicate" in out.msg:
            return VenueError(-4116, "ClientOrderId is duplicated.", 400)
        return out

    def authenticate(self, request, raw_query, raw_body, params):
        api_key = request.headers.get(self.KEY_HEADER) or ""
        if not api_key:
            raise VenueError(-2014, "API-key format invalid.", 401)
        key = self.sim.engine.keys.get(api_key)
        if key is None:
            raise VenueError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        ts, window = ms(params.get("timestamp")), ms(params.get("recvWindow")) or 5000
        now = self.sim.clock()
        if window > 60000:
            raise VenueError(-1131, "recvWindow must be less than 60000", 400)
        if not ts or ts > now + 1000 or now - ts > window:
            raise VenueError(-1021, "Timestamp for this request is outside of the recvWindow.", 400)
        signed = raw_query
        signature = params.get("signature", "")
        if raw_body:
            signed = f"{raw_query}{raw_body}" if raw_query else raw_body
        payload = re.sub(r"&?signature=[^&]*", "", signed)
        expected = hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, str(signature).lower()):
            raise VenueError(-1022, "Signature for this request is not valid.", 400)
        if key.ips and request.remote not in key.ips:
            raise VenueError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        params.pop("signature", None)
        return key

    def trade_allowed(self, key):
        """Binance's key expiry is a trading-authority expiry: the key still reads afterwards."""
        return key.expires_ms is None or key.expires_ms > self.sim.clock()

    def ok(self, data, headers=None):
        return web.Response(text=self.dump(data), content_type="application/json", headers=headers)

    def error(self, exc, headers=None):
        headers = dict(headers or {})
        if exc.status == 429:
            headers["Retry-After"] = str(exc.extra.get("retry_after", 1))
        return web.Response(
            text=self.dump({"code": exc.code, "msg": exc.msg}),
            status=exc.status,
            content_type="application/json",
            headers=headers,
        )

    def not_found(self):
        return VenueError(-1000, "Not found.", 404)

    def permission_denied(self):
        return VenueError(-2015, "Invalid API-key, IP, or permissions for action.", 401)

    def rate_limited(self, reset_ms):
        retry = max(1, -(-(reset_ms - self.sim.clock()) // 1000))
        return VenueError(
            -1015, "Too many new orders; current limit is 10 orders per SECOND.", 429, {"retry_after": retry}
        )

    def limit_headers(self, path, limit, remaining, reset_ms):
        used = str(limit - remaining)
        if path.startswith("POST") and path.endswith("/order"):
            return {"X-MBX-ORDER-COUNT-1S": used, "X-MBX-ORDER-COUNT-10S": used}
        return {"X-MBX-USED-WEIGHT-1M": used}
