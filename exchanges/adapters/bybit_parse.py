"""Bybit V5 wire format -> port dataclasses, and retCode -> port errors. No pybit here: this is
pure translation, shared by the REST client and the private stream in bybit.py."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import overload

from exchanges import errors
from exchanges.client import (
    Category,
    ExchangeOrder,
    ExchangeOrderStatus,
    Fill,
    FundingPayment,
    InstrumentRules,
    KeyPermissions,
    Kline,
    OrderType,
    Position,
    Side,
    Ticker,
)

# --- retCode tables (docs/v5/error.mdx; see /work/shared/docs/bybit-v5.md §3.20) -------------
TEMPORARY_CODES = {10000, 10002, 10016, 10019, 10429, 130035, 130150, 30034, 30035, 170007, 170146, 170147}
RATE_LIMIT_CODES = {10006, 10018}
AUTH_CODES = {10003, 10004, 10007, 10008, 10009, 10010, 33004}
PERMISSION_CODES = {10005, 10020, 10024, 10027, 10028, 10029, 170008}
INSUFFICIENT_CODES = {110004, 110006, 110007, 110012, 110044, 110045, 110052, 170131, 170033, 170037}
INVALID_ORDER_CODES = {
    110003, 110009, 110013, 110014, 110015, 110017, 110018, 110022, 110094,
    170010, 170012, 170019, 170121, 170130, 170132, 170133, 170134, 170135, 170136, 170137, 170140,
    170148, 170193, 170194,
}
TOO_MANY_OPEN_CODES = {110020, 170810, 170124}
DUPLICATE_CODES = {110072, 170141}
NOT_FOUND_CODES = {110001, 170213, 20001}
ALREADY_CLOSED_CODES = {110008, 110010, 170139, 170142, 170143}
LEVERAGE_NOT_MODIFIED = 110043
INVALID_REQUEST_CODES = {10001, 10014, 10017, 181017}


def error_for_code(code: int, message: str, *, order_call: bool = False, retry_after: float = 1.0):
    """The port error for a Bybit retCode. `order_call` makes generic parameter errors and
    unknown codes on order placement OrderRejected (the order was refused, do not resend)."""
    text = f"{message} (retCode {code})"
    if code in RATE_LIMIT_CODES:
        return errors.RateLimited(text, code=code, retry_after=retry_after)
    if code in TEMPORARY_CODES:
        return errors.TemporaryExchangeError(text, code=code)
    if code in AUTH_CODES:
        return errors.AuthenticationFailed(text, code=code)
    if code in PERMISSION_CODES:
        return errors.PermissionDenied(text, code=code)
    if code in DUPLICATE_CODES:
        return errors.DuplicateClientOrderId(text, code=code)
    if code in INSUFFICIENT_CODES:
        return errors.InsufficientBalance(text, code=code)
    if code in TOO_MANY_OPEN_CODES:
        return errors.TooManyOpenOrders(text, code=code)
    if code in ALREADY_CLOSED_CODES:
        return errors.OrderAlreadyClosed(text, code=code)
    if code in NOT_FOUND_CODES:
        return errors.OrderNotFound(text, code=code)
    if code in INVALID_ORDER_CODES:
        return errors.InvalidOrder(text, code=code) if order_call else errors.InvalidRequest(text, code=code)
    if code in INVALID_REQUEST_CODES:
        return errors.InvalidOrder(text, code=code) if order_call else errors.InvalidRequest(text, code=code)
    if order_call:
        return errors.OrderRejected(text, code=code)
    return errors.InvalidRequest(text, code=code)


def error_for_http_status(status: int, message: str, *, retry_after: float = 1.0):
    text = f"{message} (HTTP {status})"
    if status == 403:  # Bybit's IP limit: wait at least 10 minutes
        return errors.RateLimited(text, code=status, retry_after=max(retry_after, 600.0))
    if status == 429:
        return errors.RateLimited(text, code=status, retry_after=retry_after)
    if status == 401:
        return errors.AuthenticationFailed(text, code=status)
    if status in (400, 404):
        return errors.InvalidRequest(text, code=status)
    # 5xx, 409 (pybit's "could not decode JSON"), anything else: the exchange did not answer sanely
    return errors.TemporaryExchangeError(text, code=status)


# --- values ----------------------------------------------------------------------------------
@overload
def dec(value, default: Decimal = ...) -> Decimal: ...
@overload
def dec(value, default: None) -> Decimal | None: ...
def dec(value, default: Decimal | None = Decimal("0")) -> Decimal | None:
    if value is None or value == "":
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return default


def dec_or_none(value) -> Decimal | None:
    """A price that Bybit reports as "" or "0" when it does not exist."""
    result = dec(value, None)
    return None if result is None or result == 0 else result


def ms_to_dt(value) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError):
        return datetime.fromtimestamp(0, tz=UTC)


def dt_to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


# --- market ----------------------------------------------------------------------------------
def parse_rules(item: dict, category: Category) -> InstrumentRules:
    lot = item.get("lotSizeFilter") or {}
    price = item.get("priceFilter") or {}
    if category == Category.SPOT:
        qty_step = dec(lot.get("basePrecision") or lot.get("qtyStep"), Decimal("0.000001"))
        max_qty = dec(lot.get("maxLimitOrderQty") or lot.get("maxOrderQty"), Decimal("0"))
        min_notional = dec(lot.get("minOrderAmt"), Decimal("0"))
        max_leverage = None
    else:
        qty_step = dec(lot.get("qtyStep"), Decimal("0.001"))
        max_qty = dec(lot.get("maxOrderQty"), Decimal("0"))
        min_notional = dec(lot.get("minNotionalValue"), Decimal("0"))
        max_leverage = dec((item.get("leverageFilter") or {}).get("maxLeverage"), None)
    return InstrumentRules(
        symbol=item["symbol"],
        category=category,
        base_coin=item.get("baseCoin", ""),
        quote_coin=item.get("quoteCoin", ""),
        tick_size=dec(price.get("tickSize"), Decimal("0.01")),
        qty_step=qty_step,
        min_qty=dec(lot.get("minOrderQty"), qty_step),
        max_qty=max_qty,
        min_notional=min_notional,
        max_leverage=max_leverage,
        status=item.get("status", "Trading"),
    )


def parse_ticker(item: dict) -> Ticker:
    return Ticker(
        symbol=item["symbol"],
        last_price=dec(item.get("lastPrice")),
        bid_price=dec_or_none(item.get("bid1Price")),
        ask_price=dec_or_none(item.get("ask1Price")),
        high_24h=dec(item.get("highPrice24h"), None),
        low_24h=dec(item.get("lowPrice24h"), None),
        volume_24h=dec(item.get("volume24h"), None),
        funding_rate=dec(item.get("fundingRate"), None) if item.get("fundingRate") not in (None, "") else None,
    )


def parse_kline(row: list) -> Kline:
    return Kline(
        start=ms_to_dt(row[0]),
        open=dec(row[1]),
        high=dec(row[2]),
        low=dec(row[3]),
        close=dec(row[4]),
        volume=dec(row[5]),
    )


# --- orders and fills ------------------------------------------------------------------------
_STATUS = {
    "New": ExchangeOrderStatus.NEW,
    "Created": ExchangeOrderStatus.NEW,
    "Untriggered": ExchangeOrderStatus.NEW,
    "Triggered": ExchangeOrderStatus.NEW,
    "PartiallyFilled": ExchangeOrderStatus.PARTIALLY_FILLED,
    "Filled": ExchangeOrderStatus.FILLED,
    "Cancelled": ExchangeOrderStatus.CANCELLED,
    "Deactivated": ExchangeOrderStatus.CANCELLED,
    "PartiallyFilledCanceled": ExchangeOrderStatus.PARTIALLY_FILLED_CANCELLED,
    "Rejected": ExchangeOrderStatus.REJECTED,
}


def parse_order(item: dict, category: Category) -> ExchangeOrder:
    filled = dec(item.get("cumExecQty"))
    status = _STATUS.get(item.get("orderStatus", ""), ExchangeOrderStatus.NEW)
    if status == ExchangeOrderStatus.CANCELLED and filled > 0:
        # derivatives report "Cancelled" for a partially filled then cancelled order
        status = ExchangeOrderStatus.PARTIALLY_FILLED_CANCELLED
    reject = item.get("rejectReason") or ""
    order_type = OrderType(item.get("orderType") or "Limit")
    return ExchangeOrder(
        order_id=str(item.get("orderId", "")),
        client_order_id=item.get("orderLinkId") or "",
        category=Category(item.get("category") or category),
        symbol=item.get("symbol", ""),
        side=Side(item["side"]),
        order_type=order_type,
        price=dec_or_none(item.get("price")),
        qty=dec(item.get("qty")),
        filled_qty=filled,
        avg_price=dec_or_none(item.get("avgPrice")),
        status=status,
        created_at=ms_to_dt(item.get("createdTime")),
        updated_at=ms_to_dt(item.get("updatedTime") or item.get("createdTime")),
        reject_reason="" if reject in ("", "EC_NoError") else reject,
    )


def parse_fill(item: dict, category: Category, rules: InstrumentRules | None = None) -> Fill:
    side = Side(item["side"])
    fee_coin = item.get("feeCurrency") or ""
    if not fee_coin and rules is not None:
        if category == Category.SPOT:
            fee_coin = rules.base_coin if side == Side.BUY else rules.quote_coin
        else:
            fee_coin = rules.quote_coin
    is_maker = item.get("isMaker")
    if isinstance(is_maker, str):
        is_maker = is_maker.lower() == "true"
    return Fill(
        exec_id=str(item["execId"]),
        order_id=str(item.get("orderId", "")),
        client_order_id=item.get("orderLinkId") or "",
        category=Category(item.get("category") or category),
        symbol=item.get("symbol", ""),
        side=side,
        price=dec(item.get("execPrice")),
        qty=dec(item.get("execQty")),
        fee=dec(item.get("execFee")),
        fee_coin=fee_coin,
        is_maker=bool(is_maker),
        executed_at=ms_to_dt(item.get("execTime")),
        seq=int(item["seq"]) if str(item.get("seq") or "").isdigit() else None,
    )


def parse_funding(item: dict, settle_coin: str) -> FundingPayment:
    """A `Funding` row of /v5/execution/list: execFee is the fee as charged (positive: paid), so
    the wallet moved by its negative; execQty the position's size, execPrice the mark price."""
    return FundingPayment(
        venue_id=str(item["execId"]),
        symbol=item.get("symbol", ""),
        amount=-dec(item.get("execFee")),
        coin=item.get("feeCurrency") or settle_coin,
        rate=dec(item.get("feeRate")),
        position_qty=abs(dec(item.get("execQty"))),
        mark_price=dec(item.get("markPrice") or item.get("execPrice")),
        paid_at=ms_to_dt(item.get("execTime")),
    )


