"""Fixtures of the API tests: a user with bots, orders, trades and events; a fake exchange for
the preview/create services; clients authenticated by the real access cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from exchanges.client import Balance, Category, FeeRates, InstrumentRules, Kline, Ticker, cancel_orders_one_by_one
from metrics.services import metrics_apply_trades, metrics_snapshot, metrics_update_price
from tests.factories import BotEventFactory, BotFactory, ExchangeAccountFactory, OrderFactory, TradeFactory

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class FakeClient:
    """The few reads bot_preview makes, with BTCUSDT at 55,000."""

    price = D("55000")

    def __init__(self):
        self.cancelled: list[str] = []

    def instrument_rules(self, *, category, symbol):
        from exchanges.errors import InvalidRequest

        if symbol != "BTCUSDT":
            raise InvalidRequest("unknown symbol")
        return InstrumentRules(
            symbol=symbol, category=Category(category), base_coin="BTC", quote_coin="USDT",
            tick_size=D("0.01"), qty_step=D("0.000001"), min_qty=D("0.000048"), max_qty=D("100"),
            min_notional=D("1"),
        )

    def ticker(self, *, category, symbol):
        return Ticker(symbol=symbol, last_price=self.price, bid_price=self.price, ask_price=self.price)

    def fee_rates(self, *, category, symbol):
        return FeeRates(maker=D("0.001"), taker=D("0.001"))

    def balances(self):
        return {"USDT": Balance(coin="USDT", total=D("100000"), locked=D("0"))}

    def open_orders(self, *, category, symbol):
        return []

    def cancel_order(self, *, category, symbol, client_order_id):
        self.cancelled.append(client_order_id)

    def cancel_orders(self, *, category, symbol, client_order_ids):
        return cancel_orders_one_by_one(self, category=category, symbol=symbol, client_order_ids=client_order_ids)

    def klines(self, *, category, symbol, interval, limit):
        return [
            Kline(start=T0 + timedelta(hours=i), open=self.price, high=self.price + 100, low=self.price - 100,
                  close=self.price, volume=D("10"))
            for i in range(limit)
        ]


@pytest.fixture
def fake_exchange(monkeypatch):
    import bots.services.common as common
    import bots.services.create as create

    client = FakeClient()
    monkeypatch.setattr(create, "client_for_account", lambda account: client)
    monkeypatch.setattr(common, "client_for_account", lambda account: client)
    return client


def cookie_client(user) -> APIClient:
    """A client signed in the way the browser is: the access cookie plus the CSRF pair."""
    from accounts.tokens import ACCESS_COOKIE, access_token_issue

    client = APIClient(enforce_csrf_checks=True)
    client.cookies[ACCESS_COOKIE] = access_token_issue(user=user)
    client.cookies["csrftoken"] = "a" * 32
    client.defaults["HTTP_X_CSRFTOKEN"] = "a" * 32
    client.user = user
    return client


@pytest.fixture
def owner_client(user):
    return cookie_client(user)


@pytest.fixture
def stranger_client(other_user):
    return cookie_client(other_user)


def make_trading_bot(user, *, symbol="BTCUSDT", status="running", n_cycles=3, start=T0):
    """A bot with `n_cycles` completed buy(level 2)->sell(level 3) cycles, one open buy lot,
    open orders, events and metrics."""
    account = ExchangeAccountFactory(user=user)
    bot = BotFactory(user=user, exchange_account=account, symbol=symbol, status=status,
                     started_at=start - timedelta(days=1),
                     instrument={"base_coin": symbol[:-4], "quote_coin": "USDT"})
    trades = []
    minute = 0
    for _ in range(n_cycles):
        buy = OrderFactory(bot=bot, side="Buy", price=D("50000"), qty=D("0.01"), level=2, status="filled", filled_qty=D("0.01"))
        trades.append(TradeFactory(order=buy, fee=D("0.00001"), fee_coin=symbol[:-4], executed_at=start + timedelta(minutes=minute)))
        minute += 1
        sell = OrderFactory(bot=bot, side="Sell", price=D("51000"), qty=D("0.00999"), level=3, status="filled", filled_qty=D("0.00999"))
        trades.append(TradeFactory(order=sell, fee=D("0.50949"), fee_coin="USDT", executed_at=start + timedelta(minutes=minute)))
        minute += 1
    last_buy = OrderFactory(bot=bot, side="Buy", price=D("50000"), qty=D("0.01"), level=2, status="filled", filled_qty=D("0.01"))
    trades.append(TradeFactory(order=last_buy, fee=D("0.00001"), fee_coin=symbol[:-4], executed_at=start + timedelta(minutes=minute)))
    OrderFactory(bot=bot, side="Sell", price=D("51000"), qty=D("0.00999"), level=3, status="open")
    OrderFactory(bot=bot, side="Buy", price=D("49000"), qty=D("0.01"), level=1, status="open")
    OrderFactory(bot=bot, side="Buy", price=D("48000"), qty=D("0.01"), level=0, status="cancelled")
    for i in range(5):
        BotEventFactory(bot=bot, message=f"event {i}")
    metrics_apply_trades(bot=bot, trades=trades)
    metrics_update_price(bot=bot, price=D("52000"))
    metrics_snapshot(bot=bot, now=start + timedelta(hours=1))
    return bot


@pytest.fixture
def trading_bot(user):
    return make_trading_bot(user)


@pytest.fixture
def stranger_bot(other_user):
    return make_trading_bot(other_user, symbol="ETHUSDT")
