"""The bot's total PnL used by the PnL/ROI targets and the base it sells on stop."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.services import bot_pnl, bot_tick
from trading.models import Order

pytestmark = pytest.mark.django_db


def test_pnl_and_base_position_follow_the_executions(running_bot, fake):
    # after launch: bought the initial base at 55,000 with the fee paid in BTC
    pnl, base = bot_pnl(bot=running_bot, price=Decimal("55000"))
    initial = fake.executions[0]
    assert base == initial.qty - initial.fee
    assert pnl == -(initial.fee * Decimal("55000"))  # only the fee is lost at the same price
    top_buy = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("-price").first()
    fake.set_price(top_buy.price - 1)
    bot_tick(bot_id=running_bot.pk)
    pnl, base = bot_pnl(bot=running_bot, price=Decimal("50000"))
    cash = sum((-(f.qty * f.price) if f.side == "Buy" else f.qty * f.price - f.fee) for f in fake.executions)
    coins = sum((f.qty - f.fee) if f.side == "Buy" else -f.qty for f in fake.executions)
    assert base == coins and pnl == cash + coins * Decimal("50000")


def test_total_pnl_stop_loss_stops_the_bot_and_cancels_everything(db, fake):
    from bots.models import Bot, BotEvent
    from bots.services import bot_start
    from tests.factories import BotFactory, grid_config

    bot = BotFactory(config=grid_config(stop_loss_pnl="20"))  # stop when the bot has lost 20 USDT
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    fake.set_price("54500")
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING  # about -5 USDT: not yet
    fake.set_price("51500")  # buys at 54k..52k fill, the inventory is worth much less
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED
    hit = BotEvent.objects.get(bot=bot, kind="target_hit")
    assert Decimal(hit.data["total_pnl"]) <= Decimal("-20")
    assert fake.open_ids() == []
