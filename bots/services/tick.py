"""The bot tick: under a short lease, reconcile with the exchange, store fills once, check the
targets, plan with the engine, write the planned orders as PENDING, then send them.

The tick also carries the two ends of a bot's life: the launch (status STARTING) and the stop
(status STOPPING), so that everything touching the bot's orders runs under the same lease."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from bots.events import emit
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
from exchanges.client import Category, ExchangeClient, Side
from exchanges.errors import (
    AmbiguousOutcome,
    AuthenticationFailed,
    PositionLiquidated,
    TemporaryExchangeError,
)
from trading.models import Order, Trade
from trading.services import (
    bot_event,
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


@dataclass
class TickResult:
    ran: bool
    status: str = ""
    new_trades: int = 0
    placed: int = 0
    reason: str = ""


def bot_tick(*, bot_id: int, urgent: bool = False) -> TickResult:
    """One tick of one bot. Returns ran=False when another tick holds the lease (an urgent tick
    then asks the holder to run once more before releasing)."""
    owner = lease_owner_id()
    if not lease_acquire(bot_id=bot_id, owner=owner):
        if urgent:
            cache.set(AGAIN_KEY.format(bot_id), 1, 60)
        return TickResult(ran=False, reason="another tick holds the lease")
    try:
        result = _tick_once(bot_id, owner)
        for _ in range(3):
            if not cache.delete(AGAIN_KEY.format(bot_id)):
                break
            lease_acquire(bot_id=bot_id, owner=owner)  # extend
            more = _tick_once(bot_id, owner)
            result.new_trades += more.new_trades
            result.placed += more.placed
            result.status = more.status
        return result
    finally:
        lease_release(bot_id=bot_id, owner=owner)


def _tick_once(bot_id: int, owner: str) -> TickResult:
    bot = Bot.objects.select_related("exchange_account", "user").filter(pk=bot_id).first()
    if bot is None or bot.status not in (Bot.Status.STARTING, Bot.Status.RUNNING, Bot.Status.STOPPING):
        return TickResult(ran=False, status=getattr(bot, "status", ""), reason="not active")
    bot._lease_owner = owner
    result = TickResult(ran=True)
    try:
        client = client_for_bot(bot)
        if bot.status == Bot.Status.STARTING:
            _launch(bot, client, result)
        elif bot.status == Bot.Status.RUNNING:
            _run(bot, client, result)
        if bot.status == Bot.Status.STOPPING:
            _finish_stop(bot, client, result)
        if bot.state.get("transient_errors"):
            _set_state(bot, transient_errors=0)
    except AuthenticationFailed as exc:
        _fail(bot, exc, fatal=True)
    except PositionLiquidated as exc:
        _fail(bot, exc, fatal=True)
    except (TemporaryExchangeError, AmbiguousOutcome, SoftTimeLimitExceeded) as exc:
        _transient(bot, exc)  # a slow exchange is not the bot's fault: retried next tick
    except Exception as exc:  # noqa: BLE001 - any other failure moves the bot to error
        logger.exception("bot %s tick failed", bot_id)
        _fail(bot, exc, fatal=False)
    Bot.objects.filter(pk=bot_id).update(last_tick_at=timezone.now())
    bot.refresh_from_db(fields=["status"])
    result.status = bot.status
    return result


# --- helpers -------------------------------------------------------------------------------


def _set_state(bot: Bot, **values) -> None:
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        state = dict(locked.state)
        state.update(values)
        locked.state = state
        locked.save(update_fields=["state", "updated_at"])
    bot.state = state


def _still_running(bot: Bot):
    """Checked between two sends: the bot is still running and this tick still holds the
    lease (renewed every few seconds, so a long ladder never outlives it)."""
    renewed = [time.monotonic()]

    def check() -> bool:
        owner = getattr(bot, "_lease_owner", None)
        if owner and time.monotonic() - renewed[0] > 5:
            if not lease_acquire(bot_id=bot.pk, owner=owner):
                logger.warning("bot %s: lease lost during a long send; stopping this tick", bot.pk)
                return False
            renewed[0] = time.monotonic()
        return Bot.objects.filter(pk=bot.pk, status=Bot.Status.RUNNING).exists()

    return check


def _set_status(bot: Bot, status: str, **fields) -> None:
    bot.status = status
    for key, value in fields.items():
        setattr(bot, key, value)
    bot.save(update_fields=["status", *fields.keys(), "updated_at"])
    emit(
        bot=bot, event="bot.status", data={"status": status, **{k: str(v) for k, v in fields.items() if v is not None}}
    )


def generation_prefix(bot: Bot) -> str:
    return f"sk{bot.pk}-{bot.generation}-"


def _generation_orders(bot: Bot):
    return Order.objects.filter(bot=bot, client_order_id__startswith=generation_prefix(bot))


def _level_orders(bot: Bot):
    from bots.engine.planner import LevelOrder

    rows = list(_generation_orders(bot).filter(purpose=Order.Purpose.GRID).order_by("id"))
    base_coin = (bot.instrument or {}).get("base_coin", "")
    stored: dict[int, tuple[Decimal, Decimal]] = {}
    for order_id, qty, fee, fee_coin in Trade.objects.filter(order__in=rows).values_list(
        "order_id", "qty", "fee", "fee_coin"
    ):
        total, base_fee = stored.get(order_id, (Decimal(0), Decimal(0)))
        stored[order_id] = (total + qty, base_fee + (fee if fee_coin == base_coin else Decimal(0)))
    result = []
    for o in rows:
        total, base_fee = stored.get(o.pk, (Decimal(0), Decimal(0)))
        # The exact base fee only when every execution of the order is stored; otherwise the
        # engine estimates it from the fee rate (never under-counts, never oversells).
        exact = base_fee if (bot.category == Bot.Category.SPOT and total == o.filled_qty) else None
        result.append(
            LevelOrder(
                client_order_id=o.client_order_id,
                level=o.level,
                side=Side(o.side),
                price=o.price,
                qty=o.qty,
                filled_qty=o.filled_qty,
                is_open=o.status in Order.OPEN_STATUSES,
                base_fee=exact,
            )
        )
    return result


def _fees(bot: Bot):
    from exchanges.client import FeeRates

    fees = bot.state.get("fees")
    return FeeRates(maker=Decimal(fees["maker"]), taker=Decimal(fees["taker"])) if fees else None


def bot_pnl(*, bot: Bot, price: Decimal) -> tuple[Decimal, Decimal]:
    """(total PnL in quote, base position) of this run's own executions, valued at `price`.
    Fees in the base coin reduce the position; fees in quote reduce the cash. One aggregate query."""
    from django.db.models import DecimalField, F, Q, Sum, Value
    from django.db.models.functions import Coalesce

    base_coin = (bot.instrument or {}).get("base_coin", "")
    zero = Value(Decimal(0), output_field=DecimalField(max_digits=38, decimal_places=18))
    buy, sell = Q(side=Side.BUY.value), Q(side=Side.SELL.value)
    base_fee = Q(fee_coin=base_coin) if bot.category == Bot.Category.SPOT else Q(pk__in=[])
    totals = Trade.objects.filter(bot=bot, order__client_order_id__startswith=generation_prefix(bot)).aggregate(
        bought=Coalesce(Sum("qty", filter=buy), zero),
        sold=Coalesce(Sum("qty", filter=sell), zero),
        paid=Coalesce(Sum(F("qty") * F("price"), filter=buy), zero),
        received=Coalesce(Sum(F("qty") * F("price"), filter=sell), zero),
        fees_base=Coalesce(Sum("fee", filter=base_fee), zero),
        fees_quote=Coalesce(Sum("fee", filter=~base_fee), zero),
    )
    base = totals["bought"] - totals["sold"] - totals["fees_base"]
    cash = totals["received"] - totals["paid"] - totals["fees_quote"]
    return cash + base * price, base


# --- launch --------------------------------------------------------------------------------


def _launch(bot: Bot, client: ExchangeClient, result: TickResult) -> None:
    from bots.engine.config import ConfigError
    from bots.engine.levels import grid_levels
    from bots.engine.planner import launch_plan
    from bots.engine.sizing import size_grid
    from bots.engine.targets import trigger_reached

    if trading_halted():
        _set_status(
            bot, Bot.Status.STOPPED, stop_reason="Trading is halted by the operators", stopped_at=timezone.now()
        )
        return
    config = grid_config(bot)
    category = Category(bot.category)
    rules = client.instrument_rules(category=category, symbol=bot.symbol)
    price = client.ticker(category=category, symbol=bot.symbol).last_price
    if config.trigger_price is not None and not bot.state.get("triggered"):
        previous = bot.state.get("last_price")
        if not trigger_reached(config, price=price, previous_price=None if previous is None else Decimal(previous)):
            if not bot.state.get("awaiting_trigger"):
                bot_event(
                    bot=bot,
                    kind=BotEvent.Kind.INFO,
                    message=f"Waiting for the price to reach {config.trigger_price} to start.",
                )
            _set_state(bot, last_price=str(price), awaiting_trigger=True)
            return
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.INFO,
            message=f"Trigger price {config.trigger_price} reached at {price}: starting.",
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
            _set_status(bot, Bot.Status.STOPPED, stopped_at=timezone.now(), stop_reason=f"Cannot launch: {exc}"[:300])
            bot_event(
                bot=bot,
                kind=BotEvent.Kind.ERROR,
                level=BotEvent.Level.ERROR,
                message=f"Cannot launch at price {price}: {exc}",
            )
        return
    planned = ([plan.initial] if plan.initial else []) + list(plan.ladder)
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        if locked.status != Bot.Status.STARTING:
            bot.status = locked.status
            return
        for item in planned:
            order_write_pending(bot=locked, planned=item)
        state = dict(locked.state)
        state.update(
            launched=True,
            triggered=True,
            awaiting_trigger=False,
            launch_price=str(price),
            last_price=str(price),
            levels=[str(level) for level in levels],
            qty_per_grid=str(sizing.qty_per_grid),
            fills_since=(timezone.now() - timedelta(minutes=1)).isoformat(),
            fees={"maker": str(fees.maker), "taker": str(fees.taker)},
            unplanned=[],
        )
        locked.state = state
        locked.instrument = rules_to_json(rules)
        locked.save(update_fields=["state", "instrument", "updated_at"])
        bot.state, bot.instrument = state, locked.instrument
        _set_status(bot, Bot.Status.RUNNING)
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
                "price": price, "lines": len(levels), "low": levels[0], "high": levels[-1], "buys": buys,
                "sells": len(plan.ladder) - buys, "qty": sizing.qty_per_grid,
                "initial_qty": plan.initial.qty if plan.initial else "",
            },
        )
    result.placed += len(orders_send_pending(bot=bot, client=client, still_running=_still_running(bot)))
    result.new_trades += len(fills_store(bot=bot, fills=fills_fetch(bot=bot, client=client)))  # the initial fill


# --- the running grid ----------------------------------------------------------------------


def _billing_filter(bot: Bot, config, place: list) -> list:
    """Billing's "no new cycles" hold (a lapsed plan): keep only orders that close what the bot
    holds; drop the ones that would open a new cycle. Protective orders already open are kept."""
    from billing.selectors import bot_new_cycles_allowed

    if bot_new_cycles_allowed(bot_id=bot.pk):
        return list(place)
    direction = str(getattr(config, "direction", "neutral"))
    opening = Side.SELL if direction == "short" else Side.BUY
    if bot.category == Bot.Category.LINEAR and direction == "neutral":
        from metrics.models import BotMetrics

        position = BotMetrics.objects.filter(bot=bot).values_list("base_position", flat=True).first() or 0
        opening = Side.SELL if position < 0 else Side.BUY
    return [p for p in place if Side(p.side) != opening]


def _run(bot: Bot, client: ExchangeClient, result: TickResult) -> None:
    from bots.engine.levels import grid_levels
    from bots.engine.planner import FillEvent, plan_tick
    from bots.engine.targets import check_targets

    config = grid_config(bot)
    rules = rules_from_json(bot.instrument)
    category = Category(bot.category)
    reconciled = orders_reconcile(bot=bot, client=client)
    result.new_trades += len(reconciled.new_trades)
    bot.refresh_from_db()
    price = client.ticker(category=category, symbol=bot.symbol).last_price
    from metrics.services import metrics_update_price

    with transaction.atomic():
        metrics_update_price(bot=bot, price=price)
    total_pnl, _ = bot_pnl(bot=bot, price=price)
    hit = check_targets(config, price=price, total_pnl=total_pnl, invested=bot.investment)
    if hit is not None:
        with transaction.atomic():
            bot_event(
                bot=bot,
                kind=BotEvent.Kind.TARGET_HIT,
                level=BotEvent.Level.WARNING,
                message=f"{hit.reason} (price {price}, total PnL {total_pnl.quantize(Decimal('0.01'))})",
                data={"kind": str(hit.kind), "price": str(price), "total_pnl": str(total_pnl)},
            )
            _set_status(bot, Bot.Status.STOPPING, stop_reason=str(hit.reason)[:300])
        _set_state(bot, last_price=str(price))
        return
    unplanned = list(bot.state.get("unplanned", []))
    fills = [
        FillEvent(client_order_id=t.order.client_order_id, qty=t.qty, price=t.price, fee=t.fee, fee_coin=t.fee_coin)
        for t in Trade.objects.filter(bot=bot, exec_id__in=unplanned)
        .select_related("order")
        .order_by("executed_at", "id")
    ]
    plan = plan_tick(
        config,
        rules,
        levels=grid_levels(config, rules),
        orders=_level_orders(bot),
        fills=fills,
        bot_id=bot.pk,
        generation=bot.generation,
        fees=_fees(bot),
    )
    if plan.stuck and bot.state.get("stuck") != [[lvl, str(side)] for lvl, side in plan.stuck]:
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.WARNING,
            level=BotEvent.Level.WARNING,
            message="The exchange keeps closing orders at line(s) "
            + ", ".join(f"{lvl} ({str(side).lower()})" for lvl, side in plan.stuck)
            + " unfilled; not placing them again.",
            data={"stuck": [[lvl, str(side)] for lvl, side in plan.stuck]},
        )
        _set_state(bot, stuck=[[lvl, str(side)] for lvl, side in plan.stuck])
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        if locked.status != Bot.Status.RUNNING:
            bot.status = locked.status
            return
        written = [order_write_pending(bot=locked, planned=p) for p in _billing_filter(bot, config, plan.place)]
        state = dict(locked.state)
        state["unplanned"] = [x for x in state.get("unplanned", []) if x not in set(unplanned)]
        state["last_price"] = str(price)
        locked.state = state
        locked.save(update_fields=["state", "updated_at"])
        bot.state = state
        for order, created in written:
            if created:
                bot_event(
                    bot=locked,
                    kind=BotEvent.Kind.REPLACED,
                    message=f"Counter order: {order.side.lower()} {order.qty} at {order.price} (line {order.level})",
                    data={"client_order_id": order.client_order_id, "level": order.level},
                    code="counter_order",
                    params={"side": order.side, "qty": order.qty, "price": order.price, "level": order.level},
                )
        to_cancel = list(
            Order.objects.filter(bot=bot, client_order_id__in=list(plan.cancel), status__in=Order.OPEN_STATUSES)
        )
    for order in to_cancel:
        try:
            client.cancel_order(category=category, symbol=bot.symbol, client_order_id=order.client_order_id)
        except Exception:  # noqa: BLE001 - the next reconciliation records the final state
            logger.warning("bot %s: cancel of %s failed", bot.pk, order.client_order_id)
    sent = orders_send_pending(bot=bot, client=client, still_running=_still_running(bot))
    result.placed += len(sent)
    if any(o.order_type == Order.Type.MARKET for o in sent):  # settled at once: store its fill now
        result.new_trades += len(fills_store(bot=bot, fills=fills_fetch(bot=bot, client=client)))


# --- stop ----------------------------------------------------------------------------------


def _finish_stop(bot: Bot, client: ExchangeClient, result: TickResult) -> None:
    from bots.engine.config import OnStop
    from bots.engine.planner import stop_plan

    category = Category(bot.category)
    orders_cancel_all(bot=bot, client=client)
    result.new_trades += len(fills_store(bot=bot, fills=fills_fetch(bot=bot, client=client)))
    bot.refresh_from_db()
    config = grid_config(bot)
    action = OnStop(bot.state.get("close_action") or config.on_stop)
    close_note = ""
    if bot.state.get("launched") and action != OnStop.KEEP:
        rules = rules_from_json(bot.instrument)
        position_side = None
        if bot.category == Bot.Category.LINEAR:
            positions = [p for p in client.positions(category=category, symbol=bot.symbol) if p.size > 0]
            base_position = sum((p.size for p in positions), Decimal(0))
            position_side = positions[0].side if positions else None
        else:
            _, base_position = bot_pnl(bot=bot, price=Decimal(0))
            free = client.balances().get(rules.base_coin)
            if free is not None:
                base_position = min(base_position, free.free)
        price = Decimal(bot.state.get("last_price") or "0") or None
        if bot.category == Bot.Category.SPOT:
            base_position = max(base_position, Decimal(0))
        plan = stop_plan(
            config,
            rules,
            orders=_level_orders(bot),
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
            except Exception as exc:  # noqa: BLE001 - stop anyway; tell the user what is left
                close_note = f"; the closing order failed ({exc}), the position is left on the exchange"
                bot_event(
                    bot=bot,
                    kind=BotEvent.Kind.ERROR,
                    level=BotEvent.Level.ERROR,
                    message=f"Could not close at market: {exc}",
                )
            reconciled = orders_reconcile(bot=bot, client=client)
            result.new_trades += len(reconciled.new_trades)
            bot.refresh_from_db()
    with transaction.atomic():
        _set_status(bot, Bot.Status.STOPPED, stopped_at=timezone.now(), next_restart_at=None)
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.STOPPED,
            message=f"Stopped: {bot.stop_reason or 'stopped'}. All orders cancelled{close_note}.",
        )


# --- failures ------------------------------------------------------------------------------


def _transient(bot: Bot, exc: Exception) -> None:
    count = int(bot.state.get("transient_errors", 0)) + 1
    _set_state(bot, transient_errors=count)
    if count == 1:
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.WARNING,
            level=BotEvent.Level.WARNING,
            message=f"The exchange is not answering ({type(exc).__name__}); retrying.",
            data={"error": str(exc)[:200]},
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
            _set_status(
                bot, Bot.Status.STOPPED, stopped_at=now, stop_reason=reason, last_error=reason, next_restart_at=None
            )
            bot_event(
                bot=bot,
                kind=BotEvent.Kind.ERROR,
                level=BotEvent.Level.ERROR,
                message=f"Stopped at once: {reason}. Check the API keys; orders left on the exchange "
                "must be cancelled there.",
                data={"error": type(exc).__name__},
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
            )
            return
        if bot.restart_count >= settings.SETKA_BOT_MAX_RESTARTS:
            _set_status(
                bot,
                Bot.Status.STOPPING,
                last_error=reason,
                stop_reason=f"Gave up after {bot.restart_count} restarts: {reason}"[:300],
                next_restart_at=None,
            )
            bot_event(
                bot=bot,
                kind=BotEvent.Kind.ERROR,
                level=BotEvent.Level.ERROR,
                message=f"Stopping for good after {bot.restart_count} restarts: {reason}",
            )
            from bots.services.start import enqueue_tick

            enqueue_tick(bot.pk)
            return
        delay = min(settings.SETKA_BOT_RESTART_BACKOFF_SECONDS * (2**bot.restart_count), 3600)
        _set_status(bot, Bot.Status.ERROR, last_error=reason, next_restart_at=now + timedelta(seconds=delay))
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.ERROR,
            level=BotEvent.Level.ERROR,
            message=f"Error: {reason}. Restart {bot.restart_count + 1} of {settings.SETKA_BOT_MAX_RESTARTS} in {delay} s.",
            data={"error": type(exc).__name__, "retry_in": delay},
        )
