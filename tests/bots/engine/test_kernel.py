"""The compiled backtest kernel == the live engine driven in pure Python (planner, targets, the
profit book), to the smallest unit: the same fills (ids, prices, quantities, fees, points), the
same cycles and profit, the same balances and equity curve. Random candle paths and the shipped
real days (Binance BTC/ETH May 2021, FTX BTC-PERP), spot and linear long/short/neutral."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context, event

from bots.engine import Candle
from bots.engine.backtest import backtest
from bots.engine.candles import PricePath
from bots.engine.config import ConfigError
from bots.engine.sweep import sweep
from exchanges.client import FeeRates, Side
from tests.market_data import BTC_PERP_2022, BTCUSDT_2021, ETHUSDT_2021

from .conftest import FEES, LINEAR_FEES, linear_config, linear_rules, load_candles, spot_config, spot_rules

D = Decimal
DAY = 1440
MAY_1 = 1619827200000


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """Compile once per module (or load numba's on-disk cache), outside every timed example."""
    from bots.engine import kernel

    kernel.warm_up()


def assert_same(a, b) -> None:
    """Every figure a user could see, kernel (a) against reference (b)."""
    assert (a.engine, b.engine) == ("kernel", "reference"), "the kernel fell back to the reference"
    for x, y in zip(a.fills, b.fills, strict=False):
        assert x == y, f"first different fill:\n kernel    {x}\n reference {y}"
    assert len(a.fills) == len(b.fills)
    assert a.cycles == b.cycles
    for name in (
        "grid_profit",
        "realized_pnl",
        "unrealized_pnl",
        "total_pnl",
        "fees_paid",
        "fees",
        "quote_balance",
        "base_balance",
        "equity",
        "equity_curve",
        "max_drawdown",
        "start_price",
        "end_price",
        "candles",
        "launched_at",
        "stop",
        "open_orders",
        "sizing",
    ):
        assert getattr(a, name) == getattr(b, name), name


def note(what: str) -> None:
    """A hypothesis statistic (--hypothesis-show-statistics) when inside a property."""
    if currently_in_test_context():
        event(what)


def both(config, rules, candles, fees):
    path = PricePath.from_candles(candles, rules.tick_size)
    try:
        b = backtest(config, rules, path, fees=fees, engine="reference")
    except ConfigError:
        with pytest.raises(ConfigError):
            backtest(config, rules, path, fees=fees)
        note("cannot launch")
        return None, None
    a = backtest(config, rules, path, fees=fees)
    assert_same(a, b)
    note("never triggered" if a.launched_at is None else f"stopped by {a.stop.kind}" if a.stop else "ran")
    note("fills: " + ("0" if not a.fills else "1-9" if len(a.fills) < 10 else "10+"))
    return a, b


# --------------------------------------------------------------------------- random paths


@st.composite
def candle_paths(draw, max_len=120):
    n = draw(st.integers(1, max_len))
    price = D(100)
    out = []
    moves = draw(st.lists(st.integers(-300, 300), min_size=n * 4, max_size=n * 4))
    for i in range(n):
        g, a, b, c = moves[4 * i : 4 * i + 4]
        # three decimals on a 0.01 tick: points get rounded half-even like the simulator's
        o = max(D("1"), price + D(g) / 1000)
        close = max(D("1"), o + D(c) / 100)
        high = max(o, close) + abs(D(a)) / 200
        low = max(D("0.5"), min(o, close) - abs(D(b)) / 200)
        out.append(Candle(60 * i, o, high, low, close, D(1000)))
        price = close
    return out


some_targets = st.fixed_dictionaries(
    {},
    optional={
        "take_profit_pnl": st.sampled_from(["0.5", "2", "5"]),
        "stop_loss_pnl": st.sampled_from(["1", "3", "8"]),
        "take_profit_roi": st.sampled_from(["0.2", "1"]),
        "stop_loss_roi": st.sampled_from(["0.5", "2"]),
        "trigger_price": st.sampled_from(["99.5", "100.25", "101", "97"]),
    },
)
targets = st.one_of(st.just({}), some_targets)  # half the runs have none: they run to the end


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    candles=candle_paths(),
    lower=st.integers(80, 99),
    width=st.integers(4, 40),
    n=st.integers(2, 25),
    spacing=st.sampled_from(["arithmetic", "geometric"]),
    fee=st.sampled_from([("0.001", "0.001"), ("0", "0"), ("0.00075", "0.001"), ("0.0002", "0.00055")]),
    step=st.sampled_from(["0.001", "0.0001", "0.01"]),
    extra=targets,
    on_stop=st.sampled_from(["keep", "sell_base"]),
    price_targets=st.sampled_from([False, False, True]),
    limits=st.sampled_from([("1", "1000"), ("40", "1000"), ("1", "3"), ("25", "2.5")]),
)
def test_spot_kernel_equals_the_planner_on_random_paths(
    candles, lower, width, n, spacing, fee, step, extra, on_stop, price_targets, limits
):
    if price_targets:
        extra = {**extra, "take_profit_price": str(lower + width + 1), "stop_loss_price": str(lower - 1)}
    config = spot_config(
        lower=str(lower), upper=str(lower + width), n=n, investment="1000", spacing=spacing, on_stop=on_stop, **extra
    )
    # min notional and max qty that bind: counter orders below the minimum wait, sizes are capped
    rules = spot_rules(tick="0.01", step=step, min_qty=step, min_notional=limits[0], max_qty=limits[1])
    both(config, rules, candles, FeeRates(D(fee[0]), D(fee[1])))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    candles=candle_paths(),
    lower=st.integers(80, 99),
    width=st.integers(4, 40),
    n=st.integers(2, 25),
    direction=st.sampled_from(["neutral", "long", "short"]),
    leverage=st.sampled_from(["1", "3", "10"]),
    fee=st.sampled_from([("0.0002", "0.00055"), ("0", "0"), ("0.001", "0.001")]),
    extra=targets,
    on_stop=st.sampled_from(["keep", "close_position"]),
    price_targets=st.sampled_from([False, False, True]),
    step=st.sampled_from(["0.01", "0.001", "0.1"]),
)
def test_linear_kernel_equals_the_planner_on_random_paths(
    candles, lower, width, n, direction, leverage, fee, extra, on_stop, price_targets, step
):
    if price_targets:
        up, down = str(lower + width + 1), str(lower - 1)
        tp, sl = (down, up) if direction == "short" else (up, down)
        extra = {**extra, "take_profit_price": tp, "stop_loss_price": sl}
    config = linear_config(
        lower=str(lower),
        upper=str(lower + width),
        n=n,
        investment="500",
        leverage=leverage,
        direction=direction,
        on_stop=on_stop,
        **extra,
    )
    rules = linear_rules(tick="0.01", step=step, min_qty=step, min_notional="1")
    both(config, rules, candles, FeeRates(D(fee[0]), D(fee[1])))


