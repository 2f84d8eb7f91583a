"""Every symbol the simulator offers for paper trading has a real price feed that moves
(LTCUSDT was listed but never replayed: its price stood still)."""

from __future__ import annotations

import argparse

from exchanges.simulator import feed
from exchanges.simulator.instruments import SYMBOLS
from exchanges.simulator.server import add_arguments
from exchanges.simulator.testing import running_simulator


def test_each_listed_symbol_has_candles_and_is_replayed_by_default():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    replayed = parser.parse_args([]).replay.split(",")
    assert sorted(replayed) == sorted(SYMBOLS)
    for symbol in SYMBOLS:
        candles = feed.load_candles(str(feed.default_csv(symbol)))
        assert len(candles) > 1000, symbol
        assert len({c.close for c in candles[:200]}) > 10, f"{symbol}: a flat feed"


def test_ltc_price_moves_on_both_markets():
    with running_simulator(replay=["LTCUSDT"], speed=0) as sim:
        seen = {sim.control.price("LTCUSDT")}
        for _ in range(5):
            sim.control.advance("LTCUSDT", 3)
            seen.add(sim.control.price("LTCUSDT"))
        assert len(seen) >= 3
        prices = sim.control.price("LTCUSDT", category="linear")
        assert 50 < prices < 500  # LTC/USD of April 2018, ~120
