"""Configuration parsing and the JSON Schema: bad input gets a readable message per field."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bots.engine import ConfigError, Direction, GridConfig, OnStop, Spacing, Strategy
from bots.schemas import GRID_CONFIG_SCHEMA, validate_grid_config

D = Decimal
GOOD = {
    "strategy": "spot_grid",
    "lower_price": "45000",
    "upper_price": "65000",
    "grid_count": 5,
    "spacing": "geometric",
    "investment": "1000.50",
}


def errors_of(data) -> dict[str, str]:
    with pytest.raises(ConfigError) as exc:
        GridConfig.from_json(data)
    return exc.value.errors


def test_parses_strings_and_numbers_to_decimal_and_round_trips():
    c = GridConfig.from_json({**GOOD, "lower_price": 45000.1, "take_profit_price": "70000", "on_stop": "sell_base"})
    assert c.lower_price == D("45000.1")  # float through str(): no binary noise
    assert c.strategy is Strategy.SPOT_GRID and c.spacing is Spacing.GEOMETRIC
    assert c.direction is Direction.NEUTRAL and c.leverage == 1 and c.on_stop is OnStop.SELL_BASE
    data = c.to_json()
    assert data["lower_price"] == "45000.1" and data["investment"] == "1000.50" and data["grid_count"] == 5
    assert GridConfig.from_json(json.loads(json.dumps(data))) == c
    assert GridConfig.from_json({**GOOD, "investment": "1000.500000000000000000000"}).investment == D("1000.5")


@pytest.mark.parametrize(
    "change,field,words",
    [
        ({"lower_price": "NaN"}, "lower_price", "finite"),
        ({"upper_price": "Infinity"}, "upper_price", "finite"),
        ({"investment": "-5"}, "investment", "greater than zero"),
        ({"investment": "abc"}, "investment", "number"),
        ({"investment": True}, "investment", "number"),
        ({"lower_price": "70000"}, "upper_price", "above the lower"),
        ({"grid_count": 1}, "grid_count", "between 2 and 500"),
        ({"grid_count": 501}, "grid_count", "between 2 and 500"),
        ({"grid_count": 2.5}, "grid_count", "whole number"),
        ({"spacing": "log"}, "spacing", "arithmetic, geometric"),
        ({"leverage": "3"}, "leverage", "do not use leverage"),
        ({"direction": "long"}, "direction", "neutral"),
        ({"on_stop": "close_position"}, "on_stop", "keep or sell_base"),
        ({"take_profit_price": "40000", "stop_loss_price": "42000"}, "take_profit_price", "above the stop-loss"),
        ({"stop_loss_pnl": "0"}, "stop_loss_pnl", "greater than zero"),
        ({"colour": "red"}, "colour", "Unknown"),
        ({"investment": "1e999999"}, "investment", "too large"),
        ({"lower_price": "0.0000000000000000001"}, "lower_price", "decimal places"),
        ({"lower_price": "123456789012345.1234567890123456789"}, "lower_price", "decimal places"),
    ],
)
def test_rejects_bad_values_with_readable_messages(change, field, words):
    errs = errors_of({**GOOD, **change})
    assert field in errs and words in errs[field], errs


def test_missing_required_fields_are_all_reported():
    errs = errors_of({"spacing": "arithmetic"})
    assert set(errs) >= {"strategy", "lower_price", "upper_price", "grid_count", "investment"}
    assert all(m == "This setting is required." for k, m in errs.items() if k != "spacing")


def test_linear_rules():
    base = {**GOOD, "strategy": "linear_grid", "leverage": "10", "direction": "short", "on_stop": "close_position"}
    c = GridConfig.from_json(base)
    assert c.leverage == 10 and c.direction is Direction.SHORT
    assert "leverage" in errors_of({**base, "leverage": "0.5"})
    assert "leverage" in errors_of({**base, "leverage": "500"})
    assert "on_stop" in errors_of({**base, "on_stop": "sell_base"})
    # short: take profit below the stop loss
    assert GridConfig.from_json({**base, "take_profit_price": "40000", "stop_loss_price": "70000"})
    assert "take_profit_price" in errors_of({**base, "take_profit_price": "70000", "stop_loss_price": "40000"})


def test_schema_is_draft_2020_12_and_lists_the_contract_keys():
    assert GRID_CONFIG_SCHEMA["$schema"].endswith("2020-12/schema")
    keys = set(GRID_CONFIG_SCHEMA["properties"])
    assert keys == {
        "strategy",
        "lower_price",
        "upper_price",
        "grid_count",
        "spacing",
        "investment",
        "direction",
        "leverage",
        "trigger_price",
        "take_profit_price",
        "stop_loss_price",
        "take_profit_pnl",
        "stop_loss_pnl",
        "take_profit_roi",
        "stop_loss_roi",
        "on_stop",
    }


def test_validate_grid_config_runs_schema_then_semantics():
    assert validate_grid_config(GOOD).grid_count == 5
    with pytest.raises(ConfigError) as exc:
        validate_grid_config({**GOOD, "grid_count": "many", "investment": [1], "extra": 1})
    assert set(exc.value.errors) == {"grid_count", "investment", "extra"}
    with pytest.raises(ConfigError) as exc:  # shape fine, meaning wrong
        validate_grid_config({**GOOD, "lower_price": "90000"})
    assert "upper_price" in exc.value.errors
    with pytest.raises(ConfigError):
        validate_grid_config(["not", "an", "object"])