# ------------------------------------------------------------------------------ real days

_CACHE: dict = {}


def real(name, start_ms, count) -> list[Candle]:
    key = (str(name), start_ms, count)
    if key not in _CACHE:
        _CACHE[key] = load_candles(name.name, start_ms=start_ms, count=count)
    return _CACHE[key]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    day=st.integers(0, 28),
    pair=st.sampled_from([BTCUSDT_2021, ETHUSDT_2021]),
    half_width=st.sampled_from(["0.02", "0.05", "0.1"]),
    n=st.integers(5, 60),
    spacing=st.sampled_from(["arithmetic", "geometric"]),
)
def test_spot_kernel_equals_the_planner_on_real_days(day, pair, half_width, n, spacing):
    candles = real(pair, 1618963200000 + day * DAY * 60000, DAY)  # from 2021-04-21
    mid = candles[0].open
    hw = D(half_width)
    config = spot_config(
        lower=str((mid * (1 - hw)).quantize(D(1))),
        upper=str((mid * (1 + hw)).quantize(D(1))),
        n=n,
        investment="20000",
        spacing=spacing,
    )
    a, _ = both(config, spot_rules(tick="0.01", step="0.00001" if pair is ETHUSDT_2021 else "0.000001"), candles, FEES)
    assert a is None or a.fills


