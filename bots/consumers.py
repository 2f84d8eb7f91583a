"""/ws/: live updates for the signed-in user. Authenticate, check ownership, join the group,
forward events. Writes go through the REST API; events come from live.events after commit.

A session that ends (logout, password change, "log out everywhere", refresh-token reuse) or
trading access that ends closes the socket at once: accounts.live sends "session.end" to the
user's group and the socket closes with 4401 (sign in again) or 4403 (access ended).

Frames from the client are small JSON objects ({"action": ...}). Anything else (binary, not
JSON, too big, too deep, not an object) is answered with {"type": "error", "code": ...} and
the socket stays open; a client that keeps sending junk is closed with 4400."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from live import events

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_BAD_FRAMES = 4400
MAX_FRAME_CHARS = 4096  # an action is a few dozen characters
MAX_BAD_FRAMES = 20  # per connection, then 4400
TRANSIENT_LAYER_ERRORS = (RedisTimeoutError, RedisConnectionError, TimeoutError, ConnectionError)
# channels_redis' pool per process holds 100 connections and raises (not waits) beyond that. A
# mass reconnect (deploy, network blip) would crash consumers, so group joins and leaves of this
# process take a slot first.
LAYER_SLOTS = 40
_slots: asyncio.Semaphore | None = None


def _layer_slots() -> asyncio.Semaphore:
    global _slots
    if _slots is None:
        _slots = asyncio.Semaphore(LAYER_SLOTS)
    return _slots


class LiveConsumer(AsyncJsonWebsocketConsumer):
    # Channels assigns `channel_receive` (the channel layer's receive for this socket) when the
    # connection starts; a transient Redis error there would kill the socket (1011). Retry it a
    # few times instead: a message lost meanwhile shows up as a seq gap and the client refetches.
    RECEIVE_RETRIES = 5

    @property
    def channel_receive(self):
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, receive):
        async def receive_retrying():
            for attempt in range(self.RECEIVE_RETRIES):
                try:
                    return await receive()
                except TRANSIENT_LAYER_ERRORS as exc:
                    logger.warning(
                        "live socket of user %s: channel layer receive failed (%s); retrying",
                        getattr(self, "user_id", None),
                        exc,
                    )
                    await asyncio.sleep(0.05 * (attempt + 1))
            return await receive()

        self._channel_receive = receive_retrying

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not getattr(user, "is_authenticated", False):
            # Accept then close with an application code the client can read (4401 = sign in).
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.bot_ids: set[int] = set()
        self.recent: deque[int] = deque(maxlen=256)  # seqs already forwarded (user + bot groups)
        await self._join(events.user_group(self.user_id))
        await self.accept()
        seq = await database_sync_to_async(events.current_seq, thread_sensitive=False)(self.user_id)
        await self.send_json({"type": "hello", "seq": seq})

    async def disconnect(self, code):
        user_id = getattr(self, "user_id", None)
        if user_id is None:
            return
        await self._leave(events.user_group(user_id))
        for bot_id in list(self.bot_ids):
            await self._leave(events.bot_group(bot_id))

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Parse a client frame; junk gets an error message, never a crash (1011)."""
        if getattr(self, "user_id", None) is None:
            return
        if text_data is None:
            await self._bad_frame("binary_frame", "Send JSON text frames, not binary.")
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self._bad_frame("frame_too_large", f"A message may have at most {MAX_FRAME_CHARS} characters.")
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):
            await self._bad_frame("invalid_json", "The message is not valid JSON.")
            return
        if not isinstance(content, dict):
            await self._bad_frame("invalid", "The message must be a JSON object with an action.")
            return
        await self.receive_json(content, **kwargs)

    async def _bad_frame(self, code: str, detail: str) -> None:
        self.bad_frames = getattr(self, "bad_frames", 0) + 1
        if self.bad_frames > MAX_BAD_FRAMES:
            await self.close(code=CLOSE_BAD_FRAMES)
            return
        await self.send_json({"type": "error", "code": code, "detail": detail})

    async def session_end(self, message):
        """accounts.live: the user's session (or access) ended; close at once."""
        family = message.get("family")
        if family and str(self.scope.get("session_family")) != family:
            return  # another session of the same user ended
        await self.close(code=int(message.get("code") or CLOSE_UNAUTHENTICATED))

    async def receive_json(self, content, **kwargs):
        if getattr(self, "user_id", None) is None:
            return
        action = content.get("action") if isinstance(content, dict) else None
        if action == "ping":
            await self.send_json({"type": "pong", "seq": await self._current_seq()})
            return
        if action not in ("subscribe_bot", "unsubscribe_bot"):
            await self.send_json({"type": "error", "code": "unknown_action", "detail": "Unknown action."})
            return
        bot_id = content.get("bot_id")
        text = str(bot_id) if isinstance(bot_id, int | str) and not isinstance(bot_id, bool) else ""
        if not (text.isascii() and text.isdigit() and len(text) <= 19 and 0 < int(text) < 2**63):
            await self.send_json({"type": "error", "code": "invalid", "detail": "bot_id must be an integer."})
            return
        bot_id = int(text)
        if action == "unsubscribe_bot":
            if bot_id in self.bot_ids:
                self.bot_ids.discard(bot_id)
                await self._leave(events.bot_group(bot_id))
            await self.send_json({"type": "unsubscribed", "bot_id": bot_id})
            return
        if not await self._owns(bot_id):
            # Same answer for someone else's bot and a bot that does not exist.
            await self.send_json({"type": "error", "code": "not_found", "detail": "Bot not found.", "bot_id": bot_id})
            return
        self.bot_ids.add(bot_id)
        await self._join(events.bot_group(bot_id))
        await self.send_json({"type": "subscribed", "bot_id": bot_id, "seq": await self._current_seq()})

    async def live_event(self, message):
        seq = message["seq"]
        if seq in self.recent:  # the same event came through the user group and the bot group
            return
        self.recent.append(seq)
        await self.send_json(
            {
                "type": "event",
                "seq": seq,
                "event": message["event"],
                "bot_id": message.get("bot_id"),
                "data": message.get("data", {}),
            }
        )

    async def _join(self, group: str) -> None:
        async with _layer_slots():
            await self.channel_layer.group_add(group, self.channel_name)

    async def _leave(self, group: str) -> None:
        async with _layer_slots():
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _current_seq(self) -> int:
        return await database_sync_to_async(events.current_seq, thread_sensitive=False)(self.user_id)

    @database_sync_to_async
    def _owns(self, bot_id: int) -> bool:
        from bots.models import Bot

        return Bot.objects.filter(pk=bot_id, user_id=self.user_id).exists()
