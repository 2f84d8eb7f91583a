"""Targets on real data: replay the 19 May 2021 crash (BTC 43k -> 30k) until the stop-loss."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bots.models import Bot, BotEvent
from bots.services import bot_start, bot_tick
from tests.bots.conftest import assert_books_match_exchange, ledger_open_ids
from tests.factories import BotFactory, grid_config
from tests.market_data import BTCUSDT_2021
from trading.models import Order, Trade

pytestmark = pytest.mark.django_db

CSV = BTCUSDT_2021


@pytest.mark.skipif(not CSV.exists(), reason="real data not available")
def test_stop_loss_on_the_may_2021_crash_sells_out_and_leaves_no_order(paper, sim):
    account, acc = paper
    sim.control.start_replay("BTCUSDT", csv_path=str(CSV), speed=0, start=datetime(2021, 5, 19, tzinfo=UTC))
    sim.control.advance("BTCUSDT", 1)
    bot = BotFactory(
        user=account.user,
        exchange_account=account,
        config=grid_config(
            lower_price="38000",
            upper_price="44000",
            grid_count=12,
            investment="1000",
            stop_loss_price="36000",
            on_stop="sell_base",
        ),
    )
    bot_start(bot=bot)
    for _ in range(60):  # 30 market minutes per tick, at most 30 hours
        bot_tick(bot_id=bot.pk)
        bot.refresh_from_db()
        if bot.status == Bot.Status.STOPPED:
            break
        sim.control.advance("BTCUSDT", 30)
    assert bot.status == Bot.Status.STOPPED, bot.last_error
    hit = BotEvent.objects.get(bot=bot, kind="target_hit")
    assert "stop" in hit.message.lower()
    assert Decimal(hit.data["price"]) <= Decimal("36000")
    # the descent filled buys on the way down
    assert Trade.objects.filter(bot=bot, side="Buy", order__purpose="grid").count() >= 4
    assert ledger_open_ids(sim, acc.uid) == []
    assert Order.objects.get(bot=bot, purpose="close").status == "filled"
    btc = Decimal(sim.control.ledger(acc.uid)["balances"].get("BTC", "0"))
    assert btc < Decimal("0.0001")  # sold out, dust only
    assert_books_match_exchange(bot, sim, acc.uid)
