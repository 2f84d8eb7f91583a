"""The bot's log is read by people: numbers appear as a person writes them."""

from decimal import Decimal

import pytest

from bots.log import bot_event
from bots.models import BotEvent
from tests.factories import BotFactory


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


@pytest.mark.django_db
def test_a_fill_is_logged_with_a_code_and_plain_numbers_the_app_can_translate():
    from trading.models import Order
    from trading.services import order_mark_filled

    bot = BotFactory()
    order = Order.objects.create(
        bot=bot, user=bot.user, symbol="BTCUSDT", client_order_id=f"sk{bot.pk}-1-3B1", level=3, side="Buy",
        price=Decimal("52000"), qty=Decimal("0.0017"), status=Order.Status.OPEN,
    )
    order_mark_filled(bot=bot, order=order, filled_qty=Decimal("0.0017"), avg_price=Decimal("52000"))
    event = BotEvent.objects.get(bot=bot, kind=BotEvent.Kind.FILLED)
    assert event.data["code"] == "filled_level"
    assert event.data["params"] == {"side": "Buy", "qty": "0.0017", "symbol": "BTCUSDT", "price": "52000", "level": "3"}
    assert event.message == "Buy 0.0017 BTCUSDT filled at 52000 (line 3)"  # operators' text in admin
