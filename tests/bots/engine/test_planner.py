"""The planner: counter orders, partial fills, re-plans, idempotency, stop plans."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.engine import (
    ConfigError,
    LevelOrder,
    OnStop,
    grid_order_id,
    launch_plan,
    parse_client_order_id,
    plan_tick,
    size_grid,
    stop_plan,
)
from exchanges.client import FeeRates, OrderType, Side

from .conftest import FEES, LINEAR_FEES, linear_config, linear_rules, spot_config, spot_rules
from .minix import MiniExchange

D = Decimal


def test_filled_buy_gets_sell_one_line_up_then_buy_back_same_qty():
    ex = MiniExchange(spot_config(), spot_rules(), FEES, D(54000))
    q = ex.sizing.qty_per_grid
    assert ex.move_to(D(52000)) == ["sk9g2o2B0"]  # the 53k buy
    plan = ex.tick()
    assert [(o.side, o.price, o.level, o.client_order_id) for o in plan.place] == [
        (Side.SELL, D(57000), 3, "sk9g2o3S1")
    ]
    assert plan.place[0].qty == ex.rules.qty_down(q - q * FEES.maker)  # base fee deducted
    ex.move_to(D(58000))  # the 57k sell fills
    plan = ex.tick()
    assert [(o.side, o.price, o.qty, o.client_order_id) for o in plan.place] == [(Side.BUY, D(53000), q, "sk9g2o2B1")]


def test_ladder_sell_fill_buys_back_one_line_down():
    ex = MiniExchange(spot_config(), spot_rules(), FEES, D(54000))
    ex.move_to(D(61500))
    plan = ex.tick()
    assert [(o.side, o.price, o.qty) for o in plan.place] == [(Side.BUY, D(57000), ex.sizing.qty_per_grid)]


def test_price_jump_across_several_lines_answers_each_fill():
    ex = MiniExchange(spot_config(), spot_rules(), FEES, D(54000))
    ex.move_to(D(44000))  # all three buys fill
    plan = ex.tick()
    assert sorted((o.side, o.level) for o in plan.place) == [(Side.SELL, 1), (Side.SELL, 2), (Side.SELL, 3)]
    assert len(ex.open_rows()) == 5  # still one order per interval


def test_partial_fill_counter_waits_below_minimum_then_places_for_what_filled():
    rules = spot_rules(min_notional="5")
    ex = MiniExchange(spot_config(), rules, FEES, D(54000))
    q = ex.sizing.qty_per_grid
    tiny = D("0.00005")  # ~2.8 USDT at 57k after fee: below the 5 USDT minimum
    ex.fill("sk9g2o2B0", tiny)
    assert ex.tick().place == []
    more = D("0.0002")
    ex.fill("sk9g2o2B0", more)
    plan = ex.tick()
    assert len(plan.place) == 1
    sell = plan.place[0]
    assert (sell.side, sell.level) == (Side.SELL, 3)
    assert sell.qty == rules.qty_down((tiny + more) * (1 - FEES.maker))
    # the rest of the buy fills: the next counter sell covers only the new part
    ex.fill("sk9g2o2B0", q)
    plan = ex.tick()
    assert [o.client_order_id for o in plan.place] == ["sk9g2o3S2"]
    total_sells = sum(r.planned.qty for r in ex.rows.values() if r.planned.side is Side.SELL and r.planned.level == 3)
    assert total_sells <= q * (1 - FEES.maker)
    assert q * (1 - FEES.maker) - total_sells < 2 * rules.qty_step


def test_partially_filled_sell_buys_back_proportionally():
    ex = MiniExchange(spot_config(), spot_rules(), FEES, D(54000))
    q = ex.sizing.qty_per_grid
    half = ex.rules.qty_down(q / 2)
    ex.fill("sk9g2o4S0", half)  # half of the 61k ladder sell
    plan = ex.tick()
    assert [(o.side, o.level, o.qty, o.client_order_id) for o in plan.place] == [(Side.BUY, 3, half, "sk9g2o3B1")]
    ex.fill("sk9g2o4S0", q)
    plan = ex.tick()
    assert [(o.side, o.level, o.qty, o.client_order_id) for o in plan.place] == [(Side.BUY, 3, q - half, "sk9g2o3B2")]


def test_vanished_order_is_replanned_with_a_new_id_and_gives_up_after_repeated_failures():
    ex = MiniExchange(spot_config(), spot_rules(), FEES, D(54000))
    ex.vanish("sk9g2o1B0")
    plan = ex.tick()
    assert [(o.client_order_id, o.side, o.price) for o in plan.place] == [("sk9g2o1B1", Side.BUY, D(49000))]
    ex.vanish("sk9g2o1B1")
    assert [o.client_order_id for o in ex.tick().place] == ["sk9g2o1B2"]
    ex.vanish("sk9g2o1B2")
    plan = ex.tick()
    assert plan.place == [] and plan.stuck == [(1, Side.BUY)]


def test_replan_after_partial_fill_then_cancel_covers_only_the_rest():
    ex = MiniExchange(spot_config(), spot_rules(), FEES, D(54000))
    q = ex.sizing.qty_per_grid
    part = ex.rules.qty_down(q / 4)
    ex.fill("sk9g2o0B0", part)
    ex.vanish("sk9g2o0B0")
    plan = ex.tick()
    by_side = {o.side: o for o in plan.place}
    assert by_side[Side.BUY].qty == q - part and by_side[Side.BUY].level == 0
    assert by_side[Side.SELL].qty == ex.rules.qty_down(part * (1 - FEES.maker))
    assert by_side[Side.SELL].level == 1


def test_orders_of_other_generations_and_foreign_ids_are_ignored():
    config, rules = spot_config(), spot_rules()
    levels = size_grid(config, rules, price=D(54000), fees=FEES).levels
    old = LevelOrder("sk9g1o2B0", 2, Side.BUY, D(53000), D("0.01"), D("0.01"), False)
    plan = plan_tick(config, rules, levels=levels, orders=[old], bot_id=9, generation=2)
    assert plan.place == []


def test_linear_neutral_has_no_initial_position_and_counter_qty_is_filled_qty():
    config, rules = linear_config(investment="1000", leverage="5"), linear_rules()
    sizing = size_grid(config, rules, price=D(20000), fees=LINEAR_FEES)
    plan = launch_plan(config, rules, price=D(20000), sizing=sizing, bot_id=3, generation=1)
    assert plan.initial is None
    assert sorted((o.side, o.price) for o in plan.ladder) == [
        (Side.BUY, D(10000)),
        (Side.BUY, D(14000)),
        (Side.BUY, D(18000)),
        (Side.SELL, D(26000)),
        (Side.SELL, D(30000)),
    ]
    q = sizing.qty_per_grid
    assert sizing.quote_needed <= D(1000)
    filled = LevelOrder("sk3g1o2B0", 2, Side.BUY, D(18000), q, q, False)
    others = [
        LevelOrder(o.client_order_id, o.level, o.side, o.price, o.qty, D(0), True)
        for o in plan.ladder
        if o.client_order_id != "sk3g1o2B0"
    ]
    tick = plan_tick(config, rules, levels=sizing.levels, orders=[filled, *others], bot_id=3, generation=1)
    assert [(o.side, o.price, o.qty) for o in tick.place] == [(Side.SELL, D(22000), q)]


@pytest.mark.parametrize("direction,side", [("long", Side.BUY), ("short", Side.SELL)])
def test_linear_long_and_short_open_an_initial_position(direction, side):
    config, rules = linear_config(direction=direction, leverage="3"), linear_rules()
    sizing = size_grid(config, rules, price=D(20000), fees=LINEAR_FEES)
    plan = launch_plan(config, rules, price=D(20000), sizing=sizing, bot_id=3, generation=1)
    n_other = len(sizing.sell_levels) if direction == "long" else len(sizing.buy_levels)
    assert plan.initial.side is side and plan.initial.qty == n_other * sizing.qty_per_grid
    assert plan.initial.order_type is OrderType.MARKET and plan.initial.client_order_id == "sk3g1oinit"


def test_launch_refuses_a_grid_below_the_exchange_minimum():
    config, rules = spot_config(investment="10"), spot_rules()
    sizing = size_grid(config, rules, price=D(54000), fees=FEES)
    assert not sizing.meets_minimums
    with pytest.raises(ConfigError) as exc:
        launch_plan(config, rules, price=D(54000), sizing=sizing, bot_id=1, generation=1)
    assert "investment" in exc.value.errors


def test_stop_plan_cancels_open_orders_and_sells_base_rounded_down():
    config = spot_config(on_stop="sell_base")
    rules = spot_rules()
    orders = [
        LevelOrder("sk5g1o0B0", 0, Side.BUY, D(45000), D("0.01"), D(0), True),
        LevelOrder("sk5g1o4S0", 4, Side.SELL, D(61000), D("0.01"), D("0.01"), False),
        LevelOrder("sk5g1o5S0", 5, Side.SELL, D(65000), D("0.01"), D("0.004"), True),
    ]
    plan = stop_plan(config, rules, orders=orders, base_position=D("0.0123456789"), price=D(50000))
    assert plan.cancel == ["sk5g1o0B0", "sk5g1o5S0"]
    assert (plan.close.side, plan.close.order_type, plan.close.qty) == (Side.SELL, OrderType.MARKET, D("0.012345"))
    assert plan.close.client_order_id == "sk5g1oclose0" and plan.close.purpose == "close"
    # dust below the minimum is not sold; keep never sells
    assert stop_plan(config, rules, orders=orders, base_position=D("0.00001"), price=D(50000)).close is None
    assert stop_plan(config, rules, orders=orders, base_position=D(1), on_stop=OnStop.KEEP).close is None
    # a second close after one was sent gets the next number
    sent = [*orders, LevelOrder("sk5g1oclose0", None, Side.SELL, None, D("0.012345"), D(0), False)]
    assert stop_plan(config, rules, orders=sent, base_position=D("0.02")).close.client_order_id == "sk5g1oclose1"


def test_stop_plan_linear_closes_position_reduce_only():
    config = linear_config(on_stop="close_position")
    plan = stop_plan(
        config, linear_rules(), orders=[], base_position=D("0.25"), position_side=Side.SELL, bot_id=4, generation=2
    )
    assert plan.close.side is Side.BUY and plan.close.reduce_only and plan.close.qty == D("0.25")
    assert plan.close.client_order_id == "sk4g2oclose0"
    short = stop_plan(config, linear_rules(), orders=[], base_position=D("-0.1"), bot_id=4, generation=2)
    assert short.close.side is Side.BUY
    long = stop_plan(config, linear_rules(), orders=[], base_position=D("0.1"), bot_id=4, generation=2)
    assert long.close.side is Side.SELL


def test_ids_round_trip_and_fit_the_strictest_venue():
    cid = grid_order_id(1234567890, 99999, 500, Side.SELL, 999999)
    assert len(cid) <= 32 and cid.isalnum()  # OKX clOrdId: up to 32 letters and digits
    key = parse_client_order_id(cid)
    assert (key.bot_id, key.generation, key.level, key.side, key.seq) == (1234567890, 99999, 500, Side.SELL, 999999)
    assert parse_client_order_id("sk1g2oinit").purpose == "initial"
    assert parse_client_order_id("sk1g2oclose3").seq == 3
    # ids of the earlier format (orders placed before the change) still parse
    assert parse_client_order_id("sk9-2-3S1") == parse_client_order_id("sk9g2o3S1")
    assert parse_client_order_id("sk1-2-init").purpose == "initial"
    assert parse_client_order_id("sk1-2-close3").seq == 3
    for junk in ("", "abc", "sk1-2-3X4", "sk-1-2B3", "sk1-2-3B", "sk1g2o3X4", "sk1g2-3B1", "sk1g2n3B1", "x" * 40):
        assert parse_client_order_id(junk) is None


# ------------------------------------------------------------------ property tests

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("move"), st.integers(0, 1000)),
        st.tuples(st.just("partial"), st.integers(0, 10_000), st.integers(1, 99)),
        st.tuples(st.just("vanish"), st.integers(0, 10_000)),
    ),
    min_size=1,
    max_size=40,
)


def _check_orders(ex: MiniExchange, planned) -> None:
    rules = ex.rules
    for o in planned:
        assert o.price == ex.levels[o.level]
        assert o.qty == rules.qty_down(o.qty) and o.qty >= rules.min_qty
        assert o.qty * o.price >= rules.min_notional
        key = parse_client_order_id(o.client_order_id)
        assert (key.bot_id, key.generation, key.level, key.side) == (ex.bot_id, ex.generation, o.level, o.side)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, n=st.integers(2, 12), start=st.integers(0, 1000), geometric=st.booleans())
def test_random_fill_sequences_never_duplicate_ids_or_oversell(ops, n, start, geometric):
    config = spot_config(
        lower="40000", upper="70000", n=n, investment="5000", spacing="geometric" if geometric else "arithmetic"
    )
    rules = spot_rules()
    lo, hi = D(38000), D(72000)
    price = lo + (hi - lo) * start / 1000
    ex = MiniExchange(config, rules, FEES, rules.round_price(price))
    _check_orders(ex, [r.planned for r in ex.rows.values()])
    for op in ops:
        opens = sorted(cid for cid, r in ex.rows.items() if r.is_open)
        if op[0] == "move":
            ex.move_to(rules.round_price(lo + (hi - lo) * op[1] / 1000))
        elif op[0] == "partial" and opens:
            cid = opens[op[1] % len(opens)]
            ex.fill(cid, rules.qty_down(ex.rows[cid].planned.qty * op[2] / 100))
        elif op[0] == "vanish" and opens:
            ex.vanish(opens[op[1] % len(opens)])
        plan = ex.tick()  # asserts idempotency and unique ids
        _check_orders(ex, plan.place)
        assert ex.base >= 0, "sold coins the bot does not have"
        # never more base on sell orders than the bot holds
        on_sell = sum(r.planned.qty - r.filled for r in ex.open_rows() if r.planned.side is Side.SELL)
        assert on_sell <= ex.base
        # and never more on the book than one grid's worth per interval
        assert sum(r.planned.qty - r.filled for r in ex.open_rows()) <= n * ex.sizing.qty_per_grid
    assert len(set(ex.placed_ids)) == len(ex.placed_ids)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=OPS, n=st.integers(2, 12), start=st.integers(0, 1000), direction=st.sampled_from(["neutral", "long", "short"])
)
def test_random_linear_sequences_keep_ids_unique_and_exposure_bounded(ops, n, start, direction):
    config = linear_config(lower="10000", upper="30000", n=n, investment="2000", leverage="3", direction=direction)
    rules = linear_rules()
    price = rules.round_price(D(9000) + D(22000) * start / 1000)
    ex = MiniExchange(config, rules, LINEAR_FEES, price)
    q = ex.sizing.qty_per_grid
    for op in ops:
        opens = sorted(cid for cid, r in ex.rows.items() if r.is_open)
        if op[0] == "move":
            ex.move_to(rules.round_price(D(9000) + D(22000) * op[1] / 1000))
        elif op[0] == "partial" and opens:
            cid = opens[op[1] % len(opens)]
            ex.fill(cid, rules.qty_down(ex.rows[cid].planned.qty * op[2] / 100))
        elif op[0] == "vanish" and opens:
            ex.vanish(opens[op[1] % len(opens)])
        plan = ex.tick()
        _check_orders(ex, plan.place)
        # the position never exceeds what the grid was sized for: every line filled one way
        assert abs(ex.base) <= (n + 1) * q
        # resting exposure: at most one grid's worth of orders per interval
        resting = sum(r.planned.qty - r.filled for r in ex.open_rows())
        assert resting <= n * q
    assert len(set(ex.placed_ids)) == len(ex.placed_ids)


@settings(max_examples=40, deadline=None)
@given(path=st.lists(st.integers(0, 1000), min_size=1, max_size=60), n=st.integers(2, 15), start=st.integers(0, 1000))
def test_full_fills_keep_one_order_per_interval_alternating_around_the_price(path, n, start):
    """With whole fills, every interval always holds exactly one order: a buy at its lower line
    below the price or a sell at its upper line above it; buys keep the same quantity."""
    config, rules = spot_config(lower="40000", upper="70000", n=n, investment="20000"), spot_rules()
    lo, hi = D(38000), D(72000)
    ex = MiniExchange(config, rules, FEES, rules.round_price(lo + (hi - lo) * start / 1000))
    q = ex.sizing.qty_per_grid
    for x in path:
        price = rules.round_price(lo + (hi - lo) * x / 1000)
        ex.move_to(price)
        ex.tick()
        opens = ex.open_rows()
        intervals = sorted(r.planned.level if r.planned.side is Side.BUY else r.planned.level - 1 for r in opens)
        assert intervals == list(range(n))
        levels_used = [r.planned.level for r in opens]
        assert len(levels_used) == len(set(levels_used))  # never a buy and a sell on one line
        assert all(r.planned.price < price for r in opens if r.planned.side is Side.BUY)
        assert all(r.planned.price > price for r in opens if r.planned.side is Side.SELL)
        assert all(r.planned.qty == q for r in opens if r.planned.side is Side.BUY)
        assert ex.base >= 0


def test_unknown_fee_is_estimated_conservatively_and_never_oversells():
    """When the services do not pass the base fee, a lower real fee leaves dust, never a shortfall."""
    config, rules = spot_config(lower="40000", upper="70000", n=10, investment="5000"), spot_rules()
    ex = MiniExchange(
        config,
        rules,
        FeeRates(D("0.0008"), D("0.0008")),
        D(55000),
        actual_fee=D("0.0008"),
        report_base_fee=False,
        state_fees=None,  # the tick does not know the account's fee rates
    )
    for price in [D(50000), D(60000), D(45000), D(69000), D(41000), D(66000)] * 5:
        ex.move_to(price)
        ex.tick()
        on_sell = sum(r.planned.qty - r.filled for r in ex.open_rows() if r.planned.side is Side.SELL)
        assert on_sell <= ex.base