@pytest.mark.parametrize("direction", ["neutral", "long", "short"])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(day=st.integers(0, 30), n=st.integers(5, 60), half_width=st.sampled_from(["0.03", "0.08"]))
def test_linear_kernel_equals_the_planner_on_real_perp_days(direction, day, n, half_width):
    candles = real(BTC_PERP_2022, 1640995200000 + day * DAY * 60000, DAY)  # from 2022-01-01
    mid = candles[0].open
    hw = D(half_width)
    config = linear_config(
        lower=str((mid * (1 - hw)).quantize(D(1))),
        upper=str((mid * (1 + hw)).quantize(D(1))),
        n=n,
        investment="5000",
        leverage="3",
        direction=direction,
    )
    a, _ = both(config, linear_rules(), candles, LINEAR_FEES)
    assert a is None or a.fills


# ------------------------------------------------------------------- what a user would see


def test_a_real_day_completes_cycles_and_the_books_balance():
    candles = real(BTCUSDT_2021, MAY_1, DAY)
    config = spot_config(lower="55000", upper="59000", n=20, investment="10000")
    a, _ = both(config, spot_rules(), candles, FEES)
    assert a.cycle_count >= 20 and a.grid_profit > 0
    # cash and coins recomputed from the fills alone
    quote, base = config.investment, D(0)
    for f in a.fills:
        if f.side is Side.BUY:
            quote -= f.qty * f.price
            base += f.qty - f.fee
        else:
            quote += f.qty * f.price - f.fee
            base -= f.qty
    assert (quote, base) == (a.quote_balance, a.base_balance)
    assert a.equity == quote + base * a.end_price == a.equity_curve[-1]
    assert a.total_pnl == a.equity - config.investment  # spot: the book's figure is the account's
    assert len(a.equity_curve) == DAY


def test_take_profit_by_price_stops_the_run_and_sells_the_base():
    candles = real(BTCUSDT_2021, MAY_1, DAY)  # BTC rose above 58,000 that day
    config = spot_config(
        lower="55000", upper="59000", n=20, investment="10000", take_profit_price="58000", on_stop="sell_base"
    )
    a, _ = both(config, spot_rules(), candles, FEES)
    assert a.stop is not None and (a.stop.kind, a.stop.code) == ("take_profit", "price")
    assert a.stop.price >= D(58000) and a.candles < DAY
    close = a.fills[-1]
    assert close.purpose == "close" and close.side is Side.SELL and close.price == a.stop.price
    assert a.base_balance < D("0.000001") and a.open_orders == []
    assert "58000" in a.stop.reason


def test_stop_loss_by_roi_closes_a_long_position():
    candles = real(BTCUSDT_2021, 1621382400000, DAY)  # 2021-05-19, the crash
    config = linear_config(
        lower="38000",
        upper="44000",
        n=12,
        investment="2000",
        leverage="3",
        direction="long",
        stop_loss_roi="5",
        on_stop="close_position",
    )
    a, _ = both(config, linear_rules(), candles, LINEAR_FEES)
    assert a.stop is not None and (a.stop.kind, a.stop.code) == ("stop_loss", "roi")
    assert a.base_balance == 0 and a.fills[-1].purpose == "close"
    assert a.total_pnl < -config.investment * D("0.05")


def test_the_start_trigger_launches_at_the_point_that_reaches_it():
    candles = real(BTCUSDT_2021, MAY_1, 240)
    config = spot_config(lower="56000", upper="59000", n=10, investment="5000", trigger_price="57500")
    a, _ = both(config, spot_rules(), candles, FEES)
    assert a.launched_at is not None and a.launched_at > candles[0].time
    assert a.equity_curve[0] == config.investment  # nothing happens before the launch
    never = spot_config(lower="56000", upper="59000", n=10, investment="5000", trigger_price="30000")
    b, _ = both(never, spot_rules(), candles, FEES)
    assert b.launched_at is None and b.fills == [] and b.total_pnl == 0


