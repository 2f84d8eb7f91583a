"""Auto-close targets (take profit / stop loss) and the optional start trigger."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .config import Direction, GridConfig


@dataclass(frozen=True)
class TargetHit:
    kind: str  # "take_profit" | "stop_loss"
    reason: str  # plain English, shown to the user and stored as the stop reason
    code: str = ""  # which setting: "price" | "pnl" | "roi"


def check_targets(config: GridConfig, *, price: Decimal, total_pnl: Decimal, invested: Decimal) -> TargetHit | None:
    """The first target reached, stop losses first (they protect money), else None.
    Price targets are mirrored for short linear grids (take profit below, stop loss above)."""
    short = config.is_linear and config.direction == Direction.SHORT
    sl_price, tp_price = config.stop_loss_price, config.take_profit_price
    if sl_price is not None and (price >= sl_price if short else price <= sl_price):
        word = "rose to" if short else "fell to"
        return TargetHit("stop_loss", f"Stop loss: the price {word} {price} (your limit {sl_price}).", "price")
    if config.stop_loss_pnl is not None and total_pnl <= -config.stop_loss_pnl:
        return TargetHit(
            "stop_loss", f"Stop loss: the bot lost {-total_pnl} (your limit {config.stop_loss_pnl}).", "pnl"
        )
    roi = total_pnl / invested * 100 if invested > 0 else None
    if config.stop_loss_roi is not None and roi is not None and roi <= -config.stop_loss_roi:
        return TargetHit(
            "stop_loss", f"Stop loss: the bot is down {-roi:.2f}% (your limit {config.stop_loss_roi}%).", "roi"
        )
    if tp_price is not None and (price <= tp_price if short else price >= tp_price):
        word = "fell to" if short else "rose to"
        return TargetHit("take_profit", f"Take profit: the price {word} {price} (your target {tp_price}).", "price")
    if config.take_profit_pnl is not None and total_pnl >= config.take_profit_pnl:
        return TargetHit(
            "take_profit", f"Take profit: the bot made {total_pnl} (your target {config.take_profit_pnl}).", "pnl"
        )
    if config.take_profit_roi is not None and roi is not None and roi >= config.take_profit_roi:
        return TargetHit(
            "take_profit", f"Take profit: the bot is up {roi:.2f}% (your target {config.take_profit_roi}%).", "roi"
        )
    return None


def trigger_reached(config: GridConfig, *, price: Decimal, previous_price: Decimal | None) -> bool:
    """True when the bot may start: no trigger set, or the price touched or crossed the trigger
    between the previous observation and this one (either direction)."""
    trigger = config.trigger_price
    if trigger is None:
        return True
    if previous_price is None:
        return price == trigger
    return min(previous_price, price) <= trigger <= max(previous_price, price)
