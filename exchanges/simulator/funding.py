"""Funding of linear perpetuals: every open position pays or receives position value × rate at
each settlement (every 8 hours of market time: 00:00, 08:00, 16:00 UTC of the replayed candles,
or at once through POST /control/funding/settle).

As on Bybit, a settlement is an execution with execType "Funding" (GET /v5/execution/list, the
private `execution` topic): execQty = the position's size, execPrice = the mark price, execValue
= size × mark, feeRate = the funding rate, execFee = the funding fee, positive when the account
paid it (a long with a positive rate, a short with a negative one) and negative when it received
it; no order (orderLinkId ""), orderType "UNKNOWN", feeCurrency "" (the settle coin, USDT). The
fee moves the USDT wallet balance; nothing else (position, entry, realised PnL) changes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from .models import ZERO, Execution

if TYPE_CHECKING:
    from .models import Account, Position

INTERVAL_MS = 8 * 3600 * 1000  # Bybit's default funding interval (fundingIntervalHour "8")
DEFAULT_RATE = Decimal("0.0001")  # what the ticker showed before funding was simulated
SETTLE_COIN = "USDT"


def funding_slot(ts_ms: int) -> int:
    """The funding period a market time falls in (a new period starts at each settlement)."""
    return ts_ms // INTERVAL_MS


class FundingMixin:
    """Mixed into engine.Exchange (shares its state)."""

    if TYPE_CHECKING:  # state and helpers of engine.Exchange, the class that combines the mixins
        clock: Callable[[], int]
        accounts: dict[int, Account]
        executions: dict[int, list[Execution]]
        positions: dict[tuple[int, str], Position]
        open_positions: dict[str, set[int]]
        funding_rates: dict[str, Decimal]
        _dirty_accounts: set[int]
        _dirty_kv: bool
        _new_execs: list[Execution]
        private_events: dict[int, dict[str, list]]
        wallet_touched: set[int]

        def _next(self, name: str) -> int: ...
        def price(self, category: str, symbol: str) -> Decimal: ...

    def funding_rate(self, symbol: str) -> Decimal:
        return self.funding_rates.get(symbol, DEFAULT_RATE)

    def set_funding_rate(self, symbol: str, rate: Decimal) -> None:
        self.funding_rates[symbol] = rate
        self._dirty_kv = True

    def settle_funding(self, symbol: str, rate: Decimal | None = None) -> list[Execution]:
        """Charge (or pay) funding on every open `symbol` position at the mark price now."""
        rate = self.funding_rate(symbol) if rate is None else rate
        mark = self.price("linear", symbol)
        out: list[Execution] = []
        for uid in sorted(self.open_positions[symbol]):
            pos = self.positions[(uid, symbol)]
            if not pos.size:
                continue
            size = abs(pos.size)
            fee = pos.size * mark * rate  # signed size: a long pays a positive rate, a short receives it
            acc = self.accounts[uid]
            acc.balances[SETTLE_COIN] = acc.balances.get(SETTLE_COIN, ZERO) - fee
            self._dirty_accounts.add(uid)
            e = Execution(
                exec_id=str(uuid.uuid4()),
                uid=uid,
                seq=self._next("exec"),
                category="linear",
                symbol=symbol,
                order_id="",
                order_link_id="",
                side="Buy" if pos.size > 0 else "Sell",
                order_type="UNKNOWN",
                order_price=ZERO,
                order_qty=ZERO,
                leaves_qty=ZERO,
                exec_price=mark,
                exec_qty=size,
                exec_value=size * mark,
                exec_fee=fee,
                fee_rate=rate,
                fee_currency="",
                is_maker=False,
                exec_time=self.clock(),
                exec_type="Funding",
                mark_price=mark,
            )
            self.executions[uid].append(e)
            self._new_execs.append(e)
            self.private_events[uid]["execution"].append(e)
            self.wallet_touched.add(uid)
            out.append(e)
        return out