def test_the_nearer_extreme_comes_first_and_a_tie_goes_up_first():
    rules = spot_rules(tick="0.01", step="0.001", min_qty="0.001", min_notional="1")
    config = spot_config(lower="90", upper="110", n=4, investment="1000")  # lines 90 95 100 105 110
    up_first = [Candle(0, D(100), D(106), D(94), D(100))]  # 6 up, 6 down: a tie
    a, _ = both(config, rules, up_first, FeeRates(D(0), D(0)))
    grid = [(x.side, x.price) for x in a.fills if x.purpose == "grid"]
    # up to 106: the sell at 105 fills, its buy-back at 100 is placed; down to 94: 100 and 95
    # fill; back to the close at 100: the sell answering 95 fills
    assert grid == [(Side.SELL, D(105)), (Side.BUY, D(100)), (Side.BUY, D(95)), (Side.SELL, D(100))]


def test_amounts_beyond_the_kernels_integers_fall_back_to_the_reference():
    candles = real(BTCUSDT_2021, MAY_1, 60)
    config = spot_config(lower="55000", upper="59000", n=20, investment="900000000000")
    rules = spot_rules(max_qty="100000000")
    a = backtest(config, rules, candles, fees=FeeRates(D("0.00001"), D("0.00001")))
    assert a.engine == "reference" and a.fills


def test_sweep_rows_are_the_backtests_figures():
    candles = real(BTCUSDT_2021, MAY_1, DAY)
    rules = spot_rules()
    path = PricePath.from_candles(candles, rules.tick_size)
    configs = [
        spot_config(lower="55000", upper="59000", n=20, investment="10000"),
        spot_config(lower="56000", upper="58500", n=40, investment="8000", spacing="geometric"),
        spot_config(lower="55000", upper="59000", n=20, investment="10000", take_profit_pnl="5", on_stop="sell_base"),
        spot_config(lower="55000", upper="59000", n=200, investment="10"),  # below the minimum
        spot_config(lower="55000", upper="59000", n=20, investment="10000", trigger_price="30000"),
    ]
    rows = sweep(configs, rules, path, fees=FEES)
    assert [r.config for r in rows] == configs
    for row in rows[:3]:
        r = backtest(row.config, rules, path, fees=FEES)
        assert row.error == ""
        assert row.total_pnl == r.equity - r.investment == r.total_pnl
        assert row.equity == r.equity and row.fees_paid == r.fees_paid and row.fills == len(r.fills)
        assert row.grid_sells == sum(1 for f in r.fills if f.purpose == "grid" and f.side is Side.SELL)
        assert row.max_drawdown == r.max_drawdown and row.min_equity == min(r.equity_curve + [r.investment])
        assert row.stop == (f"{r.stop.kind}:{r.stop.code}" if r.stop else "")
    assert rows[2].stop == "take_profit:pnl"
    assert "investment" in rows[3].error.lower() or "minimum" in rows[3].error.lower()
    assert rows[4].error and rows[4].fills == 0


def test_linear_sweep_matches_backtests_in_every_direction():
    candles = real(BTC_PERP_2022, 1640995200000, DAY)
    rules = linear_rules()
    path = PricePath.from_candles(candles, rules.tick_size)
    configs = [
        linear_config(lower="45000", upper="49000", n=n, investment="3000", leverage="2", direction=d)
        for d in ("neutral", "long", "short")
        for n in (10, 30)
    ]
    for row in sweep(configs, rules, path, fees=LINEAR_FEES):
        r = backtest(row.config, rules, path, fees=LINEAR_FEES)
        assert row.error == "" and row.equity == r.equity and row.fills == len(r.fills) and row.fills > 5
        # the book's figure carries its 18-place average entry; the account's is exact
        assert abs(r.total_pnl - row.total_pnl) < D("1e-12")
