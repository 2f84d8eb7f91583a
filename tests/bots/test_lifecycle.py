"""The bot lifecycle against the simulator (real adapter, real HTTP, PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.models import Bot, BotEvent
from bots.services import bot_start, bot_stop, bot_tick
from tests.bots.conftest import assert_books_match_exchange, ledger_open_ids
from tests.factories import BotFactory, grid_config
from trading.models import Order, Trade

pytestmark = pytest.mark.django_db


def launch(account, **config):
    bot = BotFactory(user=account.user, exchange_account=account, config=grid_config(**config))
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, (bot.last_error, list(bot.events.values_list("message", flat=True)))
    return bot


def test_start_places_initial_order_and_ladder_on_the_exchange(paper, sim):
    account, acc = paper
    bot = launch(account)
    initial = Order.objects.get(bot=bot, purpose="initial")
    assert initial.status == "filled"
    grid = Order.objects.filter(bot=bot, purpose="grid")
    assert grid.count() == 10 and all(o.status == "open" for o in grid)
    assert ledger_open_ids(sim, acc.uid) == sorted(grid.values_list("client_order_id", flat=True))
    assert_books_match_exchange(bot, sim, acc.uid)
