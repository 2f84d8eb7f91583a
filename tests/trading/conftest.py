"""Fixtures: a bot wired to an in-memory exchange (tests/trading/fake_exchange.py)."""

from __future__ import annotations

import pytest

from tests.trading.fake_exchange import FakeExchange


@pytest.fixture
def fake(monkeypatch):
    exchange = FakeExchange()
    import bots.services.common as common
    import bots.services.create as create

    monkeypatch.setattr(common, "client_for_account", lambda account: exchange)
    monkeypatch.setattr(create, "client_for_account", lambda account: exchange)
    return exchange


@pytest.fixture
def running_bot(db, fake):
    """A spot BTCUSDT grid 50k-60k, 10 intervals, 1000 USDT, launched at 55,000."""
    from bots.services import bot_start, bot_tick
    from tests.factories import BotFactory

    bot = BotFactory()
    bot_start(bot=bot)
    result = bot_tick(bot_id=bot.pk)
    assert result.ran, result
    bot.refresh_from_db()
    assert bot.status == "running", (bot.status, bot.last_error, list(bot.events.values_list("message", flat=True)))
    return bot
