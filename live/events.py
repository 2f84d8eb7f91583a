"""Live events to the browser. The one module that sends to Channels groups (shared plumbing
at the bottom: bots, metrics and trading all publish through it; it imports none of them).

Services call `emit(...)` inside their transaction; the event goes out after commit, to the
owner's group `user.<id>` and the bot's group `bot.<id>`, with a per-user sequence number
(Redis INCR) so a client can detect a gap and refetch. A rolled-back transaction sends nothing.

Message sent to a socket (docs/api-contract.md "Live"):
    {"type": "event", "seq": <per-user int>, "event": "<name>", "bot_id": N, "data": {...}}
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

EVENTS = frozenset(
    {
        "order.created",
        "order.updated",
        "order.filled",
        "order.cancelled",
        "trade",
        "bot.status",
        "bot.event",
        "metrics",
        "position",
    }
)
# The consumer method that forwards a group message (channels maps "live.event" -> live_event).
GROUP_MESSAGE_TYPE = "live.event"

_redis_lock = threading.Lock()
_redis_client = None
# While a block of live_events_held() runs: the events its transactions committed, in order.
_HELD: ContextVar[list[tuple[int, int | None, str, dict]] | None] = ContextVar("setka_live_held", default=None)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def bot_group(bot_id: int) -> str:
    return f"bot.{bot_id}"


def _seq_key(user_id: int) -> str:
    prefix = getattr(settings, "SETKA_LIVE_SEQ_PREFIX", "setka:live:seq")
    return f"{prefix}:{user_id}"


def _redis():
    global _redis_client
    if _redis_client is None:
        with _redis_lock:
            if _redis_client is None:
                import redis

                _redis_client = redis.Redis.from_url(settings.REDIS_URL)
    return _redis_client


def next_seq(user_id: int) -> int:
    return int(_redis().incr(_seq_key(user_id)))


def current_seq(user_id: int) -> int:
    value = _redis().get(_seq_key(user_id))
    return int(value) if value else 0


def _jsonable(data: dict) -> dict:
    # Decimals become strings, datetimes ISO 8601: the same shapes as the REST API.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def send_now(*, user_id: int, bot_id: int | None, event: str, data: dict) -> int:
    """Number the event and send it to the user's and the bot's groups. Returns its seq."""
    return send_many([(user_id, bot_id, event, data)])[0]


async def _send_groups(layer, user_id, bot_id, message) -> None:
    await layer.group_send(user_group(user_id), message)
    if bot_id is not None:
        await layer.group_send(bot_group(bot_id), message)


def send_many(events: list[tuple[int, int | None, str, dict]]) -> list[int]:
    """Send several events (user id, bot id, event, data) in their order: their seqs in one
    Redis pipeline, their group sends in one pass of the event loop. Returns their seqs."""
    from channels.layers import get_channel_layer

    if not events:
        return []
    pipe = _redis().pipeline(transaction=False)
    for user_id, _bot_id, _event, _data in events:
        pipe.incr(_seq_key(user_id))
    seqs = [int(seq) for seq in pipe.execute()]
    layer = get_channel_layer()
    if layer is None:
        return seqs
    messages = [
        (user_id, bot_id, {"type": GROUP_MESSAGE_TYPE, "seq": seq, "event": event, "bot_id": bot_id, "data": data})
        for (user_id, bot_id, event, data), seq in zip(events, seqs, strict=True)
    ]

    async def send_all() -> None:
        for user_id, bot_id, message in messages:
            await _send_groups(layer, user_id, bot_id, message)

    async_to_sync(send_all)()
    return seqs


@contextmanager
def live_events_held() -> Iterator[None]:
    """Events committed inside the block go out together when it ends, in their order (a rolled
    back transaction still sends nothing). A bot's tick holds them, so that the fill's counter order
    is not sent after a dozen socket sends of the fill's own news (3-4 ms each)."""
    held: list[tuple[int, int | None, str, dict]] = []
    token = _HELD.set(held)
    try:
        yield
    finally:
        _HELD.reset(token)
        try:
            send_many(held)
        except Exception:  # the data is committed; a lost live event is healed by the client's refetch
            logger.exception("%d live events not sent", len(held))


def emit(*, bot, event: str, data: dict) -> None:
    """Queue `event` for the bot's owner (`bot`: anything with `pk` and `user_id`); sent after
    the current transaction commits. Lifecycle changes ("bot.status") go through bots.events."""
    if event not in EVENTS:
        raise ValueError(f"unknown live event {event!r}")
    try:
        payload = _jsonable(data)
    except (TypeError, ValueError):  # a live event must never break the trading transaction
        logger.exception("live event %s for bot %s has data that is not JSON; sent without data", event, bot.pk)
        payload = {}
    user_id, bot_id = bot.user_id, bot.pk

    def _send() -> None:
        held = _HELD.get()
        if held is not None:
            held.append((user_id, bot_id, event, payload))
            return
        try:
            send_now(user_id=user_id, bot_id=bot_id, event=event, data=payload)
        except Exception:  # the data is committed; a lost live event is healed by the client's refetch
            logger.exception("live event %s for bot %s not sent", event, bot_id)

    transaction.on_commit(_send)
