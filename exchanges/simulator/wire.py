"""Bybit V5 JSON shapes of the simulator's objects (all numbers as strings unless Bybit uses ints/bools)."""

from __future__ import annotations

from decimal import Decimal

from . import feed
from .instruments import SYMBOLS, instrument
from .models import ZERO, Execution, Order, Position


def s(d) -> str:
    """Decimal -> plain string without exponent (Bybit never sends 1E-7)."""
    if d is None:
        return ""
    if not isinstance(d, Decimal):
        d = Decimal(str(d))
    if d == 0:
        return "0"
    out = format(d.normalize(), "f")
    return out


def order(o: Order, *, with_category: bool = False) -> dict:
    avg = o.cum_value / o.cum_qty if o.cum_qty else ZERO
    leaves = o.leaves_qty
    out = {
        "orderId": o.order_id,
        "orderLinkId": o.order_link_id,
        "blockTradeId": "",
        "symbol": o.symbol,
        "price": s(o.price),
        "qty": s(o.qty),
        "side": o.side,
        "isLeverage": "0" if o.category == "spot" else "",
        "positionIdx": 0,
        "orderStatus": o.status,
        "createType": "CreateByUser" if o.category != "spot" else "",
        "cancelType": o.cancel_type,
        "rejectReason": o.reject_reason,
        "avgPrice": s(avg.quantize(Decimal("0.00000001")) if o.cum_qty else ZERO),
        "leavesQty": s(leaves),
        "leavesValue": s(leaves * o.price),
        "cumExecQty": s(o.cum_qty),
        "cumExecValue": s(o.cum_value),
        "cumExecFee": s(o.cum_fee),
        "cumFeeDetail": {o.fee_coin: s(o.cum_fee)} if o.cum_fee else {},
        "timeInForce": o.time_in_force,
        "orderType": o.order_type,
        "stopOrderType": "",
        "orderIv": "",
        "marketUnit": o.market_unit,
        "triggerPrice": "0",
        "takeProfit": "0",
        "stopLoss": "0",
        "tpslMode": "",
        "ocoTriggerBy": "",
        "tpLimitPrice": "0",
        "slLimitPrice": "0",
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "triggerDirection": 0,
        "triggerBy": "",
        "lastPriceOnCreated": s(o.last_price_on_created),
        "basePrice": s(o.last_price_on_created) if o.category == "spot" else "",
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": False,
        "placeType": "",
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "createdTime": str(o.created_ms),
        "updatedTime": str(o.updated_ms),
    }
    if with_category:
        out["category"] = o.category
        out["closedPnl"] = s(o.closed_pnl)
        out["feeCurrency"] = o.fee_coin
    return out


