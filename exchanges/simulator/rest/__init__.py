"""Handlers of the /v5/ REST endpoints. Each takes (sim, key | None, params, units) and returns `result`
(or (result, retExtInfo)); errors are raised as BybitError and answered as HTTP 200 envelopes."""

from __future__ import annotations

from .account import account_info, fee_rate, position_list, query_api, set_leverage, wallet_balance
from .asset import coin_query_info, set_margin_mode, transaction_log
from .market import instruments_info, kline, market_time, orderbook, recent_trade, tickers
from .orders import (
    batch_units,
    execution_list,
    order_amend,
    order_amend_batch,
    order_cancel,
    order_cancel_all,
    order_cancel_batch,
    order_create,
    order_create_batch,
    order_history,
    order_realtime,
)
from .params import clean_params

TRADE = "trade"
READ = "read"

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
    # what ccxt's bybit client also calls (currencies, ledger, margin mode)
    "/v5/asset/coin/query-info": ("GET", coin_query_info, True, READ),
    "/v5/account/transaction-log": ("GET", transaction_log, True, READ),
    "/v5/account/set-margin-mode": ("POST", set_margin_mode, True, TRADE),
}
BATCH_PATHS = {"/v5/order/create-batch", "/v5/order/amend-batch", "/v5/order/cancel-batch"}
MUTATING = {path for path, r in ROUTES.items() if r[3] == TRADE}

__all__ = ["ROUTES", "BATCH_PATHS", "MUTATING", "TRADE", "READ", "batch_units", "clean_params"]
