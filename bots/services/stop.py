"""Stopping bots: a user's stop (cancel every order, then the chosen close action), an
emergency stop (cancel at once, without waiting for a running tick), a user's bots when their
access is revoked, and the switch's resume. Stopping many bots at once runs in the background
(bots/services/stop_run.py)."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bots.engine.config import ConfigError, OnStop
from bots.events import emit
from bots.log import bot_event, bot_events_many, stopped_message
from bots.models import Bot, BotEvent
from bots.notify import stop_notice_queue
from bots.services.common import client_for_bot, grid_config, trading_switch
from bots.services.start import enqueue_tick
from config.errors import DomainError
from exchanges.client import Category
from exchanges.errors import ExchangeError
from trading.models import Order
from trading.services import bot_owns_client_order_id, order_transition, orders_cancel_ids

logger = logging.getLogger(__name__)

CLOSE_ACTIONS = ("keep", "sell_base", "close_position")
STOPPABLE = (Bot.Status.STARTING, Bot.Status.RUNNING, Bot.Status.ERROR, Bot.Status.STOPPING)


def mark_stopping(*, bot: Bot, reason: str, close_action: str | None, actor: str, code: str) -> bool:
    """Mark the bot STOPPING and queue its stop tick (a stop run marks with mark_stopping_many
    and queues the ticks itself once the account's orders are cancelled)."""
    if close_action is not None and close_action not in CLOSE_ACTIONS:
        raise DomainError(
            "Unknown close action.", code="invalid", fields={"close_action": [f"One of {', '.join(CLOSE_ACTIONS)}."]}
        )
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        if locked.status not in STOPPABLE:
            return False
        if close_action is not None:
            locked.close_action = close_action
        locked.status = Bot.Status.STOPPING
        locked.stop_reason = reason[:300]
        locked.stop_code = code
        locked.next_restart_at = None
        locked.save(
            update_fields=["close_action", "status", "stop_reason", "stop_code", "next_restart_at", "updated_at"]
        )
        bot_event(
            bot=locked,
            kind=BotEvent.Kind.STOPPED,
            message=f"Stopping ({actor}): {reason}",
            data={"close_action": locked.close_action or None, "actor": actor},
            code="stopping",
            params={"reason_code": code},
        )
        emit(bot=locked, event="bot.status", data={"status": locked.status})
        enqueue_tick(locked.pk, urgent=True)
    bot.refresh_from_db()
    return True


def mark_stopping_many(*, bot_ids: list[int], reason: str, actor: str, code: str) -> list[int]:
    """mark_stopping (close_action unchanged, no tick queued) for many bots in one transaction:
    one locking read, one update, one insert of their log lines; the same status events. A stop
    run marks all its bots so (one bot at a time took ~14 ms: 14 s of stop all's minute at 1,000
    bots). A bot already stopping is left as it is. Returns the ids that are STOPPING now."""
    with transaction.atomic():
        stoppable = Bot.objects.select_for_update().filter(pk__in=bot_ids, status__in=STOPPABLE).order_by("pk")
        everyone = list(stoppable)
        # one already stopping keeps its reason and is not logged twice (a retried run)
        locked = [bot for bot in everyone if bot.status != Bot.Status.STOPPING]
        if not locked:
            return [bot.pk for bot in everyone]
        now = timezone.now()
        for bot in locked:
            bot.status = Bot.Status.STOPPING
            bot.stop_reason = reason[:300]
            bot.stop_code = code
            bot.next_restart_at = None
            bot.updated_at = now  # bulk_update does not apply auto_now
        Bot.objects.bulk_update(locked, ["status", "stop_reason", "stop_code", "next_restart_at", "updated_at"])
        groups: dict[str, list[Bot]] = {}  # the log line says each bot's close action
        for bot in locked:
            groups.setdefault(bot.close_action or "", []).append(bot)
        for close_action, group in groups.items():
            bot_events_many(
                bots=group,
                kind=BotEvent.Kind.STOPPED,
                message=f"Stopping ({actor}): {reason}",
                data={"close_action": close_action or None, "actor": actor},
                code="stopping",
                params={"reason_code": code},
            )
        for bot in locked:
            emit(bot=bot, event="bot.status", data={"status": bot.status})
    return [bot.pk for bot in everyone]


def stops_finish_swept(*, bot_ids: list[int]) -> list[int]:
    """The stop tick of many bots at once, for those that need nothing more from the exchange: a
    stop run has cancelled their orders and stored their executions (bots.services.stop_run), they
    are spot bots that keep their coins (no close order, no funding) and none of their rows is left
    unsettled (an order that filled meanwhile, a row sent after the run's read: their own stop
    tick asks about it). Marks them STOPPED with the stop tick's log line, status event and owner's
    notice, in one transaction with their rows locked; a bot whose lease another tick holds is left
    to its tick. Returns the ids stopped. At stop all of 1,000 bots the 700 such stop ticks held
    the worker's two processes for ~30 s, behind which the futures bots waited to close."""
    now = timezone.now()
    with transaction.atomic():
        candidates = list(
            Bot.objects.select_for_update()
            .filter(pk__in=bot_ids, status=Bot.Status.STOPPING, category=Bot.Category.SPOT)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))  # a tick holding it finishes it
            .order_by("pk")
        )
        kept = []
        for bot in candidates:
            try:
                action = OnStop(bot.close_action or grid_config(bot).on_stop)
            except (ConfigError, ValueError):
                continue  # the tick says what is wrong with it
            if action == OnStop.KEEP:
                kept.append(bot)
        open_rows = defaultdict(list)
        for order in Order.objects.filter(bot__in=kept, status__in=[*Order.OPEN_STATUSES, Order.Status.MISSING]):
            open_rows[order.bot_id].append(order)
        # a row never sent is cancelled as the tick would; any other open row is the tick's
        done = [
            bot
            for bot in kept
            if all(o.status == Order.Status.PENDING and not o.send_attempts for o in open_rows[bot.pk])
        ]
        if not done:
            return []
        for bot in done:
            for order in open_rows[bot.pk]:
                order_transition(
                    bot=bot, order=order, status=Order.Status.CANCELLED, reject_reason="bot stopped before sending"
                )
            bot.status = Bot.Status.STOPPED
            bot.stopped_at = now
            bot.next_restart_at = None
            bot.last_tick_at = now
            bot.updated_at = now  # bulk_update does not apply auto_now
        Bot.objects.bulk_update(done, ["status", "stopped_at", "next_restart_at", "last_tick_at", "updated_at"])
        groups: dict[tuple[str, str], list[Bot]] = defaultdict(list)  # the line says each bot's reason
        for bot in done:
            groups[(bot.stop_reason, bot.stop_code)].append(bot)
        for (reason, code), group in groups.items():
            bot_events_many(
                bots=group,
                kind=BotEvent.Kind.STOPPED,
                message=stopped_message(reason),
                code="stopped",
                params={"reason_code": code, "qty": ""},
            )
        for bot in done:
            bot_stopped(bot=bot)
            emit(bot=bot, event="bot.status", data={"status": bot.status, "stopped_at": str(now)})
    return [bot.pk for bot in done]