def execution(e: Execution, *, with_category: bool = False) -> dict:
    out = {
        "symbol": e.symbol,
        "orderId": e.order_id,
        "orderLinkId": e.order_link_id,
        "side": e.side,
        "orderPrice": s(e.order_price),
        "orderQty": s(e.order_qty),
        "leavesQty": s(e.leaves_qty),
        "createType": "CreateByUser" if e.category != "spot" else "",
        "orderType": e.order_type,
        "stopOrderType": "",
        "execFee": s(e.exec_fee),
        "execId": e.exec_id,
        "execPrice": s(e.exec_price),
        "execQty": s(e.exec_qty),
        "execType": e.exec_type,
        "execValue": s(e.exec_value),
        "execTime": str(e.exec_time),
        "feeCurrency": e.fee_currency,
        "isMaker": e.is_maker,
        "feeRate": s(e.fee_rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": s(e.mark_price),
        "indexPrice": s(e.mark_price),
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": s(e.closed_size),
        "execPnl": s(e.exec_pnl),
        "seq": e.seq,
        "extraFees": "",
    }
    if with_category:
        out["category"] = e.category
        out["isLeverage"] = "0" if e.category == "spot" else ""
    return out


def position(ex, p: Position, *, ws: bool = False) -> dict:
    mark = ex.price("linear", p.symbol)
    size = abs(p.size)
    side = "" if not p.size else ("Buy" if p.size > 0 else "Sell")
    im = ex.position_im(p)
    out = {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": p.symbol,
        "side": side,
        "size": s(size),
        "positionValue": s(size * p.avg_price),
        "autoAddMargin": 0,
        "positionStatus": p.status,
        "leverage": s(p.leverage),
        "breakEvenPrice": s(p.avg_price),
        "markPrice": s(mark),
        "liqPrice": s(ex.liq_price(p)) if p.size else "",
        "bustPrice": "",
        "positionIM": s(im.quantize(Decimal("0.00000001"))),
        "positionMM": s((size * mark * Decimal("0.005")).quantize(Decimal("0.00000001"))),
        "positionBalance": s(im.quantize(Decimal("0.00000001"))),
        "takeProfit": "0",
        "stopLoss": "0",
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "unrealisedPnl": s(ex.unrealised(p)),
        "curRealisedPnl": s(p.cur_realised),
        "cumRealisedPnl": s(p.cum_realised),
        "adlRankIndicator": 2 if p.size else 0,
        "createdTime": str(p.created_ms),
        "updatedTime": str(p.updated_ms),
        "seq": p.seq,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "tpslMode": "Full",
        "tradeMode": 0,
    }
    if ws:
        out["category"] = "linear"
        out["entryPrice"] = s(p.avg_price)
    else:
        out["avgPrice"] = s(p.avg_price)
    return out


def wallet(ex, uid: int, coins: list[str] | None = None) -> dict:
    acc = ex.accounts[uid]
    names = coins or [c for c, v in acc.balances.items() if v != 0 or acc.locked.get(c)]
    order_im = ex.order_im_total(uid)
    pos_im = pos_mm = upl = cum_real = ZERO
    for sym in SYMBOLS:
        p = ex.positions.get((uid, sym))
        if p is not None:
            pos_im += ex.position_im(p)
            pos_mm += abs(p.size) * ex.price("linear", sym) * Decimal("0.005")
            upl += ex.unrealised(p)
            cum_real += p.cum_realised
    items = []
    total_equity = total_wallet = ZERO
    for c in names:
        bal = acc.balances.get(c, ZERO)
        locked = acc.locked.get(c, ZERO)
        is_usdt = c == "USDT"
        equity = bal + (upl if is_usdt else ZERO)
        px = Decimal(1) if c in ("USDT", "USDC") else _usd_price(ex, c)
        usd = equity * px
        total_equity += usd
        total_wallet += bal * px
        items.append(
            {
                "coin": c,
                "equity": s(equity),
                "usdValue": s(usd.quantize(Decimal("0.00000001"))),
                "walletBalance": s(bal),
                "free": s(bal - locked),
                "locked": s(locked),
                "spotHedgingQty": "0",
                "borrowAmount": "0",
                "availableToWithdraw": s(ex.available(uid, c)),
                "availableToBorrow": "",
                "accruedInterest": "0",
                "totalOrderIM": s(order_im if is_usdt else ZERO),
                "totalPositionIM": s(pos_im if is_usdt else ZERO),
                "totalPositionMM": s(pos_mm if is_usdt else ZERO),
                "unrealisedPnl": s(upl if is_usdt else ZERO),
                "cumRealisedPnl": s(cum_real if is_usdt else ZERO),
                "bonus": "0",
                "marginCollateral": True,
                "collateralSwitch": True,
                "spotBorrow": "0",
            }
        )
    return {
        "accountType": "UNIFIED",
        "accountIMRate": "0",
        "accountMMRate": "0",
        "totalEquity": s(total_equity.quantize(Decimal("0.00000001"))),
        "totalWalletBalance": s(total_wallet.quantize(Decimal("0.00000001"))),
        "totalMarginBalance": s(total_equity.quantize(Decimal("0.00000001"))),
        "totalAvailableBalance": s(ex.available(uid, "USDT")),
        "totalPerpUPL": s(upl),
        "totalInitialMargin": s(order_im + pos_im),
        "totalMaintenanceMargin": s(pos_mm),
        "accountLTV": "0",
        "coin": items,
    }


def _usd_price(ex, coin: str) -> Decimal:
    m = ex.markets.get(("spot", f"{coin}USDT"))
    return m.last if m else ZERO


def _stats24(ex, category: str, symbol: str):
    """(prev, high, low, volume, turnover) over the last 1440 replayed candles, or what the market saw so far."""
    m = ex.markets[(category, symbol)]
    state = ex.replays.get(symbol)
    if state and category in state.get("categories", ()) and state.get("index"):
        key = (state["csv"], state["index"])
        cached = ex.stats_cache.get(key)
        if cached is None:
            window = feed.load_candles(state["csv"])[max(0, state["index"] - 1440) : state["index"]]
            cached = (
                window[0].open,
                max(c.high for c in window),
                min(c.low for c in window),
                sum((c.volume for c in window), ZERO),
                sum((c.volume * c.close for c in window), ZERO),
            )
            if state.get("volume_in_quote"):
                cached = cached[:3] + (sum((c.volume / c.close for c in window), ZERO), cached[3])
            ex.stats_cache.clear()
            ex.stats_cache[key] = cached
        prev, high, low, vol, turnover = cached
        return prev, max(high, m.last), min(low, m.last), vol, turnover
    return m.prev24, m.high24, m.low24, m.volume24, m.turnover24


def ticker(ex, category: str, symbol: str) -> dict:
    m = ex.markets[(category, symbol)]
    inst = instrument(category, symbol)
    assert inst is not None  # callers pass a listed symbol
    tick = inst.tick_size
    prev, high, low, vol, turnover = _stats24(ex, category, symbol)
    pct = ((m.last - prev) / prev).quantize(Decimal("0.0001")) if prev else ZERO
    out = {
        "symbol": symbol,
        "bid1Price": s(m.last),
        "bid1Size": "1",
        "ask1Price": s(m.last + tick),
        "ask1Size": "1",
        "lastPrice": s(m.last),
        "prevPrice24h": s(prev),
        "price24hPcnt": s(pct),
        "highPrice24h": s(high),
        "lowPrice24h": s(low),
        "turnover24h": s(turnover.quantize(Decimal("0.0001"))),
        "volume24h": s(vol.quantize(Decimal("0.000001"))),
        "usdIndexPrice": s(m.last),
    }
    if category == "linear":
        out.update(
            {
                "indexPrice": s(m.last),
                "markPrice": s(m.last),
                "prevPrice1h": s(m.prev24),
                "openInterest": "0",
                "openInterestValue": "0",
                "fundingRate": s(ex.funding_rate(symbol)),
                "nextFundingTime": "0",
                "predictedDeliveryPrice": "",
                "basisRate": "",
                "basis": "",
                "deliveryFeeRate": "",
                "deliveryTime": "0",
                "fundingIntervalHour": "8",
                "fundingCap": "0.005",
                "preOpenPrice": "",
                "preQty": "",
                "curPreListingPhase": "",
            }
        )
        out.pop("usdIndexPrice")
    return out


def book(ex, category: str, symbol: str, depth: int) -> tuple[list, list]:
    """A synthetic book around the last price: bids from last down, asks from last+tick up."""
    m = ex.markets[(category, symbol)]
    inst = instrument(category, symbol)
    assert inst is not None  # callers pass a listed symbol
    tick = inst.tick_size
    size = "1"
    bids = [[s(m.last - i * tick), size] for i in range(depth) if m.last - i * tick > 0]
    asks = [[s(m.last + (i + 1) * tick), size] for i in range(depth)]
    return bids, asks
