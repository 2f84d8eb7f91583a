"""Completed grid cycles and realised grid profit, from fills alone (pure, no Django).

A cycle is a buy at grid line k and a sell at line k+1 (either order: buy low then sell high,
or for base bought at launch / short grids, sell high then buy back low). Fills are matched
first-in first-out per interval, by quantity. Quote-valued fees of both legs are charged to the
cycle; a spot buy's fee paid in the base coin shows as less base to sell. A leg whose remainder
falls below `dust` counts as closed (the counter order was rounded down to the quantity step).

The tick folds each stored fill in with `CycleBook.apply` (state kept in bot.state); tests
rebuild the same figures from the exchange's own execution ledger and compare."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class LegFill:
    side: str  # "Buy" | "Sell"
    level: int
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_coin: str


@dataclass
class CycleBook:
    base_coin: str
    quote_coin: str
    dust: Decimal
    # interval k -> {"buys": [[qty, amount]], "sells": [[qty, amount]]}; amount in quote
    # (cost of a buy, proceeds of a sell, fees included), qty in base.
    legs: dict = field(default_factory=dict)
    cycles: int = 0
    profit: Decimal = ZERO

    def apply(self, fill: LegFill) -> tuple[Decimal, int]:
        """Fold one grid fill in; return (realised profit it closed, cycles it completed)."""
        qty, amount = self._leg_of(fill)
        if qty <= 0:
            return ZERO, 0
        if fill.side == "Buy":
            interval, mine, other = fill.level, "buys", "sells"
        else:
            interval, mine, other = fill.level - 1, "sells", "buys"
        if interval < 0:
            return ZERO, 0
        book = self.legs.setdefault(str(interval), {"buys": [], "sells": []})
        queue = book[other]
        realised, completed = ZERO, 0
        while qty > self.dust and queue:
            head_qty, head_amount = Decimal(queue[0][0]), Decimal(queue[0][1])
            matched = min(qty, head_qty)
            head_part = head_amount * matched / head_qty
            my_part = amount * matched / qty
            realised += (my_part - head_part) if fill.side == "Sell" else (head_part - my_part)
            head_qty -= matched
            head_amount -= head_part
            qty -= matched
            amount -= my_part
            if head_qty <= self.dust:
                queue.pop(0)
                completed += 1
            else:
                queue[0] = [str(head_qty), str(head_amount)]
        if qty > self.dust:
            book[mine].append([str(qty), str(amount)])
        self.cycles += completed
        self.profit += realised
        return realised, completed

    def _leg_of(self, fill: LegFill) -> tuple[Decimal, Decimal]:
        notional = fill.qty * fill.price
        fee_quote = ZERO
        qty = fill.qty
        if fill.fee_coin == self.base_coin:
            if fill.side == "Buy":
                qty = fill.qty - fill.fee  # fewer coins received
            else:
                fee_quote = fill.fee * fill.price
        else:
            fee_quote = fill.fee
        amount = notional + fee_quote if fill.side == "Buy" else notional - fee_quote
        return qty, amount

    def to_state(self) -> dict:
        return {"legs": self.legs, "cycles": self.cycles, "profit": str(self.profit)}

    @classmethod
    def from_state(cls, data: dict | None, *, base_coin: str, quote_coin: str, dust: Decimal) -> CycleBook:
        data = data or {}
        return cls(
            base_coin=base_coin,
            quote_coin=quote_coin,
            dust=dust,
            legs=data.get("legs", {}),
            cycles=int(data.get("cycles", 0)),
            profit=Decimal(data.get("profit", "0")),
        )


def cycles_from_fills(fills, *, base_coin: str, quote_coin: str, dust: Decimal) -> tuple[int, Decimal]:
    """Replay grid fills (in execution order) and return (completed cycles, realised profit)."""
    book = CycleBook(base_coin=base_coin, quote_coin=quote_coin, dust=dust)
    for fill in fills:
        book.apply(fill)
    return book.cycles, book.profit
