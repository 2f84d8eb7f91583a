"""The pre-launch report: figures a user reads and the warnings that stop a bad launch."""

from __future__ import annotations

import json
from decimal import Decimal

from bots.engine import Candle, GridConfig, Spacing, Strategy, build_report
from exchanges.client import FeeRates

from .conftest import FEES, LINEAR_FEES, linear_config, linear_rules, spot_config, spot_rules

D = Decimal


def codes(report) -> dict[str, str]:
    return {w.code: w.severity for w in report.warnings}


def test_healthy_spot_grid_report_has_figures_and_no_blocking_warning():
    r = build_report(spot_config(), spot_rules(), price=D(54000), fees=FEES, balances={"USDT": D(20000)})
    assert not r.blocking and r.balance_ok is True
    assert r.levels == (D(45000), D(49000), D(53000), D(57000), D(61000), D(65000))
    # arithmetic: the widest % is the bottom interval, the narrowest the top one
    assert r.profit_per_grid_max.level == 0 and r.profit_per_grid_min.level == 4
    assert r.profit_per_grid_max.gross_percent.quantize(D("0.01")) == D("8.89")  # 4000/45000
    assert r.profit_per_grid_min.net_percent < r.profit_per_grid_min.gross_percent
    assert r.quote_needed <= D(10000)
    assert r.break_even_price > D(54000)  # the launch buy's price plus its fee
    assert r.below_range["loss"] > 0 and "falls below 45,000.00" in r.below_range["message"]
    assert r.above_range["gain"] > 0
    assert "initial_purchase" in codes(r)
    data = json.loads(json.dumps(r.to_json()))
    for key in (
        "levels",
        "qty_per_grid",
        "profit_per_grid_min",
        "profit_per_grid_max",
        "profit_per_cycle",
        "quote_needed",
        "base_needed",
        "min_investment",
        "min_investment_rule",
        "balance_ok",
        "break_even_price",
        "below_range",
        "above_range",
        "liquidation_price",
        "warnings",
        "blocking",
    ):
        assert key in data
    assert isinstance(data["qty_per_grid"], str) and isinstance(data["levels"][0], str)
    assert data["min_investment_rule"] in ("min_qty", "min_notional")


def test_deposit_too_small_is_blocking():
    r = build_report(spot_config(investment="20"), spot_rules(), price=D(54000), fees=FEES)
    assert r.blocking and codes(r)["investment_too_small"] == "danger"
    w = next(w for w in r.warnings if w.code == "investment_too_small")
    assert "Invest at least" in w.message and D(w.params["min_investment"]) >= r.min_investment.quantize(D("0.01"))


def test_grid_too_dense_for_the_fees():
    dense = build_report(
        spot_config(lower="50000", upper="51000", n=100, investment="100000"), spot_rules(), price=D(50500), fees=FEES
    )
    assert dense.blocking and codes(dense)["grid_unprofitable"] == "danger"
    thin = build_report(
        spot_config(lower="50000", upper="52000", n=10, investment="100000"), spot_rules(), price=D(51000), fees=FEES
    )  # ~0.38% gross, ~0.18% net < 0.2%
    assert not thin.blocking and codes(thin)["grid_too_dense"] == "warning"


def test_balance_insufficient_is_blocking():
    r = build_report(spot_config(), spot_rules(), price=D(54000), fees=FEES, balances={"USDT": D(500)})
    assert r.blocking and r.balance_ok is False and "balance_insufficient" in codes(r)
    missing = build_report(spot_config(), spot_rules(), price=D(54000), fees=FEES, balances={})
    assert missing.balance_ok is False


def test_price_outside_range_and_narrow_range_for_recent_volatility():
    candles = [Candle(i * 60, D(54000), D(54000 + i * 300), D(54000 - i * 300), D(54000)) for i in range(40)]
    r = build_report(
        spot_config(lower="50000", upper="58000", n=5), spot_rules(), price=D(60000), fees=FEES, candles=candles
    )
    c = codes(r)
    assert c["price_outside_range"] == "warning" and c["range_too_narrow"] == "warning"
    calm = [Candle(i * 60, D(54000), D(54100), D(53900), D(54000)) for i in range(40)]
    r2 = build_report(
        spot_config(lower="50000", upper="58000", n=5), spot_rules(), price=D(54000), fees=FEES, candles=calm
    )
    assert "range_too_narrow" not in codes(r2) and "price_outside_range" not in codes(r2)


def test_more_than_500_orders_is_blocking():
    config = GridConfig(Strategy.SPOT_GRID, D(10000), D(70000), 600, Spacing.ARITHMETIC, D(10_000_000))
    r = build_report(config, spot_rules(), price=D(40000), fees=FeeRates(D(0), D(0)))
    assert r.blocking and "too_many_orders" in codes(r)


def test_linear_liquidation_estimate_and_warning():
    """Long 10x over 10k-30k at 20k: if every buy fills the position is deep underwater."""
    risky = build_report(
        linear_config(leverage="10", direction="long", investment="1000"),
        linear_rules(),
        price=D(20000),
        fees=LINEAR_FEES,
    )
    assert risky.liquidation_price is not None and risky.liquidation_price > D(10000)
    assert codes(risky)["liquidation_near"] == "danger"
    # grid-math §3.8 long formula: (q·ē − M) / (q·(1 − mmr)), q = all buys + initial position
    q = risky.qty_per_grid
    buys = [risky.levels[i] for i in risky.buy_levels]
    init = risky.initial_base_qty
    pos = init + q * len(buys)
    entry = (init * D(20000) + q * sum(buys)) / pos
    expected = (pos * entry - D(1000)) / (pos * (1 - D("0.005")))
    assert risky.liquidation_price == expected.quantize(D("0.01"))
    safe = build_report(
        linear_config(leverage="1", direction="neutral", investment="1000"),
        linear_rules(),
        price=D(20000),
        fees=LINEAR_FEES,
    )
    assert "liquidation_near" not in codes(safe)
    assert safe.liquidation_price is None or safe.liquidation_price < D(10000) * D("0.95")
