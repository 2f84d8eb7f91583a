"""Pure profit accounting of one bot's fills (no Django, no I/O).

The same fold runs incrementally (state kept in BotMetrics between ticks) and from scratch
(`metrics_recompute`), so both give identical figures: every intermediate amount is quantized
to 18 decimal places (the database's scale) at the step where it is computed.

Spot (grid-math.md §3.3, §3.5):
- a buy adds a lot to the FIFO queue of its grid level: base received = qty − fee when the fee is
  charged in base (Bybit spot buys), cost = qty × price (+ the fee when it was charged in quote);
- a sell at level L closes lots of level L−1 first (FIFO), then lots bought for the initial
  position, then any other lot (oldest level first). Its realized PnL = proceeds net of the fee −
  the cost of the matched base (pro rata of each lot's cost, fee included);
- a sell order that matched base bought at the level below is one completed cycle; its realized
  PnL is grid profit. Other sells (initial-position base, close on stop) are realized but not
  grid profit.
- inventory (unrealized) PnL = base held × price − cost basis of the lots still held.

Linear (USDT perpetual): a signed position with an average entry; a fill against the position
realizes (price − entry) × closed qty × sign − the closing fee − the share of opening fees of the
closed qty. Fees are in USDT. A closing fill of a grid order counts one cycle per order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

SCALE = Decimal("1e-18")
ZERO = Decimal(0)
INIT = "init"  # lots bought for the initial position (purpose "initial" or no level)


def q18(value: Decimal) -> Decimal:
    return value.quantize(SCALE, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Fill:
    """One stored execution, as the accounting needs it."""

    trade_id: int
    order_id: int
    side: str  # "Buy" | "Sell"
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_coin: str
    level: int | None
    purpose: str  # "grid" | "initial" | "close"


@dataclass
class FillResult:
    trade_id: int
    order_id: int
    realized_pnl: Decimal
    closes_cycle: bool  # this fill matched base bought at the level below (spot) / closed a grid position (linear)


@dataclass
class Book:
    """The running state of the accounting. `to_json`/`from_json` persist it in BotMetrics."""

    category: str = "spot"
    base_coin: str = ""
    quote_coin: str = "USDT"
    invested: Decimal = ZERO
    grid_profit: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees_quote: Decimal = ZERO
    gross_profit: Decimal = ZERO
    gross_loss: Decimal = ZERO
    base_position: Decimal = ZERO  # spot: base held; linear: signed contracts
    quote_balance: Decimal = ZERO  # spot: quote held; linear: margin + realized
    cost_basis: Decimal = ZERO  # spot: cost of the lots held; linear: |position| × entry
    entry_price: Decimal = ZERO  # linear only
    open_fees: Decimal = ZERO  # linear only: opening fees of the open position
    trade_count: int = 0
    last_trade_id: int = 0
    # spot lots: {level key: [[base_qty, cost], ...]} oldest first
    lots: dict[str, list[list[Decimal]]] = field(default_factory=dict)

    # --- persistence -----------------------------------------------------------------------
    def lots_json(self) -> dict:
        out: dict = {"lots": {k: [[str(b), str(c)] for b, c in v] for k, v in self.lots.items() if v}}
        if self.category == "linear":
            out["entry_price"] = str(self.entry_price)
            out["open_fees"] = str(self.open_fees)
        return out

    def load_lots_json(self, data: dict | None) -> None:
        data = data or {}
        self.lots = {k: [[Decimal(b), Decimal(c)] for b, c in v] for k, v in (data.get("lots") or {}).items()}
        self.entry_price = Decimal(data.get("entry_price", "0"))
        self.open_fees = Decimal(data.get("open_fees", "0"))

    # --- the fold --------------------------------------------------------------------------
    def apply(self, fill: Fill) -> FillResult:
        with localcontext() as ctx:
            ctx.prec = 80
            if self.category == "linear":
                result = self._apply_linear(fill)
            else:
                result = self._apply_spot(fill)
        self.trade_count += 1
        self.last_trade_id = max(self.last_trade_id, fill.trade_id)
        pnl = result.realized_pnl
        if pnl > 0:
            self.gross_profit += pnl
        elif pnl < 0:
            self.gross_loss += -pnl
        return result

    def _fee_in_quote(self, fill: Fill) -> bool:
        if self.category == "linear":
            return True
        return fill.fee_coin.upper() == self.quote_coin.upper() or not fill.fee_coin

    def _apply_spot(self, fill: Fill) -> FillResult:
        notional = q18(fill.qty * fill.price)
        fee_in_quote = self._fee_in_quote(fill)
        fee_quote = fill.fee if fee_in_quote else q18(fill.fee * fill.price)
        self.fees_quote += fee_quote
        if fill.side == "Buy":
            base_in = fill.qty if fee_in_quote else fill.qty - fill.fee
            cost = notional + fill.fee if fee_in_quote else notional
            key = str(fill.level) if fill.purpose == "grid" and fill.level is not None else INIT
            self.lots.setdefault(key, []).append([base_in, cost])
            self.base_position += base_in
            self.quote_balance -= cost
            self.cost_basis += cost
            return FillResult(fill.trade_id, fill.order_id, ZERO, False)

        # Sell: base out = qty (+ fee if charged in base), proceeds net of a quote fee.
        base_out = fill.qty if fee_in_quote else fill.qty + fill.fee
        proceeds = notional - fill.fee if fee_in_quote else notional
        order = self._match_order(fill)
        remaining = base_out
        matched_cost = ZERO
        from_level_below = False
        for key in order:
            queue = self.lots.get(key)
            while remaining > 0 and queue:
                lot_base, lot_cost = queue[0]
                if lot_base <= remaining:
                    take, take_cost = lot_base, lot_cost
                    queue.pop(0)
                else:
                    take = remaining
                    take_cost = q18(lot_cost * take / lot_base)
                    queue[0] = [lot_base - take, lot_cost - take_cost]
                remaining -= take
                matched_cost += take_cost
                if fill.level is not None and key == str(fill.level - 1) and fill.purpose == "grid":
                    from_level_below = True
            if remaining <= 0:
                break
        if remaining > 0:
            # Base the accounting never saw bought (should not happen): no profit invented.
            matched_cost += q18(remaining * fill.price)
        self.lots = {k: v for k, v in self.lots.items() if v}
        pnl = proceeds - matched_cost
        self.base_position -= base_out
        self.quote_balance += proceeds
        self.cost_basis -= matched_cost
        if self.cost_basis < 0:
            self.cost_basis = ZERO
        self.realized_pnl += pnl
        if from_level_below:
            self.grid_profit += pnl
        return FillResult(fill.trade_id, fill.order_id, pnl, from_level_below)

    def _match_order(self, fill: Fill) -> list[str]:
        keys: list[str] = []
        if fill.purpose == "grid" and fill.level is not None:
            keys.append(str(fill.level - 1))
        keys.append(INIT)

        def sort_key(k: str):
            return (0, int(k)) if k.lstrip("-").isdigit() else (1, 0)

        keys.extend(k for k in sorted(self.lots, key=sort_key) if k not in keys)
        return keys

    def _apply_linear(self, fill: Fill) -> FillResult:
        self.fees_quote += fill.fee
        signed = fill.qty if fill.side == "Buy" else -fill.qty
        pos = self.base_position
        pnl = ZERO
        closes = False
        if pos == 0 or (pos > 0) == (signed > 0):
            new_abs = abs(pos) + fill.qty
            self.entry_price = q18((abs(pos) * self.entry_price + fill.qty * fill.price) / new_abs)
            self.open_fees += fill.fee
            self.base_position = pos + signed
        else:
            closed = min(fill.qty, abs(pos))
            opened = fill.qty - closed
            direction = 1 if pos > 0 else -1
            close_fee = fill.fee if opened == 0 else q18(fill.fee * closed / fill.qty)
            open_fee_share = self.open_fees if closed == abs(pos) else q18(self.open_fees * closed / abs(pos))
            pnl = q18((fill.price - self.entry_price) * closed * direction) - close_fee - open_fee_share
            self.open_fees -= open_fee_share
            self.base_position = pos + signed
            closes = fill.purpose == "grid"
            if opened > 0:  # flipped through zero: the rest opens a new position at this price
                self.entry_price = fill.price
                self.open_fees = fill.fee - close_fee
            elif self.base_position == 0:
                self.entry_price = ZERO
                self.open_fees = ZERO
            self.realized_pnl += pnl
            if closes:
                self.grid_profit += pnl
        self.cost_basis = q18(abs(self.base_position) * self.entry_price)
        self.quote_balance = self.invested + self.realized_pnl - self.open_fees
        return FillResult(fill.trade_id, fill.order_id, pnl, closes)

    # --- valuation -------------------------------------------------------------------------
    def unrealized(self, price: Decimal | None) -> Decimal:
        if price is None:
            return ZERO
        with localcontext() as ctx:
            ctx.prec = 80
            if self.category == "linear":
                return q18((price - self.entry_price) * self.base_position) - self.open_fees
            return q18(self.base_position * price) - self.cost_basis
