"""Funding of a linear bot, end to end: the simulator settles funding on the bot's position, the
tick reads it through the Bybit adapter, stores it once and the one profit book carries it into
the bot page's total PnL and its separate "funding" figure. A retried ingestion adds nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from bots.models import Bot
from bots.services import bot_start, bot_tick
from bots.services.common import client_for_bot
from metrics.models import BotMetrics
from metrics.services import metrics_reconcile
from tests.factories import BotFactory, grid_config
from trading.funding import funding_fetch, funding_store
from trading.models import FundingPayment

pytestmark = pytest.mark.django_db


def funding_rows(sim, uid: int) -> list[dict]:
    return [e for e in sim.control.ledger(uid)["executions"] if e["execType"] == "Funding"]


def page_metrics(bot) -> dict:
    client = APIClient()
    client.force_authenticate(bot.user)
    response = client.get(f"/api/bots/{bot.pk}/metrics/")
    assert response.status_code == 200
    return response.json()


def test_a_settlement_reaches_the_bot_page_exactly_once(paper, sim):
    account, acc = paper
    config = grid_config(
        strategy="linear_grid",
        lower_price="54000",
        upper_price="56000",
        grid_count=10,
        investment="1000",
        direction="long",
        leverage="3",
    )
    bot = BotFactory(
        user=account.user,
        exchange_account=account,
        category=Bot.Category.LINEAR,
        investment=Decimal("1000"),
        config=config,
    )
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, bot.last_error
    position = BotMetrics.objects.get(bot=bot).base_position
    assert position > 0, "a long grid opens its initial position at market"
    before = page_metrics(bot)
    assert before["funding"] == "0"

    # The long pays a positive rate: size × mark × 0.0001 leaves the wallet.
    sim.control.settle_funding("BTCUSDT", rate="0.0001")
    (row,) = funding_rows(sim, acc.uid)
    paid = Decimal(row["execFee"])
    assert paid == position * Decimal(row["execPrice"]) * Decimal("0.0001") and paid > 0

    bot_tick(bot_id=bot.pk, urgent=True)  # a fill's tick: the counter order first, no funding read
    assert BotMetrics.objects.get(bot=bot).funding == 0
    assert not FundingPayment.objects.filter(bot=bot).exists()
    bot_tick(bot_id=bot.pk)
    stored = FundingPayment.objects.get(bot=bot)
    assert (stored.venue_id, stored.amount, stored.venue_amount) == (row["execId"], -paid, -paid)
    assert BotMetrics.objects.get(bot=bot).funding == -paid

    # A retry, from scratch: the cursor forgotten, the same settlement fetched and stored twice more.
    Bot.objects.filter(pk=bot.pk).update(funding_seen_until=None)
    bot.refresh_from_db()
    client = client_for_bot(bot)
    assert funding_store(bot=bot, payments=funding_fetch(bot=bot, client=client)) == []
    assert funding_store(bot=bot, payments=funding_fetch(bot=bot, client=client)) == []
    bot_tick(bot_id=bot.pk)
    assert FundingPayment.objects.filter(bot=bot).count() == 1
    assert BotMetrics.objects.get(bot=bot).funding == -paid
    assert metrics_reconcile(bot=bot) == ""  # a recomputation from the rows of record agrees

    after = page_metrics(bot)
    assert after["last_price"] == before["last_price"]  # the market did not move: only funding did
    assert Decimal(after["funding"]) == -paid
    assert Decimal(after["total_pnl"]) == Decimal(before["total_pnl"]) - paid
    assert Decimal(after["total_pnl"]) == (
        Decimal(after["realized_pnl"]) + Decimal(after["unrealized_pnl"]) + Decimal(after["funding"])
    )
    assert after["grid_profit"] == before["grid_profit"]  # funding is never grid profit

    # A negative rate pays the long: received, added to the same figure.
    sim.control.settle_funding("BTCUSDT", rate="-0.0003")
    received = -Decimal(funding_rows(sim, acc.uid)[-1]["execFee"])
    assert received == position * Decimal(funding_rows(sim, acc.uid)[-1]["execPrice"]) * Decimal("0.0003")
    bot_tick(bot_id=bot.pk)
    assert FundingPayment.objects.filter(bot=bot).count() == 2
    assert Decimal(page_metrics(bot)["funding"]) == received - paid
    sim.control.settle_funding("BTCUSDT", rate="0.0001")  # the module's simulator is shared
