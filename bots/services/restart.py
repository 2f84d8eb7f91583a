"""Restart after failure: bots in `error` whose back-off elapsed go back to work. The tick then
reconciles by client order id and continues (no duplicates, no orphans)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bots.events import emit
from bots.log import bot_event
from bots.models import Bot, BotEvent
from bots.services.common import trading_halted
from bots.services.grid_state import grid_state_exists
from bots.services.start import enqueue_tick


def bot_restart(*, bot: Bot) -> bool:
    """Move one bot from `error` back to running (or starting, if it never launched)."""
    status = Bot.Status.RUNNING if grid_state_exists(bot=bot) else Bot.Status.STARTING
    with transaction.atomic():
        moved = Bot.objects.filter(pk=bot.pk, status=Bot.Status.ERROR).update(
            status=status, restart_count=F("restart_count") + 1, next_restart_at=None, updated_at=timezone.now()
        )
        if not moved:
            return False
        bot.refresh_from_db()
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.RESTART,
            message=f"Restart {bot.restart_count} after: {bot.last_error or 'an error'}",
            data={"restart_count": bot.restart_count},
            code="restarted",
            params={"count": bot.restart_count},
        )
        emit(bot=bot, event="bot.status", data={"status": bot.status})
        enqueue_tick(bot.pk)
    return True


def bots_restart_due(*, now=None) -> int:
    """Restart every bot whose back-off has elapsed. Returns how many restarted."""
    if trading_halted():
        return 0
    now = now or timezone.now()
    count = 0
    for bot in Bot.objects.filter(status=Bot.Status.ERROR, next_restart_at__lte=now):
        count += bot_restart(bot=bot)
    return count
