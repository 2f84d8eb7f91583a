"""The pre-launch report: figures a user reads and the warnings that stop a bad launch."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from bots.engine import Candle, ConfigError, GridConfig, Spacing, Strategy, build_report, launch_plan, size_grid
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
    assert r.base_needed == 0  # the bot buys its own base with the investment
    assert r.initial_base_qty * (1 - FEES.taker) >= 2 * r.qty_per_grid
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
    # per-grid profit: "gross"/"net" in percent (what the UI shows), the same in quote alongside
    assert data["profit_per_grid_max"]["gross"] == "8.8889"
    assert D(data["profit_per_grid_max"]["net"]) < D("8.8889")
    # to the satoshi, half to even (152.823749085 -> .08), whatever the process's decimal context says
    assert D(data["profit_per_grid_max"]["net_quote"]) == r.profit_per_grid_max.net.quantize(D("1e-8"), ROUND_HALF_EVEN)


def test_deposit_too_small_is_blocking():
    r = build_report(spot_config(investment="20"), spot_rules(), price=D(54000), fees=FEES)
    assert r.blocking and codes(r)["investment_below_minimum"] == "danger"
    w = next(w for w in r.warnings if w.code == "investment_below_minimum")
    assert "Invest at least" in w.message and D(w.params["min_investment"]) >= r.min_investment.quantize(D("0.01"))


def test_grid_too_dense_for_the_fees():
    dense = build_report(
        spot_config(lower="50000", upper="51000", n=100, investment="100000"), spot_rules(), price=D(50500), fees=FEES
    )
    assert dense.blocking and codes(dense)["fee_exceeds_profit"] == "danger"
    thin = build_report(
        spot_config(lower="50000", upper="52000", n=10, investment="100000"), spot_rules(), price=D(51000), fees=FEES
    )  # ~0.38% gross, ~0.18% net < 0.2%
    assert not thin.blocking and codes(thin)["low_profit_per_grid"] == "warning"


def test_balance_insufficient_is_blocking():
    r = build_report(spot_config(), spot_rules(), price=D(54000), fees=FEES, balances={"USDT": D(500)})
    assert r.blocking and r.balance_ok is False and "insufficient_balance" in codes(r)
    missing = build_report(spot_config(), spot_rules(), price=D(54000), fees=FEES, balances={})
    assert missing.balance_ok is False


def test_price_outside_range_and_narrow_range_for_recent_volatility():
    candles = [Candle(i * 60, D(54000), D(54000 + i * 300), D(54000 - i * 300), D(54000)) for i in range(40)]
    r = build_report(
        spot_config(lower="50000", upper="58000", n=5), spot_rules(), price=D(60000), fees=FEES, candles=candles
    )
    c = codes(r)
    assert c["price_above_range"] == "warning" and c["range_too_narrow"] == "warning"
    calm = [Candle(i * 60, D(54000), D(54100), D(53900), D(54000)) for i in range(40)]
    r2 = build_report(
        spot_config(lower="50000", upper="58000", n=5), spot_rules(), price=D(54000), fees=FEES, candles=calm
    )
    assert "range_too_narrow" not in codes(r2) and "price_above_range" not in codes(r2)
    below = build_report(spot_config(lower="50000", upper="58000", n=5), spot_rules(), price=D(49000), fees=FEES)
    assert codes(below)["price_below_range"] == "warning"


def test_more_than_500_orders_is_blocking():
    config = GridConfig(Strategy.SPOT_GRID, D(10000), D(70000), 600, Spacing.ARITHMETIC, D(10_000_000))
    r = build_report(config, spot_rules(), price=D(40000), fees=FeeRates(D(0), D(0)))
    assert r.blocking and "too_many_orders" in codes(r)
    # 500 grids is allowed: 500 resting orders (the launch market order does not rest)
    ok = GridConfig(Strategy.SPOT_GRID, D(10000), D(70000), 500, Spacing.ARITHMETIC, D(10_000_000))
    r500 = build_report(ok, spot_rules(), price=D(40000), fees=FeeRates(D(0), D(0)))
    assert r500.order_count == 501 and "too_many_orders" not in codes(r500)


def test_linear_liquidation_estimate_and_warning():
    """Long 10x over 10k-30k at 20k: if every buy fills the position is deep underwater."""
    risky = build_report(
        linear_config(leverage="10", direction="long", investment="1000"),
        linear_rules(),
        price=D(20000),
        fees=LINEAR_FEES,
    )
    assert risky.liquidation_price is not None and risky.liquidation_price > D(10000)
    assert codes(risky)["liquidation_inside_range"] == "danger"
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
    assert not {"liquidation_near", "liquidation_inside_range"} & set(codes(safe))
    assert safe.liquidation_price is None or safe.liquidation_price < D(10000) * D("0.95")


def test_leverage_above_the_pairs_maximum_is_blocking():
    rules = linear_rules()
    capped = type(rules)(**{**rules.__dict__, "max_leverage": D(25)})
    r = build_report(linear_config(leverage="50"), capped, price=D(20000), fees=LINEAR_FEES)
    assert r.blocking and "leverage_above_max" in codes(r)
    ok = build_report(linear_config(leverage="5"), capped, price=D(20000), fees=LINEAR_FEES)
    assert "leverage_above_max" not in codes(ok)


def test_stop_loss_on_the_wrong_side_of_the_price_is_blocking():
    r = build_report(spot_config(stop_loss_price="55000"), spot_rules(), price=D(54000), fees=FEES)
    assert r.blocking and "target_already_reached" in codes(r)
    fine = build_report(spot_config(stop_loss_price="44000"), spot_rules(), price=D(54000), fees=FEES)
    assert "target_already_reached" not in codes(fine)


@settings(max_examples=120, deadline=None)
@given(
    linear=st.booleans(),
    lo=st.decimals(D("0.001"), D("100000"), places=3),
    width=st.decimals(D("1.001"), D("10"), places=3),
    n=st.integers(2, 200),
    geometric=st.booleans(),
    inv=st.decimals(D("0.01"), D("10000000"), places=2),
    at=st.integers(-500, 1500),
    lev=st.integers(1, 100),
    direction=st.sampled_from(["neutral", "long", "short"]),
    tick=st.sampled_from(["0.001", "0.01", "0.5"]),
    step=st.sampled_from(["0.000001", "0.001", "1"]),
    balance=st.one_of(st.none(), st.decimals(D(0), D("1000000"), places=2)),
)
def test_any_valid_config_gets_a_report_or_a_config_error_never_a_crash(
    linear, lo, width, n, geometric, inv, at, lev, direction, tick, step, balance
):
    hi = lo * width
    data = {
        "strategy": "linear_grid" if linear else "spot_grid",
        "lower_price": str(lo),
        "upper_price": str(hi),
        "grid_count": n,
        "spacing": "geometric" if geometric else "arithmetic",
        "investment": str(inv),
    }
    if linear:
        data.update(leverage=str(lev), direction=direction)
    config = GridConfig.from_json(data)
    rules = (linear_rules if linear else spot_rules)(tick=tick, step=step, min_qty=step, min_notional="5")
    price = max(lo + (hi - lo) * at / 1000, D(tick))
    price = rules.round_price(price) or D(tick)
    fees = LINEAR_FEES if linear else FEES
    try:
        r = build_report(config, rules, price=price, fees=fees, balances=None if balance is None else {"USDT": balance})
    except ConfigError as exc:
        assert "grid price duplicated" in str(exc)
        event("duplicated lines")
        return
    event("blocking" if r.blocking else "launchable")
    json.dumps(r.to_json())
    assert r.blocking == any(w.blocking for w in r.warnings)
    assert r.quote_needed <= inv
    if not r.blocking:
        sizing = size_grid(config, rules, price=price, fees=fees)
        plan = launch_plan(config, rules, price=price, sizing=sizing, bot_id=1, generation=1)
        assert len(plan.ladder) == n
        assert all(o.qty >= rules.min_qty and o.qty * o.price >= rules.min_notional for o in plan.ladder)


def test_launch_purchase_above_the_exchange_order_maximum_is_blocking():
    rules = spot_rules(max_qty="0.05")  # Q per grid fits, 2·Q bought at once does not
    r = build_report(spot_config(investment="10000"), rules, price=D(54000), fees=FEES)
    assert r.qty_per_grid <= D("0.05") < r.initial_base_qty
    assert r.blocking and "initial_order_too_large" in codes(r)
