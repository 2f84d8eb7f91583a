"""A tick is seen by operators: its wall time, its reconcile, the orders it placed (Prometheus,
labelled by venue and outcome, never by bot) and its log lines carry the bot, account and venue."""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY

from bots.models import Bot
from bots.services import bot_start, bot_tick
from observability.logs import current_context
from tests.factories import BotFactory, grid_config


def _value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_tick_writes_its_figures_and_binds_its_ids_to_the_log(paper, sim, monkeypatch):
    account, _acc = paper
    bot = BotFactory(user=account.user, exchange_account=account, config=grid_config())
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)  # the launch: the initial order and the ladder
    assert Bot.objects.get(pk=bot.pk).status == Bot.Status.RUNNING
    venue = account.exchange.code
    ticks = _value("setka_tick_seconds_count", outcome="ok")
    reconciles = _value("setka_reconcile_seconds_count")
    placed = _value("setka_orders_placed_total", venue=venue)

    seen: list[dict] = []
    reconcile = __import__("bots.services.reconcile", fromlist=["orders_reconcile"])
    original = reconcile.orders_reconcile

    def spy(**kwargs):
        seen.append(current_context())
        logging.getLogger("bots").info("reconciling")
        return original(**kwargs)

    monkeypatch.setattr(reconcile, "orders_reconcile", spy)
    sim.control.set_price("BTCUSDT", "53900")  # a buy line fills: the tick places its counter order
    bot_tick(bot_id=bot.pk)

    assert _value("setka_tick_seconds_count", outcome="ok") == ticks + 1
    assert _value("setka_reconcile_seconds_count") == reconciles + 1
    assert _value("setka_orders_placed_total", venue=venue) > placed
    assert seen == [{"bot_id": bot.pk, "account_id": account.pk, "venue": venue}]
