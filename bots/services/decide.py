"""Room 2 of the tick: what to do, from the context alone (pure: no database, no exchange).
A reached target (on the bot page's total PnL, across every run) wins; otherwise the planner
reads the grid state."""

from __future__ import annotations

from dataclasses import replace

from bots.engine.planner import PlannedOrder, plan_tick
from bots.engine.targets import check_targets
from bots.services.tick_context import Decision, TickContext
from exchanges.client import Side


def _opening_side(ctx: TickContext) -> Side:
    """The side that opens a new cycle: buys for spot and long grids, sells for short ones; a
    neutral futures grid opens on the side that adds to the position it holds."""
    direction = str(getattr(ctx.config, "direction", "neutral"))
    if direction == "short":
        return Side.SELL
    if ctx.bot.category == "linear" and direction == "neutral" and ctx.state is not None and ctx.state.base < 0:
        return Side.SELL
    return Side.BUY


def closing_only(place: list[PlannedOrder], *, opening: Side) -> list[PlannedOrder]:
    """Billing's hold: keep the orders that close what the bot holds, drop those that open."""
    return [p for p in place if Side(p.side) != opening]


def tick_decide(ctx: TickContext) -> Decision:
    assert ctx.price is not None and ctx.total_pnl is not None and ctx.state is not None  # set by tick_reconcile
    hit = check_targets(ctx.config, price=ctx.price, total_pnl=ctx.total_pnl, invested=ctx.bot.investment)
    if hit is not None:
        return Decision(hit=hit)
    plan = plan_tick(ctx.config, ctx.rules, state=ctx.state, bot_id=ctx.bot.pk, generation=ctx.bot.generation)
    if not ctx.new_cycles_allowed:
        plan = replace(plan, place=closing_only(plan.place, opening=_opening_side(ctx)))
    newly_stuck = list(plan.stuck) if plan.stuck and ctx.state.stuck_reported != plan.stuck else []
    return Decision(plan=plan, newly_stuck=newly_stuck)
