"""The bot's log is read by people: numbers appear as a person writes them."""

from decimal import Decimal

import pytest

from bots.models import BotEvent
from tests.factories import BotFactory
from trading.services import bot_event


@pytest.mark.django_db
def test_log_messages_show_decimals_without_the_databases_trailing_zeros():
    bot = BotFactory()
    qty, price = Decimal("0.001700000000000000"), Decimal("52000.000000000000000000")
    bot_event(bot=bot, kind=BotEvent.Kind.FILLED, message=f"Buy {qty} BTCUSDT filled at {price} (line 3)")
    assert BotEvent.objects.get(bot=bot).message == "Buy 0.0017 BTCUSDT filled at 52000 (line 3)"


@pytest.mark.django_db
def test_identifiers_and_whole_numbers_are_left_alone():
    bot = BotFactory()
    bot_event(bot=bot, kind=BotEvent.Kind.INFO, message="Order sk5-1-3B0 v2.0: restart 1 of 5 in 10 s, price 100.10")
    assert BotEvent.objects.get(bot=bot).message == "Order sk5-1-3B0 v2.0: restart 1 of 5 in 10 s, price 100.1"
