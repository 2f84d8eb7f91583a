"""What trading tells the apps above it, inside the transaction that did it.

trading is bookkeeping of orders and trades and imports neither bots nor metrics (import-linter
layers contract); they listen here, connected in their AppConfig.ready. Receivers run
synchronously (Signal.send), in the caller's transaction: a receiver's error rolls the
bookkeeping back with it, exactly as a direct call would."""

from __future__ import annotations

from django.dispatch import Signal

# A line for the bot's log: bot, kind, level (BotEvent.Kind / .Level values), message (English,
# for operators), data, code and params (the user's language). bots writes the BotEvent, tells
# the browser and the owner (bots.log.bot_event).
bot_log = Signal()

# New Trade rows of one bot, stored once, with the bot row locked: bot, trades. metrics folds
# them into the profit book and sets each trade's realized_pnl (metrics_apply_trades).
trades_stored = Signal()

# New FundingPayment rows of one bot, same transaction as their store: bot, payments
# (metrics_apply_funding).
funding_stored = Signal()
