"""Live events to the browser. The one module that sends to Channels groups.

Services call `emit(...)` inside their transaction; the event goes out after commit, to the
owner's group `user.<id>` and the bot's group `bot.<id>`, with a per-user sequence number so
a client can detect a gap and refetch. (Filled in by the live-updates work.)"""

from __future__ import annotations

# Event names: order.created, order.updated, order.filled, order.cancelled, trade,
# bot.status, bot.event, metrics.
def emit(*, bot, event: str, data: dict) -> None:
    """Queue `event` for the bot's owner; sent after the current transaction commits."""
    return None
