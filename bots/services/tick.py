"""The bot tick: under a short lease, one pass for the bot's current status.

A running grid goes through three rooms passing one typed context (tick_context.py):
reconcile.py (exchange -> rows of record -> grid state events), decide.py (targets on the bot
page's figure, then the plan from the typed grid state; pure), place.py (PENDING rows and the
state that knows them in one transaction, then send).

The tick also carries the two ends of a bot's life: the launch (status STARTING) and the stop
(status STOPPING), so that everything touching the bot's orders runs under the same lease."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from decimal import Decimal

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bots.engine.config import ConfigError, OnStop
from bots.engine.levels import grid_levels
from bots.engine.planner import LevelOrder, launch_plan, stop_plan
from bots.engine.sizing import size_grid
from bots.engine.targets import trigger_reached
from bots.log import bot_event, stopped_message
from bots.models import Bot, BotEvent
from bots.services.common import (
    client_for_bot,
    grid_config,
    lease_acquire,
    lease_owner_id,
    lease_release,
    rules_from_json,
    rules_to_json,
    trading_halted,
)
from bots.services.decide import tick_decide
from bots.services.grid_state import (
    generation_filter,
    grid_state_exists,
    grid_state_load,
    grid_state_new,
    grid_state_save,
    grid_state_sync,
    grid_state_version,
)
from bots.services.place import tick_place
from bots.services.reconcile import tick_reconcile
from bots.services.start import enqueue_tick
from bots.services.tick_context import TickContext, TickResult, set_status, still_running
from exchanges.client import Category, ExchangeClient, Fill, Side
from exchanges.errors import (
    AmbiguousOutcome,
    AuthenticationFailed,
    BudgetWait,
    PositionLiquidated,
    TemporaryExchangeError,
)
from live.events import live_events_held
from observability.logs import log_context
from observability.prom import TICK_SECONDS
from trading.funding import funding_fetch, funding_store
from trading.models import Order
from trading.services import (
    fills_fetch,
    fills_store,
    order_write_pending,
    orders_cancel_all,
    orders_reconcile,
    orders_send_pending,
)

logger = logging.getLogger(__name__)

MAX_TRANSIENT_ERRORS = 20
AGAIN_KEY = "setka:bot-tick-again:{}"


def bot_tick(*, bot_id: int, urgent: bool = False, swept: bool = False, pushed: list[Fill] | None = None) -> TickResult:
    """One tick of one bot. Returns ran=False when another tick holds the lease (an urgent tick
    then asks the holder to run once more before releasing). `swept`: a stop run cancelled the
    bot's orders and stored its executions just now (trading.services.orders_cancel_all).
    `pushed`: the executions the stream heard with a fill's tick (TickContext.pushed); a run
    again for another urgent tick reads the exchange instead (that tick's push is not here)."""
    owner = lease_owner_id()
    again = AGAIN_KEY.format(bot_id)
    if not lease_acquire(bot_id=bot_id, owner=owner):
        if not urgent:
            return TickResult(ran=False, reason="another tick holds the lease")
        cache.set(again, 1, 60)
        # The holder may have made its last look for `again` and released in between: then this
        # tick takes the lease itself (else the fill waited for the next pass, up to 30 s).
        if not lease_acquire(bot_id=bot_id, owner=owner):
            return TickResult(ran=False, reason="another tick holds the lease")
        cache.delete(again)
    try:
        with live_events_held():  # the counter order before the sockets hear of the fill
            result = _tick_once(bot_id, owner, urgent=urgent, swept=swept, pushed=pushed)
            result = _tick_more(bot_id, owner, urgent, result)
    finally:
        lease_release(bot_id=bot_id, owner=owner)
    if result.retry_after is None and cache.delete(again):
        # an urgent tick found the lease held after this tick's last look (_tick_more) and before
        # its release: it is not lost, it runs next
        enqueue_tick(bot_id, urgent=True)
    return result


def _tick_more(bot_id: int, owner: str, urgent: bool, result: TickResult) -> TickResult:
    """Run the tick again (at most three times) while urgent ticks asked for it meanwhile."""
    for _ in range(3):
        if result.retry_after is not None:
            break  # waits for its budget; the tick that comes after it runs once more anyway
        if not cache.delete(AGAIN_KEY.format(bot_id)):
            break
        lease_acquire(bot_id=bot_id, owner=owner)  # extend
        more = _tick_once(bot_id, owner, urgent=urgent)
        result.new_trades += more.new_trades
        result.placed += more.placed
        result.status = more.status
        result.retry_after = more.retry_after
    return result


def _tick_once(
    bot_id: int, owner: str, *, urgent: bool = False, swept: bool = False, pushed: list[Fill] | None = None
) -> TickResult:
    bot = Bot.objects.select_related("exchange_account__exchange", "user").filter(pk=bot_id).first()
    if bot is None or bot.status not in (Bot.Status.STARTING, Bot.Status.RUNNING, Bot.Status.STOPPING):
        return TickResult(ran=False, status=getattr(bot, "status", ""), reason="not active")
    bot._lease_owner = owner
    started = time.perf_counter()
    with log_context(bot_id=bot.pk, account_id=bot.exchange_account_id, venue=venue_of(bot)):
        result, outcome = _tick_guarded(bot, urgent=urgent, swept=swept, pushed=pushed)
    TICK_SECONDS.labels(outcome=outcome).observe(time.perf_counter() - started)
    return result


def venue_of(bot: Bot) -> str:
    return getattr(getattr(bot.exchange_account, "exchange", None), "code", "") or "unknown"


def _tick_guarded(
    bot: Bot, *, urgent: bool = False, swept: bool = False, pushed: list[Fill] | None = None
) -> tuple[TickResult, str]:
    """The tick's pass for the bot's status; every failure is the bot's state, never the
    worker's: (result, outcome) where outcome labels setka_tick_seconds."""
    bot_id = bot.pk
    result = TickResult(ran=True)
    outcome = "ok"
    try:
        client = client_for_bot(bot)
        if bot.status == Bot.Status.STARTING:
            _launch(bot, client, result)
        elif bot.status == Bot.Status.RUNNING:
            _run(bot, client, result, urgent=urgent, pushed=pushed)
        if bot.status == Bot.Status.STOPPING:
            _finish_stop(bot, client, result, swept=swept)
        if bot.transient_errors:
            Bot.objects.filter(pk=bot.pk).update(transient_errors=0)
            bot.transient_errors = 0
    except BudgetWait as exc:
        # Our own rate budget has no room yet: nothing was sent that is not recorded, the rest is
        # PENDING (or not read yet); the worker queues this tick again after the wait.
        outcome = "deferred"
        result.retry_after = exc.retry_after
    except AuthenticationFailed as exc:
        outcome = "failed"
        _fail(bot, exc, fatal=True)
    except PositionLiquidated as exc:
        outcome = "failed"
        _fail(bot, exc, fatal=True)
    except (TemporaryExchangeError, AmbiguousOutcome, SoftTimeLimitExceeded) as exc:
        outcome = "transient"
        _transient(bot, exc)  # a slow exchange is not the bot's fault: retried next tick
    except Exception as exc:  # noqa: BLE001 - any other failure moves the bot to error
        outcome = "failed"
        logger.exception("bot %s tick failed", bot_id)
        _fail(bot, exc, fatal=False)
    Bot.objects.filter(pk=bot_id).update(last_tick_at=timezone.now())
    bot.refresh_from_db(fields=["status"])
    result.status = bot.status
    return result, outcome


# --- helpers -------------------------------------------------------------------------------


def _close_orders(bot: Bot):
    """This run's close orders (a handful at most), for the next close id of the stop plan."""
    rows = Order.objects.filter(generation_filter(bot), bot=bot, purpose=Order.Purpose.CLOSE)
    return [
        LevelOrder(
            o.client_order_id, o.level, Side(o.side), o.price, o.qty, o.filled_qty, o.status in Order.OPEN_STATUSES
        )
        for o in rows
    ]


# --- launch --------------------------------------------------------------------------------


def _launch(bot: Bot, client: ExchangeClient, result: TickResult) -> None:

    if trading_halted():
        set_status(
            bot,
            Bot.Status.STOPPED,
            stop_reason="Trading is halted by the operators",
            stop_code="halt",
            stopped_at=timezone.now(),
        )
        return
    config = grid_config(bot)
    category = Category(bot.category)
    rules = client.instrument_rules(category=category, symbol=bot.symbol)
    price = client.ticker(category=category, symbol=bot.symbol).last_price
    if config.trigger_price is not None:
        if not trigger_reached(config, price=price, previous_price=bot.last_price):
            if not bot.awaiting_trigger:
                bot_event(
                    bot=bot,
                    kind=BotEvent.Kind.INFO,
                    message=f"Waiting for the price to reach {config.trigger_price} to start.",
                    code="awaiting_trigger",
                    params={"trigger": config.trigger_price},
                )
            Bot.objects.filter(pk=bot.pk).update(last_price=price, awaiting_trigger=True)
            bot.last_price, bot.awaiting_trigger = price, True
            return
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.INFO,
            message=f"Trigger price {config.trigger_price} reached at {price}: starting.",
            code="trigger_reached",
            params={"trigger": config.trigger_price, "price": price},
        )
    fees = client.fee_rates(category=category, symbol=bot.symbol)
    # Anything a previous run left open (a stop that could not cancel) goes before the new ladder.
    if Order.objects.filter(bot=bot, status__in=[*Order.OPEN_STATUSES, Order.Status.MISSING]).exists():
        orders_cancel_all(bot=bot, client=client)
    if bot.category == Bot.Category.LINEAR:
        client.set_leverage(category=category, symbol=bot.symbol, leverage=config.leverage)
    try:
        levels = grid_levels(config, rules)
        sizing = size_grid(config, rules, price=price, fees=fees)
        plan = launch_plan(config, rules, price=price, sizing=sizing, bot_id=bot.pk, generation=bot.generation)
    except ConfigError as exc:
        with transaction.atomic():
            set_status(
                bot,
                Bot.Status.STOPPED,
                stopped_at=timezone.now(),
                stop_reason=f"Cannot launch: {exc}"[:300],
                stop_code="launch_failed",
            )
            bot_event(
                bot=bot,
                kind=BotEvent.Kind.ERROR,
                level=BotEvent.Level.ERROR,
                message=f"Cannot launch at price {price}: {exc}",
                code="launch_failed",
                params={"price": price, "error": exc},
            )
        return
    planned = ([plan.initial] if plan.initial else []) + list(plan.ladder)
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        if locked.status != Bot.Status.STARTING:
            bot.status = locked.status
            return
        state = grid_state_new(
            bot=locked, levels=levels, fees=fees, launch_price=price, qty_per_grid=sizing.qty_per_grid
        )
        version = grid_state_version(bot=locked)  # a new run replaces the last run's snapshot
        for item in planned:
            order_write_pending(bot=locked, planned=item)
            state.placed(item)
        grid_state_save(bot=locked, state=state, version=version)
        locked.instrument = rules_to_json(rules)
        locked.awaiting_trigger = False
        locked.last_price = price
        locked.fills_seen_until = timezone.now() - timedelta(minutes=1)
        locked.save(update_fields=["instrument", "awaiting_trigger", "last_price", "fills_seen_until", "updated_at"])
        bot.instrument, bot.awaiting_trigger = locked.instrument, False
        bot.last_price, bot.fills_seen_until = price, locked.fills_seen_until
        set_status(bot, Bot.Status.RUNNING)
        buys = sum(1 for p in plan.ladder if Side(p.side) == Side.BUY)
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.STARTED,
            message=f"Started at {price}: {len(levels)} lines from {levels[0]} to {levels[-1]}, "
            f"{buys} buy and {len(plan.ladder) - buys} sell orders of {sizing.qty_per_grid} each"
            + (
                f", initial {Side(plan.initial.side).value.lower()} of {plan.initial.qty} at market"
                if plan.initial
                else ""
            ),
            data={"price": str(price), "qty_per_grid": str(sizing.qty_per_grid), "orders": len(planned)},
            code="started_initial" if plan.initial else "started",
            params={
                "price": price,
                "lines": len(levels),
                "low": levels[0],
                "high": levels[-1],
                "buys": buys,
                "sells": len(plan.ladder) - buys,
                "qty": sizing.qty_per_grid,
                "initial_qty": plan.initial.qty if plan.initial else "",
            },
        )
    result.placed += len(orders_send_pending(bot=bot, client=client, still_running=still_running(bot), batch=True))
    result.new_trades += len(fills_store(bot=bot, fills=fills_fetch(bot=bot, client=client)))  # the initial fill


