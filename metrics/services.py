"""Metric bookkeeping. (Filled in by the metrics work.)"""

from __future__ import annotations


def metrics_apply_trades(*, bot, trades) -> None:
    """Fold newly stored trades (in execution order) into the bot's BotMetrics incrementally.
    Called by the bot tick inside the transaction that stored the trades."""
    return None


def metrics_update_price(*, bot, price) -> None:
    """Revalue inventory (unrealized PnL) at the latest price."""
    return None
