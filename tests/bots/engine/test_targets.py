from __future__ import annotations

from decimal import Decimal

from bots.engine import check_targets, trigger_reached

from .conftest import linear_config, spot_config

D = Decimal


def test_price_targets_and_stop_loss_first():
    c = spot_config(take_profit_price="70000", stop_loss_price="40000")
    assert check_targets(c, price=D(55000), total_pnl=D(0), invested=D(10000)) is None
    hit = check_targets(c, price=D(70000), total_pnl=D(10), invested=D(10000))
    assert hit.kind == "take_profit" and "70000" in hit.reason
    assert check_targets(c, price=D("39999.99"), total_pnl=D(0), invested=D(10000)).kind == "stop_loss"


def test_pnl_and_roi_targets():
    c = spot_config(take_profit_pnl="500", stop_loss_pnl="300", take_profit_roi="10", stop_loss_roi="2")
    assert check_targets(c, price=D(1), total_pnl=D(150), invested=D(10000)) is None
    assert check_targets(c, price=D(1), total_pnl=D(-150), invested=D(10000)) is None
    assert check_targets(c, price=D(1), total_pnl=D(-200), invested=D(10000)).code == "roi"  # -2%
    assert check_targets(c, price=D(1), total_pnl=D(-300), invested=D(100000)).code == "pnl"
    assert check_targets(c, price=D(1), total_pnl=D(500), invested=D(100000)).kind == "take_profit"
    assert check_targets(c, price=D(1), total_pnl=D(1000), invested=D(10000)).kind == "take_profit"


def test_short_grid_price_targets_are_mirrored():
    c = linear_config(direction="short", take_profit_price="12000", stop_loss_price="28000")
    assert check_targets(c, price=D(20000), total_pnl=D(0), invested=D(1)) is None
    assert check_targets(c, price=D(11000), total_pnl=D(0), invested=D(1)).kind == "take_profit"
    assert check_targets(c, price=D(28000), total_pnl=D(0), invested=D(1)).kind == "stop_loss"


def test_trigger_fires_when_the_price_touches_or_crosses_it():
    c = spot_config(trigger_price="50000")
    assert trigger_reached(spot_config(), price=D(1), previous_price=None)  # no trigger: start at once
    assert not trigger_reached(c, price=D(51000), previous_price=D(52000))
    assert trigger_reached(c, price=D(49000), previous_price=D(51000))  # crossed down
    assert trigger_reached(c, price=D(50500), previous_price=D(49500))  # crossed up
    assert trigger_reached(c, price=D(50000), previous_price=None)
    assert not trigger_reached(c, price=D(50001), previous_price=None)
