"""Endpoints ccxt's bybit client calls beyond what pybit's trading uses: coin info (its currency
list), the transaction log (its ledger) and margin-mode switching."""

from __future__ import annotations

from .. import wire
from ..instruments import SYMBOLS
from ..models import BybitError
from .params import _int


def coin_query_info(sim, key, p, units):
    coins = ["USDT"] + [s[:-4] for s in SYMBOLS]
    if p.get("coin"):
        coins = [c for c in coins if c == p["coin"]]
    acc = sim.engine.accounts[key.uid]
    rows = []
    for c in coins:
        rows.append(
            {
                "name": c,
                "coin": c,
                "remainAmount": wire.s(acc.balances.get(c, 0)),
                "chains": [
                    {
                        "chainType": c,
                        "confirmation": "1",
                        "withdrawFee": "0.0001",
                        "depositMin": "0",
                        "withdrawMin": "0.001",
                        "chain": c,
                        "chainDeposit": "1",
                        "chainWithdraw": "1",
                        "minAccuracy": "8",
                        "withdrawPercentageFee": "0",
                        "contractAddress": "",
                    }
                ],
            }
        )
    return {"rows": rows}


def transaction_log(sim, key, p, units):
    """Trades as the unified account's transaction log (newest first; cashFlow in the coin)."""
    if p.get("accountType") not in (None, "", "UNIFIED"):
        raise BybitError(10001, "accountType only support UNIFIED.")
    ex = sim.engine
    coin, cat = p.get("currency"), p.get("category")
    start, end = _int(p, "startTime", 0, 0, 2**62), _int(p, "endTime", 0, 0, 2**62)
    rows = []
    for e in reversed(ex.executions[key.uid]):
        if cat and e.category != cat or start and e.exec_time < start or end and e.exec_time > end:
            continue
        if e.exec_type == "Funding":
            if not coin or coin == "USDT":
                rows.append(_settlement(e))
            continue
        if e.category == "spot":
            base, quote = e.symbol[:-4], e.symbol[-4:]
            flows = [
                (base, e.exec_qty if e.side == "Buy" else -e.exec_qty),
                (quote, -e.exec_value if e.side == "Buy" else e.exec_value),
            ]
        else:
            flows = [("USDT", e.exec_pnl)]
        for c, flow in flows:
            if coin and c != coin:
                continue
            fee = e.exec_fee if c == e.fee_currency else 0
            rows.append(
                {
                    "id": f"{e.exec_id}-{c}",
                    "symbol": e.symbol,
                    "category": e.category,
                    "side": e.side,
                    "transactionTime": str(e.exec_time),
                    "type": "TRADE",
                    "qty": wire.s(e.exec_qty),
                    "size": "0",
                    "currency": c,
                    "tradePrice": wire.s(e.exec_price),
                    "funding": "",
                    "fee": wire.s(fee),
                    "cashFlow": wire.s(flow),
                    "change": wire.s(flow - fee),
                    "cashBalance": "",
                    "feeRate": wire.s(e.fee_rate),
                    "bonusChange": "",
                    "tradeId": e.exec_id,
                    "orderId": e.order_id,
                    "orderLinkId": e.order_link_id,
                }
            )
    limit = _int(p, "limit", 20, 1, 50)
    return {"list": rows[:limit], "nextPageCursor": ""}


def _settlement(e) -> dict:
    """A funding settlement as Bybit's transaction log shows it (type SETTLEMENT): `funding` is
    the fee as charged (positive: paid), `change` what it did to the wallet."""
    return {
        "id": f"{e.exec_id}-USDT",
        "symbol": e.symbol,
        "category": e.category,
        "side": e.side,
        "transactionTime": str(e.exec_time),
        "type": "SETTLEMENT",
        "qty": wire.s(e.exec_qty),
        "size": wire.s(e.exec_qty if e.side == "Buy" else -e.exec_qty),
        "currency": "USDT",
        "tradePrice": wire.s(e.exec_price),
        "funding": wire.s(e.exec_fee),
        "fee": "0",
        "cashFlow": "0",
        "change": wire.s(-e.exec_fee),
        "cashBalance": "",
        "feeRate": wire.s(e.fee_rate),
        "bonusChange": "",
        "tradeId": e.exec_id,
        "orderId": "",
        "orderLinkId": "",
    }


def set_margin_mode(sim, key, p, units):
    mode = p.get("setMarginMode")
    if mode not in ("ISOLATED_MARGIN", "REGULAR_MARGIN", "PORTFOLIO_MARGIN"):
        raise BybitError(10001, "params error: setMarginMode invalid")
    if mode != "REGULAR_MARGIN":
        return {
            "reasons": [
                {
                    "reasonCode": "3400045",
                    "reasonMsg": "The simulator keeps every account on cross margin (REGULAR_MARGIN).",
                }
            ]
        }
    return {"reasons": []}
