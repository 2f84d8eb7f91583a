"""/ws/ live updates through the real ASGI app (cookie auth middleware, Redis channel layer)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from bots import events
from config.asgi import application
from tests.factories import BotFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _headers(user=None):
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        from accounts.tokens import ACCESS_COOKIE, access_token_issue

        token = access_token_issue(user=user)
        headers.append((b"cookie", f"{ACCESS_COOKIE}={token}; other=1".encode()))
    return headers


async def connect(user=None):
    communicator = WebsocketCommunicator(application, "/ws/", headers=_headers(user))
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def hello(communicator) -> int:
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "hello"
    return message["seq"]


def _emit(bot, event="order.filled", data=None, rollback=False):
    try:
        with transaction.atomic():
            events.emit(bot=bot, event=event, data=data or {"client_order_id": "x", "price": "1.5"})
            if rollback:
                raise RuntimeError("rolled back")
    except RuntimeError:
        pass


emit = sync_to_async(_emit)


@pytest.fixture
def two_users(transactional_db):
    from exchanges.models import Exchange

    # A transactional test starts from an empty database (the seed migration's rows are gone).
    Exchange.objects.get_or_create(code="bybit", defaults={"name": "Bybit", "is_active": True})
    a, b = UserFactory(), UserFactory()
    return a, b, BotFactory(user=a), BotFactory(user=b)


async def test_anonymous_is_closed_with_4401():
    communicator = WebsocketCommunicator(application, "/ws/", headers=_headers())
    connected, _ = await communicator.connect(timeout=5)
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close" and message["code"] == 4401
    await communicator.wait()


async def test_event_reaches_owner_only_with_increasing_seq(two_users):
    alice, bob, alice_bot, bob_bot = two_users
    a, b = await connect(alice), await connect(bob)
    seq_a, seq_b = await hello(a), await hello(b)

    await emit(alice_bot, "order.filled", {"price": "51000", "qty": "0.01"})
    message = await a.receive_json_from(timeout=5)
    assert message == {
        "type": "event",
        "seq": seq_a + 1,
        "event": "order.filled",
        "bot_id": alice_bot.pk,
        "data": {"price": "51000", "qty": "0.01"},
    }
    assert await b.receive_nothing(timeout=0.3)

    await emit(alice_bot, "trade")
    await emit(alice_bot, "metrics")
    assert [(await a.receive_json_from(timeout=5))["seq"] for _ in range(2)] == [seq_a + 2, seq_a + 3]
    assert await b.receive_nothing(timeout=0.3)

    await emit(bob_bot, "bot.status", {"status": "running"})
    message = await b.receive_json_from(timeout=5)
    assert message["seq"] == seq_b + 1 and message["bot_id"] == bob_bot.pk
    assert await a.receive_nothing(timeout=0.3)
    await a.disconnect()
    await b.disconnect()


async def test_subscribe_to_someone_elses_bot_is_refused(two_users):
    alice, bob, alice_bot, bob_bot = two_users
    a = await connect(alice)
    await hello(a)
    await a.send_json_to({"action": "subscribe_bot", "bot_id": bob_bot.pk})
    answer = await a.receive_json_from(timeout=5)
    assert answer["type"] == "error" and answer["code"] == "not_found"
    await emit(bob_bot, "order.created")
    assert await a.receive_nothing(timeout=0.3)

    await a.send_json_to({"action": "subscribe_bot", "bot_id": "nonsense"})
    assert (await a.receive_json_from(timeout=5))["code"] == "invalid"

    # Subscribing to one's own bot works, and an event is delivered once (user + bot groups).
    await a.send_json_to({"action": "subscribe_bot", "bot_id": alice_bot.pk})
    assert (await a.receive_json_from(timeout=5))["type"] == "subscribed"
    await emit(alice_bot, "order.created")
    assert (await a.receive_json_from(timeout=5))["event"] == "order.created"
    assert await a.receive_nothing(timeout=0.3)
    await a.disconnect()


async def test_reconnect_detects_a_gap_and_rollback_sends_nothing(two_users):
    alice, _, alice_bot, _ = two_users
    a = await connect(alice)
    seq = await hello(a)
    await emit(alice_bot, "trade", rollback=True)
    assert await a.receive_nothing(timeout=0.3)
    await emit(alice_bot, "trade")
    last_seen = (await a.receive_json_from(timeout=5))["seq"]
    assert last_seen == seq + 1
    await a.disconnect()
    # Missed while offline:
    await emit(alice_bot, "order.filled")
    await emit(alice_bot, "metrics")
    a = await connect(alice)
    current = await hello(a)
    assert current == last_seen + 2  # the client sees it missed two events and refetches
    await a.disconnect()


async def test_events_held_by_a_tick_go_out_after_it_in_order_and_a_rollback_still_sends_nothing(two_users):
    """A bot's tick holds its live events (live_events_held) so the counter order goes first;
    when the tick ends they go out in their order with consecutive seqs."""
    from live.events import live_events_held

    alice, _, alice_bot, _ = two_users
    a = await connect(alice)
    seq = await hello(a)

    def tick():
        with live_events_held():
            _emit(alice_bot, "order.filled")
            _emit(alice_bot, "trade", rollback=True)
            _emit(alice_bot, "trade")
            _emit(alice_bot, "metrics")
            assert events.current_seq(alice.pk) == seq  # held: nothing out before the block ends

    await sync_to_async(tick)()
    got = [await a.receive_json_from(timeout=5) for _ in range(3)]
    assert [(m["event"], m["seq"]) for m in got] == [
        ("order.filled", seq + 1),
        ("trade", seq + 2),
        ("metrics", seq + 3),
    ]
    assert await a.receive_nothing(timeout=0.3)
    await a.disconnect()


async def test_fills_folded_by_the_tick_push_fresh_metrics_to_the_owner(two_users):
    from decimal import Decimal

    from metrics.services import metrics_apply_trades
    from tests.factories import OrderFactory, TradeFactory

    alice, _, alice_bot, _ = two_users
    a = await connect(alice)
    seq = await hello(a)

    def fold():
        with transaction.atomic():  # as the tick does: store the fills, fold them, commit
            buy = OrderFactory(bot=alice_bot, side="Buy", price=Decimal("50000"), qty=Decimal("0.01"), level=2)
            sell = OrderFactory(bot=alice_bot, side="Sell", price=Decimal("51000"), qty=Decimal("0.00999"), level=3)
            trades = [
                TradeFactory(order=buy, fee=Decimal("0.00001"), fee_coin="BTC"),
                TradeFactory(order=sell, fee=Decimal("0.50949"), fee_coin="USDT"),
            ]
            metrics_apply_trades(bot=alice_bot, trades=trades)
            assert events.current_seq(alice.pk) == seq  # nothing leaves before the commit

    await sync_to_async(fold)()
    message = await a.receive_json_from(timeout=5)
    assert message["event"] == "metrics" and message["seq"] == seq + 1 and message["bot_id"] == alice_bot.pk
    figures = message["data"]
    assert figures["grid_profit"] == "8.98051" and figures["fees"] == "1.00949"  # as the REST API writes them
    assert figures["cycle_count"] == 1 and figures["trade_count"] == 2 and figures["cycle_count_24h"] == 1
    await a.disconnect()


async def test_a_transient_channel_layer_error_does_not_drop_the_socket(two_users, monkeypatch):
    from channels_redis.core import RedisChannelLayer
    from redis.exceptions import TimeoutError as RedisTimeoutError

    alice, _, alice_bot, _ = two_users
    original = RedisChannelLayer.receive
    failures = {"left": 2}

    async def flaky(self, channel):
        if failures["left"]:
            failures["left"] -= 1
            raise RedisTimeoutError("Timeout reading from 127.0.0.1:6379")
        return await original(self, channel)

    monkeypatch.setattr(RedisChannelLayer, "receive", flaky)
    a = await connect(alice)
    seq = await hello(a)
    await emit(alice_bot, "trade")
    message = await a.receive_json_from(timeout=5)
    assert message["seq"] == seq + 1 and failures["left"] == 0
    await a.disconnect()
