"""The typed grid state (bots/engine/state.py): transitions one event at a time, and properties
over random fill/vanish sequences: the state-based planner plans exactly what the old per-order
replay planned, never a duplicate id, nothing the second time, the same from a snapshot, and
its size does not grow with history."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.engine import GridState, PlannedOrder, grid_order_id, plan_tick
from exchanges.client import OrderType, Side

from .conftest import FEES, LINEAR_FEES, linear_config, linear_rules, spot_config, spot_rules
from .minix import MiniExchange
from .reference_planner import reference_plan_tick

D = Decimal
LEVELS = (D(100), D(110), D(120), D(130))


def order(level, side, seq, qty="1", bot=1, gen=1) -> PlannedOrder:
    return PlannedOrder(
        grid_order_id(bot, gen, level, side, seq), side, OrderType.LIMIT, LEVELS[level], D(qty), level, "grid"
    )


def fresh(spot=True) -> GridState:
    return GridState.new(bot_id=1, generation=1, spot=spot, levels=LEVELS, fees=None)


def test_placed_commits_the_whole_qty_and_counts_launch_orders():
    s = fresh()
    assert s.placed(order(0, Side.BUY, 0)) and s.placed(order(2, Side.SELL, 0))
    assert s.intervals[0].buy_committed == 1 and s.intervals[0].initial_buy == 1
    assert s.intervals[1].sell_committed == 1 and s.intervals[1].initial_sell == 1 and s.intervals[1].sell_open == 1
    assert s.next_seq[(0, Side.BUY)] == 1
    assert not s.placed(order(0, Side.BUY, 0)), "the same id twice changes nothing"
    assert not s.placed(order(0, Side.BUY, 0, bot=2)), "another bot's id is not ours"
    assert s.intervals[0].buy_committed == 1


def test_partial_fill_then_cancel_commits_only_what_filled():
    s = fresh()
    cid = order(1, Side.BUY, 0).client_order_id
    s.placed(order(1, Side.BUY, 0))
    assert s.filled(cid, filled=D("0.4"), base_fee=D("0.0004"))
    assert s.intervals[1].bought == D("0.4") and s.intervals[1].buy_fee == D("0.0004")
    assert s.intervals[1].buy_committed == 1  # still open: the whole order is on the book
    assert not s.filled(cid, filled=D("0.4"), base_fee=D("0.0004")), "the same observation twice is a no-op"
    assert s.cancelled(cid)
    assert s.intervals[1].buy_committed == D("0.4")
    assert s.recent[(1, Side.BUY)] == [[0, False]]  # it filled something: not a failure


def test_missing_unfilled_counts_as_a_failure_and_reopening_undoes_it():
    s = fresh()
    o = order(2, Side.SELL, 0)
    s.placed(o)
    s.missing(o.client_order_id)
    assert s.intervals[1].sell_committed == 0 and s.intervals[1].sell_open == 0
    assert s.recent[(2, Side.SELL)] == [[0, True]]
    s.observe(o.client_order_id, filled=D(0), is_open=True)  # the exchange knew it after all
    assert s.intervals[1].sell_committed == 1 and s.recent[(2, Side.SELL)] == [[0, False]]


def test_rejected_three_times_is_stuck():
    s = fresh()
    for seq in range(3):
        o = order(0, Side.BUY, seq)
        s.placed(o)
        s.rejected(o.client_order_id)
    assert s.failing(0, Side.BUY, 3) and not s.failing(0, Side.BUY, 4)


def test_settled_orders_stop_being_watched_and_late_fills_still_count():
    s = fresh()
    o = order(1, Side.BUY, 0)
    s.placed(o)
    s.observe(o.client_order_id, filled=D("0.5"), is_open=False, base_fee=D("0.0005"), settled=True)
    assert o.client_order_id not in s.watched
    assert s.intervals[1].bought == D("0.5") and s.intervals[1].buy_committed == D("0.5")
    assert s.late_fill(o.client_order_id, qty=D("0.1"), base_fee=D("0.0001"))
    assert s.intervals[1].bought == D("0.6") and s.intervals[1].buy_committed == D("0.6")
    assert s.intervals[1].buy_fee == D("0.0006")
    assert not s.late_fill(grid_order_id(1, 2, 1, Side.BUY, 0), qty=D(1), base_fee=None), "another run"


def test_trade_keeps_inventory_and_cash_of_the_run():
    s = fresh()
    s.trade(side=Side.BUY, qty=D("0.01"), price=D(100), fee=D("0.00001"), fee_in="base")
    s.trade(side=Side.SELL, qty=D("0.005"), price=D(110), fee=D("0.0055"), fee_in="quote")
    s.trade(side=Side.BUY, qty=D("0.001"), price=D(100), fee=D("0.3"), fee_in="other")
    assert s.base == D("0.01") - D("0.00001") - D("0.005") + D("0.001")
    assert s.cash == -D(1) + D("0.55") - D("0.0055") - D("0.1")
    lin = fresh(spot=False)
    lin.trade(side=Side.SELL, qty=D(2), price=D(100), fee=D("0.1"), fee_in="base")  # linear: fees in settle coin
    assert lin.base == -2 and lin.cash == D(200) - D("0.1")


def test_snapshot_is_versioned_and_exact():
    s = fresh()
    s.placed(order(0, Side.BUY, 0))
    s.filled(order(0, Side.BUY, 0).client_order_id, filled=D("0.3"))
    data = s.to_json()
    assert data["schema"] == 1
    assert GridState.from_json(data) == s
    data["schema"] = 99
    try:
        GridState.from_json(data)
    except ValueError:
        pass
    else:
        raise AssertionError("an unknown snapshot schema must not be read")


# --- properties -------------------------------------------------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("move"), st.integers(0, 1000)),
        st.tuples(st.just("partial"), st.integers(0, 10_000), st.integers(1, 99)),
        st.tuples(st.just("vanish"), st.integers(0, 10_000)),
    ),
    min_size=1,
    max_size=50,
)


def _drive(ex: MiniExchange, ops, lo: Decimal, hi: Decimal) -> None:
    rules = ex.rules
    planned: list[str] = list(ex.placed_ids)
    for op in ops:
        opens = sorted(cid for cid, r in ex.rows.items() if r.is_open)
        if op[0] == "move":
            ex.move_to(rules.round_price(lo + (hi - lo) * op[1] / 1000))
        elif op[0] == "partial" and opens:
            cid = opens[op[1] % len(opens)]
            ex.fill(cid, rules.qty_down(ex.rows[cid].planned.qty * op[2] / 100))
        elif op[0] == "vanish" and opens:
            ex.vanish(opens[op[1] % len(opens)])
        reference = reference_plan_tick(
            ex.config,
            ex.rules,
            levels=ex.levels,
            orders=ex.view(),
            bot_id=ex.bot_id,
            generation=ex.generation,
            fees=ex.state_fees,
        )
        plan = ex.tick()  # asserts: idempotent, same from events / rebuilt / snapshot
        assert plan == reference, "the state planner differs from the per-order replay"
        planned += [o.client_order_id for o in plan.place]
        assert len(planned) == len(set(planned)), "a client id was planned twice"
        # The state watches what is on the book (and nothing settled): bounded by the grid.
        assert len(ex.state.watched) == len(ex.open_rows())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, n=st.integers(2, 12), start=st.integers(0, 1000), geometric=st.booleans())
def test_spot_state_planner_equals_the_replay_planner(ops, n, start, geometric):
    config = spot_config(
        lower="40000", upper="70000", n=n, investment="5000", spacing="geometric" if geometric else "arithmetic"
    )
    rules = spot_rules()
    lo, hi = D(38000), D(72000)
    ex = MiniExchange(config, rules, FEES, rules.round_price(lo + (hi - lo) * start / 1000))
    _drive(ex, ops, lo, hi)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=OPS, n=st.integers(2, 12), start=st.integers(0, 1000), direction=st.sampled_from(["neutral", "long", "short"])
)
def test_linear_state_planner_equals_the_replay_planner(ops, n, start, direction):
    config = linear_config(lower="10000", upper="30000", n=n, investment="2000", leverage="3", direction=direction)
    rules = linear_rules()
    ex = MiniExchange(config, rules, LINEAR_FEES, rules.round_price(D(9000) + D(22000) * start / 1000))
    _drive(ex, ops, D(9000), D(31000))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, n=st.integers(2, 8), start=st.integers(0, 1000))
def test_spot_with_estimated_fees_equals_the_replay_planner(ops, n, start):
    config, rules = spot_config(lower="40000", upper="70000", n=n, investment="5000"), spot_rules()
    lo, hi = D(38000), D(72000)
    ex = MiniExchange(
        config, rules, FEES, rules.round_price(lo + (hi - lo) * start / 1000), report_base_fee=False, state_fees=None
    )
    _drive(ex, ops, lo, hi)


def test_state_size_does_not_grow_with_history():
    config, rules = spot_config(lower="40000", upper="70000", n=10, investment="20000"), spot_rules()
    ex = MiniExchange(config, rules, FEES, D(55000))
    sizes = []
    for i in range(300):
        ex.move_to(D(41000) if i % 2 else D(69000))
        for o in plan_tick(config, rules, state=ex.state, bot_id=9, generation=2).place:
            ex.add(o)  # (ex.tick() would also replay the whole history to cross-check: quadratic)
        sizes.append(len(str(ex.state.to_json())))
    assert len(ex.placed_ids) > 1000
    assert len(ex.state.watched) <= 10 and all(len(h) <= 8 for h in ex.state.recent.values())
    # Only the digits of counters and sums grow: 450 more orders, same snapshot size.
    assert sizes[-1] <= sizes[150] * 1.05, "the snapshot grows with the number of past orders"
    assert plan_tick(config, rules, state=ex.state, bot_id=9, generation=2).place == []
