"""Room 3 of the tick: act on the decision. A target stops the bot; a plan's orders are written
PENDING with the grid state that knows them, in one transaction and before any is sent (a crash
after it loses nothing: the next tick sends the same ids), then sent."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from bots.log import bot_event
from bots.models import Bot, BotEvent
from bots.services.grid_state import grid_state_save
from bots.services.tick_context import Decision, TickContext, set_status, still_running
from observability.prom import ORDERS_PLACED
from trading.models import Order
from trading.services import fills_fetch, fills_store, order_write_pending, orders_send_pending


def tick_place(ctx: TickContext, decision: Decision) -> None:
    bot, client, price = ctx.bot, ctx.client, ctx.price
    if decision.hit is not None:
        hit, total = decision.hit, ctx.total_pnl
        assert total is not None  # set by tick_reconcile
        with transaction.atomic():
            bot_event(
                bot=bot,
                kind=BotEvent.Kind.TARGET_HIT,
                level=BotEvent.Level.WARNING,
                message=f"{hit.reason} (price {price}, total PnL {total.quantize(Decimal('0.01'))})",
                data={"kind": str(hit.kind), "price": str(price), "total_pnl": str(total)},
                code="target_hit",
                params={"reason_code": str(hit.kind), "price": price, "pnl": total.quantize(Decimal("0.01"))},
            )
            set_status(
                bot, Bot.Status.STOPPING, stop_reason=str(hit.reason)[:300], stop_code=str(hit.kind), last_price=price
            )
        return
    plan, state = decision.plan, ctx.state
    assert plan is not None and state is not None  # no target hit: decide planned on the reconciled state
    if decision.newly_stuck:
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.WARNING,
            level=BotEvent.Level.WARNING,
            message="The exchange keeps closing orders at line(s) "
            + ", ".join(f"{lvl} ({str(side).lower()})" for lvl, side in decision.newly_stuck)
            + " unfilled; not placing them again.",
            data={"stuck": [[lvl, str(side)] for lvl, side in decision.newly_stuck]},
            code="stuck_levels",
            params={"levels": ", ".join(str(lvl) for lvl, _side in decision.newly_stuck)},
        )
        state.stuck_reported = list(decision.newly_stuck)
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        if locked.status != Bot.Status.RUNNING:
            bot.status = locked.status
            return
        written = [order_write_pending(bot=locked, planned=p) for p in plan.place]
        for p in plan.place:
            state.placed(p)
        ctx.version = grid_state_save(bot=locked, state=state, version=ctx.version)
        Bot.objects.filter(pk=bot.pk).update(last_price=price)
        bot.last_price = price
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
    sent = orders_send_pending(bot=bot, client=client, still_running=still_running(bot), batch=True)
    ctx.result.placed += len(sent)
    if sent:
        ORDERS_PLACED.labels(venue=ctx.venue).inc(len(sent))
    if any(o.order_type == Order.Type.MARKET for o in sent):  # settled at once: store its fill now
        ctx.result.new_trades += len(fills_store(bot=bot, fills=fills_fetch(bot=bot, client=client)))
