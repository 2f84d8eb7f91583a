"""Live events of bots: live.events (the one sender to Channels groups) plus the lifecycle
listeners. A "bot.status" event also tells SETKA_BOT_CHANGE_LISTENERS (bots.hooks) after commit.

Bots' own code emits through here; lower apps (trading, metrics) use live.events directly."""

from __future__ import annotations

from bots.hooks import bot_changed
from live import events as live
from live.events import EVENTS, GROUP_MESSAGE_TYPE, bot_group, current_seq, next_seq, send_now, user_group

__all__ = ["EVENTS", "GROUP_MESSAGE_TYPE", "bot_group", "current_seq", "emit", "next_seq", "send_now", "user_group"]


def emit(*, bot, event: str, data: dict) -> None:
    """Queue `event` for the bot's owner (live.events.emit); a lifecycle change ("bot.status")
    also tells the listeners (pools) after commit."""
    live.emit(bot=bot, event=event, data=data)
    if event == "bot.status":
        bot_changed(bot_id=bot.pk)
