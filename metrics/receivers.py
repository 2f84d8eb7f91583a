"""metrics follows trading's bookkeeping (trading.signals; connected in MetricsConfig.ready):
new trades and funding settlements fold into the profit book in the transaction that stored them."""

from __future__ import annotations

from metrics.services import metrics_apply_funding, metrics_apply_trades


def trades_stored_fold(sender, *, bot, trades, **kwargs) -> None:
    metrics_apply_trades(bot=bot, trades=trades)  # sets each trade's realized_pnl


def funding_stored_fold(sender, *, bot, payments, **kwargs) -> None:
    metrics_apply_funding(bot=bot, payments=payments)
