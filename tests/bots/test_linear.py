"""Linear (USDT perpetual) long and short grids replaying a real day on the simulator, driven
through the services in-process (the spot grid runs on the real processes in test_e2e.py).
Setka's cycles and grid profit must equal those recomputed from the exchange's ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bots.models import Bot
from bots.services import bot_start, bot_stop, bot_tick
from tests.bots.conftest import assert_books_match_exchange, ledger_open_ids
from tests.bots.ledger import bot_executions, metrics_cycles
from tests.factories import BotFactory, grid_config
from tests.market_data import BTCUSDT_2021
from trading.models import FundingPayment

pytestmark = pytest.mark.django_db

CSV = BTCUSDT_2021


@pytest.mark.skipif(not CSV.exists(), reason="real data not available")
@pytest.mark.parametrize("direction", ["long", "short"])
def test_linear_grid_real_day_cycles_and_profit_match_the_ledger(paper, sim, direction):
    account, acc = paper
    sim.control.start_replay("BTCUSDT", csv_path=str(CSV), speed=0, start=datetime(2021, 5, 2, tzinfo=UTC))
    sim.control.advance("BTCUSDT", 1)
    bot = BotFactory(
        user=account.user,
        exchange_account=account,
        category=Bot.Category.LINEAR,
        investment=Decimal("1000"),
        config=grid_config(
            strategy="linear_grid",
            lower_price="55600",
            upper_price="58400",
            grid_count=14,
            investment="1000",
            direction=direction,
            leverage="3",
            on_stop="close_position",
        ),
    )
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, (bot.last_error, list(bot.events.values_list("message", flat=True)))
    for _ in range(0, 1440, 20):
        sim.control.advance("BTCUSDT", 20)
        bot_tick(bot_id=bot.pk)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, bot.last_error
    assert_books_match_exchange(bot, sim, acc.uid)
    ledger = sim.control.ledger(acc.uid)
    from metrics.models import BotMetrics

    row = BotMetrics.objects.get(bot=bot)
    cycles, profit = metrics_cycles(ledger, bot)
    assert cycles >= 3
    assert row.trade_count == len(bot_executions(ledger, bot))
    assert (row.cycle_count, row.grid_profit) == (cycles, profit)
    # The day crossed 08:00 and 16:00 UTC (and 00:00 of the next): every settlement of the bot's
    # position is in its book once, to the unit, and in the total, never in grid profit.
    settlements = {e["execId"]: -Decimal(e["execFee"]) for e in ledger["executions"] if e["execType"] == "Funding"}
    assert len(settlements) >= 2
    assert {f.venue_id: f.amount for f in FundingPayment.objects.filter(bot=bot)} == settlements
    assert row.funding == sum(settlements.values())
    # stop with close_position: no order, no position left
    bot_stop(bot=bot, reason="end of test", close_action="close_position")
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED
    assert ledger_open_ids(sim, acc.uid) == []
    positions = [p for p in sim.control.ledger(acc.uid)["positions"] if Decimal(p.get("size", "0")) != 0]
    assert positions == []
