"""Levels and sizing: on the tick and step, inside the range, within the investment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bots.engine import ConfigError, GridConfig, Spacing, Strategy, grid_levels, size_grid
from exchanges.client import FeeRates

from .conftest import FEES, LINEAR_FEES, linear_config, linear_rules, spot_config, spot_rules

D = Decimal

prices = st.decimals(min_value=D("0.0001"), max_value=D("200000"), places=4, allow_nan=False, allow_infinity=False)
ticks = st.sampled_from(["0.0001", "0.001", "0.01", "0.1", "0.5", "1"])
steps = st.sampled_from(["0.000001", "0.00001", "0.001", "0.01", "1"])


@settings(max_examples=150, deadline=None)
@given(
    lo=prices,
    width=st.decimals(min_value=D("1.001"), max_value=D(20), places=3),
    n=st.integers(2, 500),
    tick=ticks,
    geometric=st.booleans(),
)
def test_levels_on_tick_inside_range_strictly_increasing(lo, width, n, tick, geometric):
    hi = lo * width
    config = GridConfig(Strategy.SPOT_GRID, lo, hi, n, Spacing.GEOMETRIC if geometric else Spacing.ARITHMETIC, D(1000))
    rules = spot_rules(tick=tick)
    try:
        levels = grid_levels(config, rules)
    except ConfigError as exc:
        assert "grid price duplicated" in str(exc)
        # it only refuses when the lines really cannot fit: some gap is at most about one tick
        assert (hi - lo) / n < 2 * D(tick) or geometric
        return
    assert len(levels) == n + 1
    assert all(p % D(tick) == 0 for p in levels)
    assert all(lo <= p <= hi for p in levels)
    assert all(a < b for a, b in zip(levels, levels[1:], strict=False))


def test_duplicated_lines_are_refused_with_the_pionex_style_message():
    config = spot_config(lower="1.00", upper="1.05", n=20)
    with pytest.raises(ConfigError) as exc:
        grid_levels(config, spot_rules(tick="0.01"))
    assert exc.value.errors == {"grid_count": "grid price duplicated: reduce the number of grids or widen the range"}


@settings(max_examples=150, deadline=None)
@given(
    lo=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    width=st.decimals(D("1.05"), D(5), places=2),
    n=st.integers(2, 120),
    at=st.integers(-200, 1200),
    inv=st.decimals(D(1), D(1_000_000), places=2),
    step=steps,
    fee=st.sampled_from(["0", "0.0002", "0.001", "0.002"]),
)
def test_spot_sizing_never_needs_more_than_the_investment(lo, width, n, at, inv, step, fee):
    hi = (lo * width).quantize(D("0.01"))
    config = GridConfig(Strategy.SPOT_GRID, lo, hi, n, Spacing.ARITHMETIC, inv)
    rules = spot_rules(tick="0.01", step=step, min_qty=step, min_notional="1", max_qty="1000000000")
    try:
        levels = grid_levels(config, rules)
    except ConfigError:
        return
    price = rules.round_price(lo + (hi - lo) * at / 1000)
    assume(price > 0)
    fees = FeeRates(D(fee), D(fee))
    s = size_grid(config, rules, price=price, fees=fees)
    assert s.levels == levels
    assert s.quote_needed <= inv
    assert s.qty_per_grid == rules.qty_down(s.qty_per_grid) and s.qty_per_grid >= 0
    assert len(s.buy_levels) + len(s.sell_levels) == n  # one order per interval
    assert s.initial_base_qty * (1 - fees.taker) >= len(s.sell_levels) * s.qty_per_grid
    if s.meets_minimums:
        q = s.qty_per_grid
        assert q >= rules.min_qty
        assert rules.qty_down(q * (1 - fees.maker)) >= rules.min_qty  # the counter sell after the fee
        assert q * levels[0] >= rules.min_notional
        assert inv >= s.min_investment
    else:
        assert inv < s.min_investment


def test_min_investment_is_the_boundary_and_names_the_binding_rule():
    rules = spot_rules(step="0.000001", min_qty="0.000048", min_notional="5")
    config = spot_config(n=10, investment="100000")
    s = size_grid(config, rules, price=D(54000), fees=FEES)
    assert s.min_investment_rule == "min_notional"  # 5 USDT at 45k needs 0.000112 > 0.000048
    at_min = size_grid(spot_config(n=10, investment=str(s.min_investment)), rules, price=D(54000), fees=FEES)
    assert at_min.meets_minimums and at_min.qty_per_grid == s.min_qty_per_grid
    below = size_grid(spot_config(n=10, investment=str(s.min_investment - D("0.01"))), rules, price=D(54000), fees=FEES)
    assert not below.meets_minimums
    qty_bound = spot_rules(step="0.001", min_qty="0.01", min_notional="1")
    assert size_grid(config, qty_bound, price=D(54000), fees=FEES).min_investment_rule == "min_qty"


@settings(max_examples=80, deadline=None)
@given(
    direction=st.sampled_from(["neutral", "long", "short"]),
    lev=st.integers(1, 50),
    n=st.integers(2, 60),
    inv=st.integers(10, 100000),
    at=st.integers(0, 1000),
)
def test_linear_margin_never_exceeds_the_investment(direction, lev, n, inv, at):
    config = linear_config(investment=str(inv), leverage=str(lev), direction=direction, n=n)
    rules = linear_rules()
    price = rules.round_price(D(10000) + D(20000) * at / 1000)
    s = size_grid(config, rules, price=price, fees=LINEAR_FEES)
    assert s.quote_needed <= inv
    assert s.qty_per_grid == rules.qty_down(s.qty_per_grid)


def test_linear_contracts_per_grid_follow_the_published_formula():
    """§3.4: per-grid contracts ≈ I × leverage / (Σ order prices × 1.002)."""
    config = linear_config(lower="10000", upper="30000", n=5, investment="1000", leverage="10")
    s = size_grid(config, linear_rules(), price=D(20000), fees=FeeRates(D("0.0002"), D("0.0005")))
    total = sum(s.levels[i] for i in s.buy_levels + s.sell_levels)  # 10k+14k+18k+26k+30k = 98k
    assert total == D(98000)
    assert s.qty_per_grid == linear_rules().qty_down(D(1000) * 10 / (total * D("1.002")))  # 0.1018 -> 0.101
    assert s.qty_per_grid == D("0.101")
