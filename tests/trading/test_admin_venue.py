"""Operators see each row's venue in admin (issue 12, item 4): bots, orders, trades and exchange
accounts list the exchange in a column and filter by it."""

from __future__ import annotations

import re

import pytest

from exchanges.models import Exchange
from tests.factories import BotFactory, ExchangeAccountFactory, OrderFactory, TradeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bots_on_two_venues():
    okx = Exchange.objects.get(code="okx")
    on_okx = BotFactory(name="Okx bot", exchange_account=ExchangeAccountFactory(exchange=okx))
    on_bybit = BotFactory(name="Bybit bot")
    for bot in (on_okx, on_bybit):
        TradeFactory(order=OrderFactory(bot=bot, status="filled"))
    return okx, on_okx, on_bybit


@pytest.mark.parametrize(
    ("url", "column", "filter_key"),
    [
        ("/admin/bots/bot/", "venue", "exchange_account__exchange__id__exact"),
        ("/admin/trading/order/", "venue", "bot__exchange_account__exchange__id__exact"),
        ("/admin/trading/trade/", "venue", "bot__exchange_account__exchange__id__exact"),
        ("/admin/exchanges/exchangeaccount/", "exchange", "exchange__id__exact"),
    ],
)
def test_changelists_show_and_filter_by_venue(admin_client, bots_on_two_venues, url, column, filter_key):
    okx, *_ = bots_on_two_venues

    def venues_listed(response) -> list[str]:
        assert response.status_code == 200
        return sorted(re.findall(rf'<td class="field-{column}[^"]*">([^<]*)</td>', response.content.decode()))

    assert venues_listed(admin_client.get(url)) == ["Bybit", "OKX"]
    assert venues_listed(admin_client.get(url, {filter_key: okx.pk})) == ["OKX"]