# --- the running grid ----------------------------------------------------------------------


def _run(
    bot: Bot, client: ExchangeClient, result: TickResult, *, urgent: bool = False, pushed: list[Fill] | None = None
) -> None:
    """The running grid, in three rooms passing one typed context: reconcile (exchange -> rows
    of record -> grid state events), decide (targets on the bot page's figure, then the plan;
    pure), place (PENDING rows + state in one transaction, then send)."""
    from billing.selectors import bot_new_cycles_allowed

    ctx = TickContext(
        bot=bot,
        client=client,
        config=grid_config(bot),
        rules=rules_from_json(bot.instrument),
        result=result,
        new_cycles_allowed=bot_new_cycles_allowed(bot_id=bot.pk),
        urgent=urgent,
        pushed=pushed,
    )
    tick_reconcile(ctx)
    tick_place(ctx, tick_decide(ctx))


# --- stop ----------------------------------------------------------------------------------


def _finish_stop(bot: Bot, client: ExchangeClient, result: TickResult, *, swept: bool = False) -> None:

    category = Category(bot.category)
    orders_cancel_all(bot=bot, client=client, swept=swept)  # stores the executions up to the cancels too
    funding_store(bot=bot, payments=funding_fetch(bot=bot, client=client))  # the last settlements of the run
    bot.refresh_from_db()
    config = grid_config(bot)
    action = OnStop(bot.close_action or config.on_stop)
    close_note = ""
    closed_qty = None
    if action != OnStop.KEEP and grid_state_exists(bot=bot):
        rules = rules_from_json(bot.instrument)
        position_side = None
        if bot.category == Bot.Category.LINEAR:
            positions = [p for p in client.positions(category=category, symbol=bot.symbol) if p.size > 0]
            base_position = sum((p.size for p in positions), Decimal(0))
            position_side = positions[0].side if positions else None
        else:
            # This run's base, from the grid state brought up to date with every stored fill.
            state, _ = grid_state_load(
                bot=bot,
                levels=grid_levels(config, rules),  # only to rebuild a run without a snapshot
                fees=lambda: client.fee_rates(category=category, symbol=bot.symbol),
            )
            grid_state_sync(bot=bot, state=state)
            base_position = state.base
            free = client.balances().get(rules.base_coin)
            if free is not None:
                base_position = min(base_position, free.free)
        price = bot.last_price or None
        if bot.category == Bot.Category.SPOT:
            base_position = max(base_position, Decimal(0))
        plan = stop_plan(
            config,
            rules,
            orders=_close_orders(bot),
            base_position=base_position,
            position_side=position_side,
            on_stop=action,
            price=price,
            bot_id=bot.pk,
            generation=bot.generation,
        )
        if plan.close is not None:
            with transaction.atomic():
                order, _ = order_write_pending(bot=bot, planned=plan.close)
            try:
                orders_send_pending(bot=bot, client=client)
                close_note = f"; closed {order.qty} at market"
                closed_qty = order.qty
            except Exception as exc:  # noqa: BLE001 - stop anyway; tell the user what is left
                close_note = f"; the closing order failed ({exc}), the position is left on the exchange"
                bot_event(
                    bot=bot,
                    kind=BotEvent.Kind.ERROR,
                    level=BotEvent.Level.ERROR,
                    message=f"Could not close at market: {exc}",
                    code="close_failed",
                    params={"error": exc},
                )
            reconciled = orders_reconcile(bot=bot, client=client)
            result.new_trades += len(reconciled.new_trades)
            bot.refresh_from_db()
    with transaction.atomic():
        set_status(bot, Bot.Status.STOPPED, stopped_at=timezone.now(), next_restart_at=None)
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.STOPPED,
            message=stopped_message(bot.stop_reason, close_note),
            code="stopped_closed" if closed_qty is not None else "stopped",
            params={"reason_code": bot.stop_code, "qty": closed_qty or ""},
        )


