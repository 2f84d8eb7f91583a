"""The bot's log (BotEvent): one line per decision, told to the owner's browser after commit and,
for a start or an error, to the owner (bots.notify). bots writes its own lines here directly;
trading's lines (fills, refusals, cancels) arrive through trading.signals.bot_log."""

from __future__ import annotations

import re

from bots.events import emit
from bots.models import Bot, BotEvent
from bots.notify import event_notice_queue

_TRAILING_ZEROS = re.compile(r"(?<![\w.])(\d+)\.(\d*?)0+(?![\d\w])")


def readable_numbers(text: str) -> str:
    """Decimals from the database carry 18 places ("0.001700000000000000"); people read
    "0.0017". Strips trailing fractional zeros of every number in a log message."""
    return _TRAILING_ZEROS.sub(lambda m: m.group(1) + ("." + m.group(2) if m.group(2) else ""), text)


def stopped_message(reason: str, close_note: str = "") -> str:
    """The stored English text of a stop's last line ("stopped" / "stopped_closed" in config.codes
    give the owner's language): the stop tick writes it, and so does a stop run that stops a
    bot itself (bots.services.stop.stops_finish_swept)."""
    return f"Stopped: {reason or 'stopped'}. All orders cancelled{close_note}."


def bot_event(
    *,
    bot: Bot,
    kind: str,
    message: str,
    level: str = BotEvent.Level.INFO,
    data: dict | None = None,
    code: str = "",
    params: dict | None = None,
) -> BotEvent:
    """Write one decision to the bot's log and tell the owner's browser (after commit).

    `message` is the English text operators read in admin. `code` and `params` (kept in data)
    let the app say the same in the user's language; numbers in params are plain strings."""
    return bot_events_many(bots=[bot], kind=kind, message=message, level=level, data=data, code=code, params=params)[0]


def bot_events_many(
    *,
    bots: list[Bot],
    kind: str,
    message: str,
    level: str = BotEvent.Level.INFO,
    data: dict | None = None,
    code: str = "",
    params: dict | None = None,
) -> list[BotEvent]:
    """bot_event for the same line in many bots' logs (a stop run's account): one insert."""
    events = BotEvent.objects.bulk_create([_event_row(bot, kind, message, level, data, code, params) for bot in bots])
    for bot, event in zip(bots, events, strict=True):
        _announce(bot, event)
    return events


def _event_row(bot: Bot, kind: str, message: str, level: str, data, code: str, params) -> BotEvent:
    message = readable_numbers(message)
    data = dict(data or {})
    if code:
        data["code"] = code
        data["params"] = {k: readable_numbers(str(v)) for k, v in (params or {}).items()}
    return BotEvent(bot=bot, kind=kind, level=level, message=message[:500], data=data)


def _announce(bot: Bot, event: BotEvent) -> None:
    emit(
        bot=bot,
        event="bot.event",
        data={
            "id": event.pk,
            "kind": event.kind,
            "level": event.level,
            "message": event.message,
            "data": event.data,
            "created_at": event.created_at.isoformat(),
        },
    )
    event_notice_queue(event=event)  # a start or an error is told to the owner (notifications)