def bot_stop(
    *, bot: Bot, user=None, reason: str = "Stopped by the user", close_action: str | None = None, code: str = "user"
) -> Bot:
    """Ask the bot to stop: the next tick (queued now) cancels every order and then applies
    `close_action` (keep | sell_base | close_position; default: the bot's on_stop)."""
    if user is not None and bot.user_id != user.pk:
        raise DomainError("No such bot.", code="not_found", status_code=404)
    if bot.status == Bot.Status.DRAFT:
        raise DomainError("This bot was never started.", code="bot_not_running", status_code=409)
    mark_stopping(bot=bot, reason=reason, close_action=close_action, actor=str(user or "system"), code=code)
    return bot


def bot_cancel_now(*, bot: Bot) -> int:
    """Cancel every open order of the bot on the exchange right now, without the lease (the
    stop tick that follows records the outcome and cancels again whatever raced in)."""
    client = client_for_bot(bot)
    category = Category(bot.category)
    ids = [
        remote.client_order_id
        for remote in client.open_orders(category=category, symbol=bot.symbol)
        if bot_owns_client_order_id(bot, remote.client_order_id)
    ]
    results = orders_cancel_ids(client=client, category=category, symbol=bot.symbol, client_order_ids=ids)
    return sum(1 for item in results if item.error is None)


def bot_emergency_stop(*, bot: Bot, actor, reason: str = "Emergency stop", code: str = "emergency") -> Bot:
    """Stop at once: mark STOPPING (a running tick stops sending), cancel every open order on
    the exchange immediately, then let the stop tick finish the bookkeeping and close action."""
    if getattr(actor, "pk", None) is not None and bot.user_id != actor.pk and not _is_operator(actor):
        raise DomainError("No such bot.", code="not_found", status_code=404)
    if code == "emergency" and getattr(actor, "pk", None) not in (None, bot.user_id):
        code = "operator"
    if not mark_stopping(bot=bot, reason=reason, close_action=None, actor=f"emergency by {actor}", code=code):
        return bot
    try:
        bot_cancel_now(bot=bot)
    except ExchangeError as exc:  # the stop tick retries the cancellation
        logger.warning("emergency stop of bot %s: immediate cancel failed: %s", bot.pk, exc)
    return bot


def _is_operator(user) -> bool:
    return bool(
        user.is_superuser
        or user.has_perm("bots.stop_bot")
        or user.groups.filter(name__in=("operator", "operators")).exists()
    )


def bots_stop_for_user(*, user, reason: str, code: str = "access_revoked") -> int:
    """Stop every active bot of one user (their access was revoked). Each is marked stopping
    and its tick cancels the orders, so the caller (an admin request) makes no exchange call."""
    stopped = 0
    for bot in Bot.objects.filter(user=user, status__in=STOPPABLE).exclude(status=Bot.Status.STOPPING):
        bot_stop(bot=bot, reason=reason, code=code)
        stopped += 1
    return stopped


def bot_stopped(*, bot: Bot) -> None:
    """Every stop ends here: called in the transaction that marks the bot STOPPED (by the tick,
    whatever the reason). The owner is emailed once per run, after commit (bots/notify.py)."""
    stop_notice_queue(bot=bot)


def trading_resume(*, actor) -> None:
    """Turn the switch off again (bots stay stopped; users start them)."""
    switch = trading_switch()
    switch.halted = False
    switch.reason = ""
    switch.changed_by = actor if getattr(actor, "pk", None) else None
    switch.save()


def order_open_count(*, bot: Bot) -> int:
    return Order.objects.filter(bot=bot, status__in=Order.OPEN_STATUSES).count()