# --- failures ------------------------------------------------------------------------------


def _transient(bot: Bot, exc: Exception) -> None:
    Bot.objects.filter(pk=bot.pk).update(transient_errors=F("transient_errors") + 1)
    bot.refresh_from_db(fields=["transient_errors"])
    count = bot.transient_errors
    if count == 1:
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.WARNING,
            level=BotEvent.Level.WARNING,
            message=f"The exchange is not answering ({type(exc).__name__}); retrying.",
            data={"error": str(exc)[:200]},
            code="exchange_slow",
        )
    if count >= MAX_TRANSIENT_ERRORS:
        _fail(bot, exc, fatal=False)


def _fail(bot: Bot, exc: Exception, *, fatal: bool) -> None:
    """Move the bot to `error` with back-off, or stop it for good (fatal, or too many restarts)."""
    reason = f"{type(exc).__name__}: {getattr(exc, 'message', '') or exc}"[:300]
    bot.refresh_from_db()
    now = timezone.now()
    with transaction.atomic():
        if fatal:
            set_status(
                bot,
                Bot.Status.STOPPED,
                stopped_at=now,
                stop_reason=reason,
                stop_code="liquidated" if isinstance(exc, PositionLiquidated) else "auth_failed",
                last_error=reason,
                next_restart_at=None,
            )
            bot_event(
                bot=bot,
                kind=BotEvent.Kind.ERROR,
                level=BotEvent.Level.ERROR,
                message=f"Stopped at once: {reason}. Check the API keys; orders left on the exchange "
                "must be cancelled there.",
                data={"error": type(exc).__name__},
                code="stopped_fatal",
                params={"error": reason},
            )
            return
        if bot.status == Bot.Status.STOPPING:
            bot.last_error = reason
            bot.save(update_fields=["last_error", "updated_at"])
            bot_event(
                bot=bot,
                kind=BotEvent.Kind.ERROR,
                level=BotEvent.Level.ERROR,
                message=f"Stopping failed, retrying: {reason}",
                code="stop_retry",
                params={"error": reason},
            )
            return
        if bot.restart_count >= settings.SETKA_BOT_MAX_RESTARTS:
            set_status(
                bot,
                Bot.Status.STOPPING,
                last_error=reason,
                stop_reason=f"Gave up after {bot.restart_count} restarts: {reason}"[:300],
                stop_code="errors",
                next_restart_at=None,
            )
            bot_event(
                bot=bot,
                kind=BotEvent.Kind.ERROR,
                level=BotEvent.Level.ERROR,
                message=f"Stopping for good after {bot.restart_count} restarts: {reason}",
                code="gave_up",
                params={"count": bot.restart_count, "error": reason},
            )
            from bots.services.start import enqueue_tick

            enqueue_tick(bot.pk)
            return
        delay = min(settings.SETKA_BOT_RESTART_BACKOFF_SECONDS * (2**bot.restart_count), 3600)
        set_status(bot, Bot.Status.ERROR, last_error=reason, next_restart_at=now + timedelta(seconds=delay))
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.ERROR,
            level=BotEvent.Level.ERROR,
            message=f"Error: {reason}. Restart {bot.restart_count + 1} of {settings.SETKA_BOT_MAX_RESTARTS} in {delay} s.",
            data={"error": type(exc).__name__, "retry_in": delay},
            code="error_restart",
            params={
                "error": reason,
                "attempt": bot.restart_count + 1,
                "max": settings.SETKA_BOT_MAX_RESTARTS,
                "delay": delay,
            },
        )
