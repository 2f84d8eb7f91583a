"""A tick reloads its bot's row without reloading the rows it never changes."""

from __future__ import annotations

import pytest

from bots.models import Bot
from bots.services.common import bot_refresh
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db


def test_reloading_the_bot_keeps_its_account_exchange_and_owner(django_assert_num_queries):
    created = BotFactory()
    bot = Bot.objects.select_related("exchange_account__exchange", "user").get(pk=created.pk)
    Bot.objects.filter(pk=bot.pk).update(name="renamed", fills_seen_until=None)
    with django_assert_num_queries(1):  # the bot's row; refresh_from_db() alone cost two more here
        bot_refresh(bot)
        assert bot.exchange_account.exchange.code and bot.user.email
    assert bot.name == "renamed"
