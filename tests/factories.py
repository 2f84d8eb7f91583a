"""factory_boy factories shared by every test package. Add new factories at the end."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Profile, User
from bots.models import Bot
from exchanges.models import Exchange, ExchangeAccount

DEFAULT_PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)
    access_granted_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def with_profile(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            Profile.objects.get_or_create(user=obj)


class ExchangeAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeAccount

    user = factory.SubFactory(UserFactory)
    exchange = factory.LazyFunction(lambda: Exchange.objects.get_or_create(code="bybit", defaults={"name": "Bybit", "is_active": True})[0])
    label = factory.Sequence(lambda n: f"Account {n}")
    environment = ExchangeAccount.Environment.PAPER
    api_key = factory.Sequence(lambda n: f"TESTKEY{n:012d}")
    api_secret = factory.Sequence(lambda n: f"TESTSECRET{n:020d}")
    api_key_hint = factory.LazyAttribute(lambda o: f"{o.api_key[:4]}…{o.api_key[-4:]}")


def grid_config(**overrides) -> dict:
    config = {
        "strategy": "spot_grid",
        "lower_price": "50000",
        "upper_price": "60000",
        "grid_count": 10,
        "spacing": "arithmetic",
        "investment": "1000",
    }
    config.update(overrides)
    return config


class BotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bot

    user = factory.SubFactory(UserFactory)
    exchange_account = factory.SubFactory(ExchangeAccountFactory, user=factory.SelfAttribute("..user"))
    name = factory.Sequence(lambda n: f"Bot {n}")
    symbol = "BTCUSDT"
    category = Bot.Category.SPOT
    config = factory.LazyFunction(grid_config)
    investment = Decimal("1000")


# --- trading (appended by the API/metrics work) ---------------------------------------------
class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "trading.Order"

    bot = factory.SubFactory(BotFactory)
    user = factory.SelfAttribute("bot.user")
    symbol = factory.SelfAttribute("bot.symbol")
    client_order_id = factory.Sequence(lambda n: f"skt-{n}")
    side = "Buy"
    order_type = "Limit"
    price = Decimal("50000")
    qty = Decimal("0.01")
    status = "open"
    level = 2
    purpose = "grid"


class TradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "trading.Trade"

    order = factory.SubFactory(OrderFactory)
    bot = factory.SelfAttribute("order.bot")
    user = factory.SelfAttribute("order.user")
    symbol = factory.SelfAttribute("order.symbol")
    exec_id = factory.Sequence(lambda n: f"exec-{n}")
    side = factory.SelfAttribute("order.side")
    price = factory.SelfAttribute("order.price")
    qty = factory.SelfAttribute("order.qty")
    fee = Decimal("0")
    fee_coin = "USDT"
    executed_at = factory.LazyFunction(timezone.now)


class BotEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "bots.BotEvent"

    bot = factory.SubFactory(BotFactory)
    kind = "info"
    message = factory.Sequence(lambda n: f"event {n}")
