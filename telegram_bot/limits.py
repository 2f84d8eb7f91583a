"""Telegram's send limits, shared by every process that sends (the bot, workers, the web):
at most one message a second to a chat and SETKA_TELEGRAM_GLOBAL_PER_SECOND (30) overall.

`send_slot(chat_id)` reserves the next free slot atomically in Redis and answers how long the
caller must wait before sending; callers wait that long (asyncio or a thread) and then send."""

from __future__ import annotations

import threading
import time

import redis
from django.conf import settings

# KEYS: chat key, global key; ARGV: now (ms), chat interval (ms), global interval (ms).
# Each key holds the earliest time (ms) the next message may go; the reservation moves it on.
_RESERVE = """
local now = tonumber(ARGV[1])
local chat_next = tonumber(redis.call('GET', KEYS[1]) or '0')
local global_next = tonumber(redis.call('GET', KEYS[2]) or '0')
local at = math.max(now, chat_next, global_next)
redis.call('SET', KEYS[1], at + tonumber(ARGV[2]), 'PX', tonumber(ARGV[2]) + 60000)
redis.call('SET', KEYS[2], at + tonumber(ARGV[3]), 'PX', tonumber(ARGV[3]) + 60000)
return at - now
"""

_lock = threading.Lock()
_client = None
_script = None


def _redis():
    global _client, _script
    if _client is None:
        with _lock:
            if _client is None:
                _client = redis.Redis.from_url(settings.REDIS_URL)
                _script = _client.register_script(_RESERVE)
    return _client, _script


def send_slot(chat_id: int | str) -> float:
    """Reserve the next slot for a message to `chat_id`; returns the seconds to wait first."""
    _, script = _redis()
    prefix = settings.SETKA_TELEGRAM_LIMIT_PREFIX
    # A little over the exact interval: requests reach Telegram with some jitter, and Telegram
    # counts arrivals, not our departures.
    chat_ms = int(1000 / settings.SETKA_TELEGRAM_CHAT_PER_SECOND * 1.1)
    global_ms = int(1000 / settings.SETKA_TELEGRAM_GLOBAL_PER_SECOND * 1.1)
    now_ms = int(time.time() * 1000)
    wait_ms = script(keys=[f"{prefix}:chat:{chat_id}", f"{prefix}:global"], args=[now_ms, chat_ms, global_ms])
    return max(0, int(wait_ms)) / 1000
