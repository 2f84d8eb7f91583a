"""The pure grid engine: dataclasses in, a plan out. No Django, no I/O, no clock reads.

The same code runs live (called by bots.services) and in backtests. Import from here:

Configuration (config.py)
    Strategy, Spacing, Direction, OnStop            enums (StrEnum, JSON values)
    GridConfig                                      frozen; GridConfig.from_json(data) -> GridConfig,
                                                    raises ConfigError(.errors: {field: message});
                                                    config.to_json() -> dict (decimals as strings)
    bots.schemas.validate_grid_config(data)         JSON Schema + from_json, raises ConfigError

Levels and sizing (levels.py, sizing.py)
    grid_levels(config, rules) -> tuple[Decimal, ...]            N+1 lines on the tick, increasing
    size_grid(config, rules, *, price, fees) -> Sizing           Q per grid, launch needs, minimums
        Sizing: qty_per_grid, buy_levels / sell_levels (line INDICES), quote_needed (<= investment),
        base_needed (0: the bot buys its own base), initial_base_qty (launch market order),
        min_investment, min_investment_rule, order_count, levels, empty_level, min_qty_per_grid,
        meets_minimums

Pre-launch report (report.py)
    build_report(config, rules, *, price, fees, balances=None, candles=None) -> LaunchReport
        LaunchReport.to_json() (docs/api-contract.md `report`), .blocking, .warnings[RiskWarning]
        profit_per_grid_min/max JSON: {level, gross, net (percent), gross_quote, net_quote}
        warning codes: investment_below_minimum*, fee_exceeds_profit*, low_profit_per_grid,
        insufficient_balance*, too_many_orders*, initial_order_too_large*, leverage_above_max*,
        target_already_reached*, price_below_range, price_above_range, range_too_narrow,
        liquidation_inside_range, liquidation_near, high_leverage, initial_purchase (* blocking)
    Candle(time: int unix s, open, high, low, close, volume)

Client order ids (ids.py)
    grid_order_id(bot_id, generation, level, side, seq) -> "sk{bot}g{gen}o{level}{B|S}{seq}"
        (seq 0 = the launch ladder; later orders at a (level, side) count up from 1)
    initial_order_id(bot_id, generation) -> "sk{bot}g{gen}oinit"
    close_order_id(bot_id, generation, n) -> "sk{bot}g{gen}oclose{n}"
    parse_client_order_id(s) -> OrderKey | None

Planner (planner.py)
    launch_plan(config, rules, *, price, sizing, bot_id, generation) -> LaunchPlan(initial, ladder)
    plan_tick(config, rules, *, state: GridState, bot_id, generation, max_replans=3)
        -> TickPlan(place, cancel, stuck); O(lines). Idempotent once the plan is folded back
        (state.placed(order) per planned order). Compatibility: levels= + orders=[LevelOrder]
        (ALL grid orders of the run) instead of state rebuilds it with GridState.from_orders.
        LevelOrder.base_fee (optional): exact cumulative base-coin fee of a spot buy; when None
        the fee is estimated at max(maker, taker) of the fees (0.1% when unknown).
        TickPlan.stuck: (line, side) whose last `max_replans` orders all closed unfilled.

Grid state (state.py)
    GridState.new(bot_id=, generation=, spot=, levels=, fees=None); events placed(planned),
    observe(cid, filled=, is_open=, base_fee=, settled=), filled/cancelled/rejected/missing,
    late_fill(cid, qty=, base_fee=), trade(side=, qty=, price=, fee=, fee_in=); to_json() /
    GridState.from_json(); GridState.from_orders(orders, ...) rebuilds it from a history.

Profit book (book.py): the one profit definition (docs/engine-contract.md)
    ProfitBook(category, base_coin, quote_coin, invested).apply(BookFill) -> FillResult;
    unrealized(price), total_pnl(price), grid_profit, realized_pnl, fees, funding
    stop_plan(config, rules, *, orders, base_position, position_side=None, on_stop=None,
              price=None, bot_id=None, generation=None) -> StopPlan(cancel, close)

Targets (targets.py)
    check_targets(config, *, price, total_pnl, invested) -> TargetHit(kind, reason) | None
    trigger_reached(config, *, price, previous_price) -> bool

Backtest (backtest.py)
    backtest(config, rules, candles, *, fees) -> BacktestResult (cycles, grid_profit, fills, ...)
"""

from .backtest import BacktestFill, BacktestResult, Cycle, backtest
from .book import BookFill, FillResult, ProfitBook
from .candles import Candle
from .config import ConfigError, Direction, GridConfig, OnStop, Spacing, Strategy
from .ids import OrderKey, close_order_id, grid_order_id, initial_order_id, parse_client_order_id
from .levels import grid_levels
from .planner import (
    FillEvent,
    LaunchPlan,
    LevelOrder,
    PlannedOrder,
    StopPlan,
    TickPlan,
    launch_plan,
    plan_tick,
    stop_plan,
)
from .report import GridProfit, LaunchReport, RiskWarning, build_report, grid_profit
from .sizing import Sizing, size_grid
from .state import GridState, Interval, Watched
from .targets import TargetHit, check_targets, trigger_reached

__all__ = [
    "BacktestFill",
    "BacktestResult",
    "Candle",
    "ConfigError",
    "Cycle",
    "Direction",
    "FillEvent",
    "GridConfig",
    "GridProfit",
    "GridState",
    "Interval",
    "BookFill",
    "FillResult",
    "ProfitBook",
    "Watched",
    "LaunchPlan",
    "LaunchReport",
    "LevelOrder",
    "OnStop",
    "OrderKey",
    "PlannedOrder",
    "RiskWarning",
    "Sizing",
    "Spacing",
    "StopPlan",
    "Strategy",
    "TargetHit",
    "TickPlan",
    "backtest",
    "build_report",
    "check_targets",
    "close_order_id",
    "grid_levels",
    "grid_order_id",
    "grid_profit",
    "initial_order_id",
    "launch_plan",
    "parse_client_order_id",
    "plan_tick",
    "size_grid",
    "stop_plan",
    "trigger_reached",
]
