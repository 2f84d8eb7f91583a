"""Starting a bot: the API call is quick (status STARTING, new generation of client order ids);
the launch itself (instrument rules captured, initial market order, then the ladder) is done by
the first tick, under the bot's lease."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.services import entitlement_check
from bots.events import emit
from bots.log import bot_event
from bots.models import Bot, BotEvent
from bots.services.common import require_trading_allowed
from config.errors import ConflictError, DomainError


def enqueue_tick(bot_id: int, *, urgent: bool = False, held: bool = False, swept: bool = False) -> None:
    """Queue the bot's tick (on its shard's queue) once the current transaction commits; `held`:
    the tick ends the hold a stop run put on beat's ticks of the bot (bots.sharding.ticks_hold);
    `swept`: that run cancelled the bot's orders and stored its executions (bots.services.tick)."""

    def send():
        from bots.tasks import tick_enqueue

        tick_enqueue(bot_id, urgent=urgent, held=held, swept=swept)

    transaction.on_commit(send)


def bot_start(*, bot: Bot, user=None) -> Bot:
    if user is not None and bot.user_id != user.pk:
        raise DomainError("No such bot.", code="not_found", status_code=404)
    require_trading_allowed(user=bot.user)
    if bot.exchange_account.status != bot.exchange_account.Status.ACTIVE:
        raise ConflictError("This exchange account's keys are not usable; bind them again.", code="account_inactive")
    entitlement_check(user=bot.user, action="bot_start", bot=bot)
    now = timezone.now()
    with transaction.atomic():
        moved = Bot.objects.filter(pk=bot.pk, status__in=[Bot.Status.DRAFT, Bot.Status.STOPPED]).update(
            status=Bot.Status.STARTING,
            generation=F("generation") + 1,
            started_at=now,
            stopped_at=None,
            stop_reason="",
            stop_code="",
            last_error="",
            restart_count=0,
            next_restart_at=None,
            close_action="",
            awaiting_trigger=False,
            last_price=None,
            fills_seen_until=None,
            transient_errors=0,
            updated_at=now,
        )
        if not moved:
            raise ConflictError("Only a draft or stopped bot can be started.", code="bot_active")
        bot.refresh_from_db()
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.STARTED,
            message="Starting: reading the market and placing the grid.",
            data={"generation": bot.generation},
            code="starting",
        )
        emit(bot=bot, event="bot.status", data={"status": bot.status})
        enqueue_tick(bot.pk)
    return bot
