"""Account, position and API-key endpoints."""

from __future__ import annotations

import time

from .. import wire
from ..instruments import INSTRUMENTS, instrument
from ..models import BybitError
from .params import _category, _page


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
        "unified": 1,  # a unified trade account (ccxt's bybit client reads it)
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