def parse_position(item: dict) -> Position:
    side = item.get("side") or ""
    size = dec(item.get("size"))
    return Position(
        symbol=item.get("symbol", ""),
        side=Side(side) if side in ("Buy", "Sell") and size != 0 else None,
        size=size,
        avg_price=dec(item.get("avgPrice") or item.get("entryPrice")),
        leverage=dec(item.get("leverage"), Decimal("1")),
        mark_price=dec(item.get("markPrice")),
        unrealized_pnl=dec(item.get("unrealisedPnl")),
        liq_price=dec_or_none(item.get("liqPrice")),
    )


# --- keys ------------------------------------------------------------------------------------
def _parse_expiry(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        number = int(value)
        return None if number == 0 else ms_to_dt(number if number > 10**11 else number * 1000)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_key_permissions(result: dict) -> KeyPermissions:
    perms = result.get("permissions") or {}
    all_values = {str(v) for values in perms.values() if isinstance(values, list) for v in values}
    spot = perms.get("Spot") or []
    contract = (perms.get("ContractTrade") or []) + (perms.get("Derivatives") or [])
    ips = tuple(ip for ip in (result.get("ips") or []) if ip and ip != "*")
    read_only = str(result.get("readOnly", "0")) in ("1", "True", "true")
    return KeyPermissions(
        read_only=read_only,
        can_trade_spot=not read_only and "SpotTrade" in spot,
        can_trade_linear=not read_only and any(p in contract for p in ("Order", "Position", "DerivativesTrade")),
        can_withdraw="Withdraw" in all_values,
        ip_whitelist=ips,
        expires_at=_parse_expiry(result.get("expiredAt")),
        raw={"permissions": perms, "readOnly": result.get("readOnly"), "ips": result.get("ips") or [],
             "type": result.get("type"), "uta": result.get("uta")},
    )
