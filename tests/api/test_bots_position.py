"""The futures panel (issue 9, "a running futures bot shows no leverage, direction, position
size, entry or liquidation price"): the exchange's position message reaches the bot through the
streams process, the panel re-values it at every tick's price, and nobody else's bot sees it."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.streams import StreamsSupervisor
from exchanges.client import Position, Side
from metrics.models import BotMetrics
from tests.factories import BotFactory, ExchangeAccountFactory, grid_config

pytestmark = pytest.mark.django_db


def wire(symbol="BTCUSDT", side="Buy", size="0.02", avg="54000", liq="49321.5", leverage="5"):
    """A Bybit v5 private `position` message item (the fields the panel uses, and a few more)."""
    return {
        "category": "linear",
        "symbol": symbol,
        "side": side,
        "size": size,
        "avgPrice": avg,
        "leverage": leverage,
        "markPrice": "54100",
        "unrealisedPnl": "2",
        "liqPrice": liq,
        "positionIdx": 0,
        "positionStatus": "Normal",
    }


@pytest.fixture
def linear_bot(user):
    account = ExchangeAccountFactory(user=user)
    config = grid_config(strategy="linear_grid", direction="long", leverage="5")
    return BotFactory(user=user, exchange_account=account, category="linear", status="running", config=config)


def test_a_position_push_fills_the_panel(owner_client, linear_bot):
    supervisor = StreamsSupervisor(enqueue=lambda bot_id: None)
    supervisor.on_event(linear_bot.exchange_account_id, "position", [wire()])
    body = owner_client.get(f"/api/bots/{linear_bot.pk}/position/").json()
    assert body["direction"] == "long" and body["leverage"] == "5"
    assert body["side"] == "long" and body["size"] == "0.02" and body["entry_price"] == "54000"
    assert body["liquidation_price"] == "49321.5" and body["source"] == "exchange"
    # Kept live: the tick's latest price re-values it (the exchange pushes only on changes).
    BotMetrics.objects.create(bot=linear_bot, invested=D("1000"), quote_balance=D("1000"), last_price=D("55000"))
    body = owner_client.get(f"/api/bots/{linear_bot.pk}/position/").json()
    assert body["mark_price"] == "55000" and D(body["unrealized_pnl"]) == D("20")  # (55,000 − 54,000) × 0.02


def test_short_position_and_flat_again(owner_client, linear_bot):
    supervisor = StreamsSupervisor(enqueue=lambda bot_id: None)
    supervisor.on_event(linear_bot.exchange_account_id, "position", [wire(side="Sell", size="0.01", liq="61000")])
    body = owner_client.get(f"/api/bots/{linear_bot.pk}/position/").json()
    assert body["side"] == "short" and body["size"] == "0.01" and body["liquidation_price"] == "61000"
    supervisor.on_event(linear_bot.exchange_account_id, "position", [wire(side="", size="0", liq="")])
    body = owner_client.get(f"/api/bots/{linear_bot.pk}/position/").json()
    assert body["side"] is None and body["size"] == "0" and body["liquidation_price"] is None


def test_a_push_reaches_only_that_accounts_bots(owner_client, stranger_client, linear_bot, other_user):
    theirs = BotFactory(
        user=other_user,
        category="linear",
        status="running",
        config=grid_config(strategy="linear_grid", direction="short", leverage="3"),
    )
    StreamsSupervisor(enqueue=lambda bot_id: None).on_event(linear_bot.exchange_account_id, "position", [wire()])
    body = stranger_client.get(f"/api/bots/{theirs.pk}/position/").json()
    assert body["size"] == "0" and body["source"] == "none" and body["direction"] == "short"
    assert stranger_client.get(f"/api/bots/{linear_bot.pk}/position/").status_code == 404


def test_stream_reconnect_reads_positions_once_per_symbol(owner_client, linear_bot, monkeypatch):
    calls = []

    class Client:
        def positions(self, *, category, symbol):
            calls.append(symbol)
            return [
                Position(
                    symbol=symbol,
                    side=Side.BUY,
                    size=D("0.03"),
                    avg_price=D("53000"),
                    leverage=D("5"),
                    mark_price=D("53500"),
                    unrealized_pnl=D("15"),
                    liq_price=D("44000"),
                )
            ]

    import bots.services.common as common

    monkeypatch.setattr(common, "client_for_account", lambda account: Client())
    BotFactory(
        user=linear_bot.user,
        exchange_account=linear_bot.exchange_account,
        category="linear",
        status="running",
        config=linear_bot.config,
    )  # a second bot on the same symbol
    supervisor = StreamsSupervisor(enqueue=lambda bot_id: None)
    supervisor.accounts = {linear_bot.exchange_account_id: linear_bot.exchange_account}
    supervisor.on_reconnect(linear_bot.exchange_account_id)
    assert calls == ["BTCUSDT"]
    body = owner_client.get(f"/api/bots/{linear_bot.pk}/position/").json()
    assert body["size"] == "0.03" and body["liquidation_price"] == "44000"


def test_spot_bot_has_no_futures_panel(owner_client, user):
    bot = BotFactory(user=user, status="running")
    body = owner_client.get(f"/api/bots/{bot.pk}/position/").json()
    assert body["direction"] is None and body["leverage"] is None and body["liquidation_price"] is None
