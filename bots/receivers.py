"""bots follows what the apps below it report (Django signals, connected in BotsConfig.ready):
trading's lines for the bot log, and the end of a user's trading access."""

from __future__ import annotations

from bots.log import bot_event
from bots.services import bots_stop_for_user


def trading_log_write(sender, *, bot, kind, message, level, data, code, params, **kwargs) -> None:
    """trading.signals.bot_log: write the line (BotEvent), tell the browser and the owner."""
    bot_event(bot=bot, kind=kind, message=message, level=level, data=data, code=code, params=params)


def access_ended_stop_bots(sender, *, user, reason: str, **kwargs) -> int:
    """accounts.signals.access_ended: every active bot of the user stops (the stop tick, queued
    after commit, cancels the orders). Returns how many were asked to stop."""
    return bots_stop_for_user(user=user, reason=reason)
