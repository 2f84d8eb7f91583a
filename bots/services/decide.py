"""Room 2 of the tick: what to do, from the context alone (pure: no database, no exchange).
A reached target (on the bot page's total PnL, across every run) wins; otherwise the planner
reads the grid state."""

from __future__ import annotations

from bots.engine.planner import plan_tick
from bots.engine.targets import check_targets
from bots.services.tick_context import Decision, TickContext


def tick_decide(ctx: TickContext) -> Decision:
    hit = check_targets(ctx.config, price=ctx.price, total_pnl=ctx.total_pnl, invested=ctx.bot.investment)
    if hit is not None:
        return Decision(hit=hit)
    plan = plan_tick(ctx.config, ctx.rules, state=ctx.state, bot_id=ctx.bot.pk, generation=ctx.bot.generation)
    newly_stuck = list(plan.stuck) if plan.stuck and ctx.state.stuck_reported != plan.stuck else []
    return Decision(plan=plan, newly_stuck=newly_stuck)
