"""The bot's total PnL used by the PnL/ROI targets (the profit book, the bot page's figure) and
the base it sells on stop (this run's grid state), both following the stored executions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.services import bot_tick
from bots.services.grid_state import grid_state_load, grid_state_sync
from metrics.selectors import metrics_figures
from metrics.services import metrics_total_pnl
from trading.models import Order

pytestmark = pytest.mark.django_db


def run_base(bot) -> Decimal:
    state, _ = grid_state_load(bot=bot, levels=())
    grid_state_sync(bot=bot, state=state)
    return state.base


def test_pnl_and_base_position_follow_the_executions(running_bot, fake):
    # after launch: bought the initial base at 55,000 with the fee paid in BTC
    initial = fake.executions[0]
    assert run_base(running_bot) == initial.qty - initial.fee
    assert metrics_total_pnl(bot=running_bot, price=Decimal("55000")) == -(initial.fee * Decimal("55000"))
    top_buy = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("-price").first()
    fake.set_price(top_buy.price - 1)
    bot_tick(bot_id=running_bot.pk)
    pnl = metrics_total_pnl(bot=running_bot, price=Decimal("50000"))
    cash = sum((-(f.qty * f.price) if f.side == "Buy" else f.qty * f.price - f.fee) for f in fake.executions)
    coins = sum((f.qty - f.fee) if f.side == "Buy" else -f.qty for f in fake.executions)
    assert run_base(running_bot) == coins and pnl == cash + coins * Decimal("50000")
    # the figure the targets compare is the one the bot page shows
    running_bot.refresh_from_db()
    assert metrics_figures(bot=running_bot, metrics=running_bot.metrics)["total_pnl"] == pnl
