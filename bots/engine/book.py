"""The profit book: the one definition of a grid bot's profit (pure: no Django, no I/O, Decimal).

Every figure a user sees (bot page, dashboard, trade list), the take-profit / stop-loss check,
the live tick and the backtest come from this fold over the bot's fills, in execution order,
across EVERY run of the bot (a restart changes nothing: the book does not know about runs).

Public API (docs/engine-contract.md "Profit book"):
    BookFill(side, price, qty, fee, fee_coin, level, purpose, trade_id=0)   one execution
    ProfitBook(category, base_coin, quote_coin, invested)                    the running book
        .apply(fill) -> FillResult(realized_pnl, closes_cycle)
        .apply_funding(amount)                  linear funding settlement (+ received, - paid)
        .unrealized(price) / .total_pnl(price) / .grid_profit / .realized_pnl / .funding
        .fees (per coin, as charged) / .fees_quote (every fee valued in quote at its fill price)
        .to_json() / ProfitBook.from_json(data)  exact round trip (decimals as strings)

Every intermediate amount is quantized to 18 decimal places (the database's scale) where it is
computed, so folding incrementally (state persisted between ticks) and from scratch give the
same figures to the last unit.

Spot (grid-math.md §3.3, §3.5):
- a buy adds a lot to the FIFO queue of its grid line: base received = qty − fee when the fee is
  charged in base (Bybit spot buys), cost = qty × price (+ the fee when it was charged in quote);
  a buy that is not a grid order (initial position) goes to the "init" queue;
- a sell at line L closes lots of line L−1 first (FIFO), then lots bought for the initial
  position, then any other lot (lowest line first). Its realized PnL = proceeds net of a quote
  fee − the cost of the matched base (pro rata of each lot's cost, fees included);
- a grid sell that matched base bought at the line below completes a cycle; its realized PnL is
  grid profit. Other sells (initial-position base, close on stop) are realized, not grid profit;
- a fee charged in a third coin (neither base nor quote, e.g. a fee-discount token) moves neither
  base nor cash: it is kept in `fees` under its coin and left out of `fees_quote` (no price);
- inventory PnL = base held × price − cost of the lots still held.

Linear (USDT perpetual): a signed position with an average entry; a fill against the position
realizes (price − entry) × closed qty × sign − the closing fee − the share of opening fees of the
closed qty; a fill through zero opens the rest at its price. A grid order's closing fill counts
as a cycle (its PnL is grid profit). Fees are in the settle coin (quote). Funding settlements
add to `funding` (and to total PnL), never to grid profit.

Total PnL at a price = realized + inventory + funding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

SCALE = Decimal("1e-18")
ZERO = Decimal(0)
INIT = "init"  # the queue of lots bought outside the grid (initial position, no line)
BUY, SELL = "Buy", "Sell"
GRID = "grid"
JSON_VERSION = 1


def q18(value: Decimal) -> Decimal:
    return value.quantize(SCALE, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class BookFill:
    """One execution as the book needs it. `level`: the grid line of its order (None for the
    initial and close orders); `purpose`: "grid" | "initial" | "close"."""

    side: str  # "Buy" | "Sell"
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_coin: str
    level: int | None
    purpose: str
    trade_id: int = 0


@dataclass(frozen=True, slots=True)
class FillResult:
    realized_pnl: Decimal  # 0 for a fill that only opens (buys on spot)
    closes_cycle: (
        bool  # a grid sell that matched base from the line below (spot) / a grid fill closing position (linear)
    )


def _sort_key(key: str) -> tuple[int, int]:
    return (0, int(key)) if key.lstrip("-").isdigit() else (1, 0)


@dataclass
class ProfitBook:
    category: str = "spot"  # "spot" | "linear"
    base_coin: str = ""
    quote_coin: str = "USDT"
    invested: Decimal = ZERO
    grid_profit: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    funding: Decimal = ZERO
    fees_quote: Decimal = ZERO
    gross_profit: Decimal = ZERO
    gross_loss: Decimal = ZERO
    base_position: Decimal = ZERO  # spot: base held; linear: signed contracts
    quote_balance: Decimal = ZERO  # spot: quote held (invested − spent + received); linear: margin + realized
    cost_basis: Decimal = ZERO  # spot: cost of the lots held; linear: |position| × entry
    entry_price: Decimal = ZERO  # linear only
    open_fees: Decimal = ZERO  # linear only: opening fees of the open position
    trade_count: int = 0
    last_trade_id: int = 0
    fees: dict[str, Decimal] = field(default_factory=dict)  # as charged, per coin
    # spot lots: {line key | "init": [[base_qty, cost], ...]} oldest first
    lots: dict[str, list[list[Decimal]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.quote_balance == ZERO and self.trade_count == 0 and self.invested:
            self.quote_balance = self.invested

    # --- valuation ---------------------------------------------------------------------------
    def unrealized(self, price: Decimal | None) -> Decimal:
        """Inventory PnL at `price` (0 when no price is known)."""
        if price is None:
            return ZERO
        with localcontext() as ctx:
            ctx.prec = 80
            if self.category == "linear":
                return q18((price - self.entry_price) * self.base_position) - self.open_fees
            return q18(self.base_position * price) - self.cost_basis

    def total_pnl(self, price: Decimal | None) -> Decimal:
        """What the user sees as the bot's profit: realized + inventory + funding."""
        return self.realized_pnl + self.unrealized(price) + self.funding

    def roi_percent(self, price: Decimal | None) -> Decimal | None:
        if self.invested <= 0:
            return None
        return self.total_pnl(price) / self.invested * 100

    # --- the fold ----------------------------------------------------------------------------
    def apply(self, fill: BookFill) -> FillResult:
        with localcontext() as ctx:
            ctx.prec = 80
            if fill.fee:
                coin = (fill.fee_coin or self.quote_coin).upper()
                self.fees[coin] = self.fees.get(coin, ZERO) + fill.fee
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

    def apply_funding(self, amount: Decimal) -> None:
        """A funding settlement of the linear position (positive: received)."""
        self.funding += amount
        self.quote_balance += amount

    def _fee_kind(self, fill: BookFill) -> str:
        """ "quote" | "base" | "other" (a third coin)."""
        coin = (fill.fee_coin or "").upper()
        if self.category == "linear" or not coin or coin == self.quote_coin.upper():
            return "quote"
        if not self.base_coin or coin == self.base_coin.upper():
            return "base"
        return "other"

    def _apply_spot(self, fill: BookFill) -> FillResult:
        notional = q18(fill.qty * fill.price)
        kind = self._fee_kind(fill)
        fee_quote = fill.fee if kind == "quote" else q18(fill.fee * fill.price) if kind == "base" else ZERO
        quote_fee = fill.fee if kind == "quote" else ZERO
        base_fee = fill.fee if kind == "base" else ZERO
        self.fees_quote += fee_quote
        if fill.side == BUY:
            base_in = fill.qty - base_fee
            cost = notional + quote_fee
            key = str(fill.level) if fill.purpose == GRID and fill.level is not None else INIT
            self.lots.setdefault(key, []).append([base_in, cost])
            self.base_position += base_in
            self.quote_balance -= cost
            self.cost_basis += cost
            return FillResult(ZERO, False)

        base_out = fill.qty + base_fee
        proceeds = notional - quote_fee
        below = str(fill.level - 1) if fill.purpose == GRID and fill.level is not None else None
        remaining = base_out
        matched_cost = ZERO
        from_level_below = False
        for key in self._match_order(below):
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
                if key == below:
                    from_level_below = True
            if queue is not None and not queue:
                del self.lots[key]
            if remaining <= 0:
                break
        if remaining > 0:
            # Base the book never saw bought (should not happen): valued at the fill price, so
            # no profit is invented.
            matched_cost += q18(remaining * fill.price)
        pnl = proceeds - matched_cost
        self.base_position -= base_out
        self.quote_balance += proceeds
        self.cost_basis -= matched_cost
        if self.cost_basis < 0:
            self.cost_basis = ZERO
        self.realized_pnl += pnl
        if from_level_below:
            self.grid_profit += pnl
        return FillResult(pnl, from_level_below)

    def _match_order(self, below: str | None) -> list[str]:
        keys: list[str] = [below] if below is not None else []
        if INIT not in keys:
            keys.append(INIT)
        keys.extend(k for k in sorted(self.lots, key=_sort_key) if k not in keys)
        return keys

    def _apply_linear(self, fill: BookFill) -> FillResult:
        self.fees_quote += fill.fee
        signed = fill.qty if fill.side == BUY else -fill.qty
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
            closes = fill.purpose == GRID
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
        self.quote_balance = self.invested + self.realized_pnl + self.funding - self.open_fees
        return FillResult(pnl, closes)

    # --- persistence -------------------------------------------------------------------------
    _DECIMALS = (
        "invested",
        "grid_profit",
        "realized_pnl",
        "funding",
        "fees_quote",
        "gross_profit",
        "gross_loss",
        "base_position",
        "quote_balance",
        "cost_basis",
        "entry_price",
        "open_fees",
    )

    def to_json(self) -> dict:
        out: dict = {"v": JSON_VERSION, "category": self.category, "base_coin": self.base_coin}
        out["quote_coin"] = self.quote_coin
        for name in self._DECIMALS:
            out[name] = str(getattr(self, name))
        out["trade_count"] = self.trade_count
        out["last_trade_id"] = self.last_trade_id
        out["fees"] = {k: str(v) for k, v in self.fees.items()}
        out["lots"] = {k: [[str(b), str(c)] for b, c in v] for k, v in self.lots.items() if v}
        return out

    @classmethod
    def from_json(cls, data: dict) -> ProfitBook:
        book = cls(
            category=data.get("category", "spot"),
            base_coin=data.get("base_coin", ""),
            quote_coin=data.get("quote_coin", "USDT"),
            trade_count=int(data.get("trade_count", 0)),
            last_trade_id=int(data.get("last_trade_id", 0)),
        )
        for name in cls._DECIMALS:
            setattr(book, name, Decimal(data.get(name, "0")))
        book.fees = {k: Decimal(v) for k, v in (data.get("fees") or {}).items()}
        book.lots = {k: [[Decimal(b), Decimal(c)] for b, c in v] for k, v in (data.get("lots") or {}).items() if v}
        return book
