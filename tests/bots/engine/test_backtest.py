"""Backtests over real candles (/work/shared/data) with hand-checkable accounting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.engine import Candle, backtest, parse_client_order_id
from exchanges.client import FeeRates, Side

from .conftest import FEES, LINEAR_FEES, linear_config, linear_rules, load_candles, spot_config, spot_rules

D = Decimal
BTC = "binance_spot_BTCUSDT_1m_2021-04-20_2021-05-20.csv"
MAY_1 = 1619827200000  # 2021-05-01 00:00 UTC
MAY_19 = 1621382400000  # 2021-05-19 00:00 UTC: the crash day
TOL = D("1e-12")


def ledger(result, investment: Decimal, spot: bool = True):
    """Balances recomputed from the fills alone, independently of the backtest's own books."""
    quote, base = investment, D(0)
    for f in result.fills:
        if spot:
            if f.side is Side.BUY:
                quote -= f.qty * f.price
                base += f.qty - f.fee  # fee in base
            else:
                quote += f.qty * f.price - f.fee
                base -= f.qty
            assert base >= -TOL, "sold coins the bot did not have"
        else:
            sign = 1 if f.side is Side.BUY else -1
            quote -= sign * f.qty * f.price + f.fee
            base += sign * f.qty
    return quote, base


def test_one_real_day_profit_is_the_sum_of_per_grid_net_profits():
    candles = load_candles(BTC, start_ms=MAY_1, count=1440)
    assert len(candles) == 1440 and candles[0].time == MAY_1 // 1000
    config = spot_config(lower="55000", upper="59000", n=20, investment="10000")
    # max_qty caps Q at 0.008 so that Q(1 - 0.1%) = 0.007992 lies on the 0.000001 step: every
    # counter sell is then exactly Q(1 - f) and each cycle earns exactly grid-math's π_i.
    rules = spot_rules(step="0.000001", max_qty="0.008")
    result = backtest(config, rules, candles, fees=FEES)
    q = result.sizing.qty_per_grid
    assert q == D("0.008")
    levels = result.sizing.levels
    f = FEES.maker

    assert result.cycle_count >= 20  # BTC swung 56,956-58,458 that day across 200-USDT grids
    expected_total = D(0)
    for c in result.cycles:
        lo, hi = levels[c.interval], levels[c.interval + 1]
        pi = q * (1 - f) * hi * (1 - f) - q * lo  # grid-math §3.5, by hand
        assert c.qty == q * (1 - f)
        assert abs(c.profit - pi) < TOL
        expected_total += pi
    assert abs(result.grid_profit - expected_total) < TOL
    assert result.grid_profit > 0

    # a cycle is a sell answering a buy one line lower; the ladder's own sells are not cycles
    counter_sells = [
        x for x in result.fills if x.side is Side.SELL and parse_client_order_id(x.client_order_id).seq > 0
    ]
    assert len(counter_sells) == result.cycle_count
    assert sum((c.profit for c in result.cycles), D(0)) == result.grid_profit
    assert sum((x.realized for x in result.fills), D(0)) == result.realized_pnl

    # the books balance: equity = investment + grid profit + inventory PnL + unrealised PnL
    quote, base = ledger(result, config.investment)
    assert quote == result.quote_balance and base == result.base_balance
    assert result.equity == quote + base * candles[-1].close
    assert (
        abs(result.equity - config.investment - result.grid_profit - result.inventory_pnl - result.unrealized_pnl) < TOL
    )
    # one order per interval at the end of the day
    assert len(result.open_orders) == 20


def test_crash_day_below_the_range_holds_base_and_never_oversells():
    candles = load_candles(BTC, start_ms=MAY_19, count=1440)
    config = spot_config(lower="38000", upper="44000", n=12, investment="5000")
    result = backtest(config, spot_rules(), candles, fees=FEES)
    assert min(c.low for c in candles) < D(38000)  # 30,000 at 13:10 UTC
    quote, base = ledger(result, config.investment)
    assert quote >= -TOL and base >= 0
    assert (
        abs(result.equity - config.investment - result.grid_profit - result.inventory_pnl - result.unrealized_pnl) < TOL
    )
    assert result.cycle_count > 0


@pytest.mark.parametrize("direction", ["neutral", "long", "short"])
def test_linear_backtest_books_balance(direction):
    candles = load_candles(BTC, start_ms=MAY_1, count=720)
    config = linear_config(lower="56000", upper="59000", n=15, investment="1000", leverage="5", direction=direction)
    result = backtest(config, linear_rules(), candles, fees=LINEAR_FEES)
    cash, position = ledger(result, config.investment, spot=False)
    assert position == result.base_balance
    assert abs(result.equity - (cash + position * candles[-1].close)) < TOL
    assert (
        abs(result.equity - config.investment - result.grid_profit - result.inventory_pnl - result.unrealized_pnl) < TOL
    )
    assert result.cycle_count > 0
    # a linear cycle is the book's: a grid fill that closes part of the position (average entry)
    assert sum((c.profit for c in result.cycles), D(0)) == result.grid_profit
    assert all(f.purpose == "grid" for f in result.fills if f.realized and f.purpose != "initial")


def test_candle_path_visits_the_nearer_extreme_first():
    """Open 100, high 101 (near), low 90: the sell at 101 fills before the buy at 90, so the
    buy-back at 100 is placed and then filled on the way down to 90."""
    config = spot_config(lower="90", upper="110", n=4, investment="1000")  # lines 90 95 100 105 110
    rules = spot_rules(tick="0.01", step="0.001", min_qty="0.001", min_notional="1")
    up_first = [Candle(0, D(100), D(106), D(89), D(100))]
    result = backtest(config, rules, up_first, fees=FeeRates(D(0), D(0)))
    sides = [(x.side, x.price) for x in result.fills if x.purpose == "grid"]
    assert sides[:2] == [(Side.SELL, D(105)), (Side.BUY, D(100))]


def test_backtest_needs_candles():
    with pytest.raises(ValueError):
        backtest(spot_config(), spot_rules(), [], fees=FEES)
