"""Room 1 of the tick: the exchange's view becomes rows of record (orders, executions stored
once, then funding settlements of a linear position stored once, except in a fill's urgent
tick), the bot is revalued at the last price (the profit book, every run), and the grid state
is brought up to date with those rows by events. A fill's tick whose executions the stream
pushed, and which fill their orders completely, stores them without reading the exchange."""

from __future__ import annotations

from bots.engine.levels import grid_levels
from bots.services.common import bot_refresh, last_price
from bots.services.grid_state import grid_state_load, grid_state_sync
from bots.services.tick_context import TickContext
from exchanges.client import Category
from metrics.services import metrics_total_pnl
from observability.prom import RECONCILE_SECONDS, timed
from trading.funding import funding_fetch, funding_store
from trading.services import orders_reconcile, orders_reconcile_pushed


def tick_reconcile(ctx: TickContext) -> None:
    bot, client = ctx.bot, ctx.client
    category = Category(bot.category)
    with timed(RECONCILE_SECONDS):
        reconciled = orders_reconcile_pushed(bot=bot, fills=ctx.pushed) if ctx.urgent and ctx.pushed else None
        if reconciled is None:
            reconciled = orders_reconcile(bot=bot, client=client)
    ctx.result.new_trades += len(reconciled.new_trades)
    if not ctx.urgent:
        # After the fills: a settlement's share is the position the stored fills held at its time.
        funding_store(bot=bot, payments=funding_fetch(bot=bot, client=client))
    bot_refresh(bot)
    # A fill's tick takes the price every process shares (at most PRICE_TTL old): its counter
    # order does not depend on it, and a target is checked on a fresh one by beat's ticks.
    ctx.price = last_price(
        client=client, account=bot.exchange_account, category=category, symbol=bot.symbol, fresh=not ctx.urgent
    )
    ctx.total_pnl = metrics_total_pnl(bot=bot, price=ctx.price)
    ctx.state, ctx.version = grid_state_load(
        bot=bot,
        levels=grid_levels(ctx.config, ctx.rules),  # used only to rebuild a run without a snapshot
        fees=lambda: client.fee_rates(category=category, symbol=bot.symbol),
    )
    grid_state_sync(bot=bot, state=ctx.state)
