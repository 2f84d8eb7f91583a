"""The worked examples of /work/shared/docs/grid-math.md, reproduced by the engine."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from bots.engine import LevelOrder, grid_levels, grid_profit, launch_plan, plan_tick, size_grid
from exchanges.client import OrderType, Side

from .conftest import FEES, linear_config, spot_config, spot_rules

D = Decimal


def test_bybit_45k_65k_placement_leaves_57k_empty():
    """§3.3: range 45k-65k, N=5, P0=54k: buys at 53k, 49k, 45k; sells at 61k, 65k; 57k empty."""
    config, rules = spot_config(), spot_rules()
    sizing = size_grid(config, rules, price=D(54000), fees=FEES)
    plan = launch_plan(config, rules, price=D(54000), sizing=sizing, bot_id=1, generation=1)
    buys = sorted(o.price for o in plan.ladder if o.side is Side.BUY)
    sells = sorted(o.price for o in plan.ladder if o.side is Side.SELL)
    assert buys == [D(45000), D(49000), D(53000)]
    assert sells == [D(61000), D(65000)]
    assert D(57000) not in buys + sells
    assert len(plan.ladder) == 5  # N orders for N intervals
    # The sell lines need base: one market buy of 2·Q plus the taker fee, before the ladder.
    assert plan.initial.side is Side.BUY and plan.initial.order_type is OrderType.MARKET
    q = sizing.qty_per_grid
    assert plan.initial.qty * (1 - FEES.taker) >= 2 * q
    assert plan.initial.qty - 2 * q < D("0.0002")  # a fee buffer, not a second position
    assert all(o.qty == q for o in plan.ladder)


def test_profit_per_grid_341_81_usdt_bybit_example():
    """§3.5: Q = 0.08795882, buy 53k sell 57k, fee 0.1%: sell qty 0.08787086, π = 341.81, ~7.33%."""
    config = spot_config(lower="53000", upper="57000", n=2)  # lines 53k, 55k, 57k
    levels = (D(53000), D(57000))
    g = grid_profit(config, levels, 0, D("0.08795882"), D("0.001"))
    assert g.net.quantize(D("0.01")) == D("341.81")
    assert g.net_percent.quantize(D("0.01")) == D("7.33")
    assert g.gross_percent.quantize(D("0.01")) == D("7.55")

    # The engine's counter sell for that buy sells Q minus the base fee, rounded down to the step.
    rules = spot_rules(step="0.00000001", min_qty="0.000001")
    q = D("0.08795882")
    buy = LevelOrder("sk1-1-0B0", 0, Side.BUY, D(53000), q, q, False, base_fee=q * D("0.001"))
    plan = plan_tick(config, rules, levels=(D(53000), D(57000)), orders=[buy], bot_id=1, generation=1)
    assert [(o.side, o.price, o.qty) for o in plan.place] == [(Side.SELL, D(57000), D("0.08787086"))]


def test_futures_profit_604_656_usdt():
    """§3.5 futures: 4,000 × 0.152 − 0.152·(18,000 + 22,000)·0.055% = 604.656 USDT."""
    config = linear_config(lower="10000", upper="30000", n=5)
    levels = grid_levels(config, spot_rules(tick="0.1"))
    assert levels[2:4] == (D(18000), D(22000))
    g = grid_profit(config, levels, 2, D("0.152"), D("0.00055"))
    assert g.net == D("604.656")
    assert g.gross == D(608)


def test_geometric_20k_30k_ratio_8_44_percent():
    """§3.2: geometric 20k→30k, N=5: constant r − 1 = 8.44%."""
    config = spot_config(lower="20000", upper="30000", n=5, spacing="geometric")
    levels = grid_levels(config, spot_rules())
    assert levels[0] == D(20000) and levels[-1] == D(30000) and len(levels) == 6
    ratios = [(levels[i + 1] / levels[i] - 1) * 100 for i in range(5)]
    for r in ratios:
        assert r.quantize(D("0.01"), rounding=ROUND_DOWN) == D("8.44")
    assert max(ratios) - min(ratios) < D("0.0001")  # only tick rounding differs


def test_arithmetic_gap_shrinks_in_percent_as_price_rises():
    config = spot_config()
    levels = grid_levels(config, spot_rules())
    gaps = [levels[i + 1] - levels[i] for i in range(5)]
    assert set(gaps) == {D(4000)}  # d = (65k − 45k)/5
    pct = [gaps[i] / levels[i] for i in range(5)]
    assert pct == sorted(pct, reverse=True)
