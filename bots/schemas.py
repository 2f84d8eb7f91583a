"""JSON Schema of a grid bot's configuration (docs/api-contract.md `config`).

`validate_grid_config(data)` checks the shape with the schema (types, allowed values, unknown
keys), then parses with GridConfig.from_json (ranges, lower < upper, spot vs linear rules).
Both raise bots.engine.ConfigError whose `.errors` maps field -> readable message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from bots.engine.config import MAX_GRIDS, MIN_GRIDS, ConfigError, GridConfig

_DECIMAL = {
    "description": 'A decimal number, preferably as a string ("0.001"); JSON numbers are accepted.',
    "anyOf": [
        {"type": "string", "pattern": r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"},
        {"type": "number"},
    ],
}
_OPT_DECIMAL = {"anyOf": [_DECIMAL, {"type": "null"}]}

GRID_CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://setka.example/schemas/grid-config.json",
    "title": "Grid bot configuration",
    "type": "object",
    "additionalProperties": False,
    "required": ["strategy", "lower_price", "upper_price", "grid_count", "investment"],
    "properties": {
        "strategy": {"enum": ["spot_grid", "linear_grid"]},
        "lower_price": _DECIMAL,
        "upper_price": _DECIMAL,
        "grid_count": {
            "description": "Number of grids (intervals); there are grid_count + 1 price lines.",
            "anyOf": [
                {"type": "integer", "minimum": MIN_GRIDS, "maximum": MAX_GRIDS},
                {"type": "string", "pattern": r"^\s*\d+\s*$"},
            ],
        },
        "spacing": {"enum": ["arithmetic", "geometric"], "default": "arithmetic"},
        "investment": _DECIMAL,
        "direction": {"enum": ["neutral", "long", "short"], "default": "neutral"},
        "leverage": _OPT_DECIMAL,
        "trigger_price": _OPT_DECIMAL,
        "take_profit_price": _OPT_DECIMAL,
        "stop_loss_price": _OPT_DECIMAL,
        "take_profit_pnl": _OPT_DECIMAL,
        "stop_loss_pnl": _OPT_DECIMAL,
        "take_profit_roi": _OPT_DECIMAL,
        "stop_loss_roi": _OPT_DECIMAL,
        "on_stop": {"enum": ["keep", "sell_base", "close_position"], "default": "keep"},
    },
}

_VALIDATOR = Draft202012Validator(GRID_CONFIG_SCHEMA)

_MESSAGES = {
    "required": "This setting is required.",
    "additionalProperties": "Unknown setting.",
    "enum": "Not an allowed value.",
    "type": "Wrong type.",
    "anyOf": 'Must be a number (a decimal string such as "0.5" or a JSON number).',
    "minimum": "Too small.",
    "maximum": "Too large.",
}


def schema_errors(data: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.path)):
        if err.validator == "required":
            missing = [k for k in GRID_CONFIG_SCHEMA["required"] if isinstance(data, Mapping) and k not in data]
            for key in missing:
                errors.setdefault(key, _MESSAGES["required"])
            continue
        if err.validator == "additionalProperties" and isinstance(data, Mapping):
            for key in data:
                if key not in GRID_CONFIG_SCHEMA["properties"]:
                    errors.setdefault(str(key), _MESSAGES["additionalProperties"])
            continue
        field = str(err.path[0]) if err.path else "config"
        message = _MESSAGES.get(str(err.validator), "Invalid value.")
        if err.validator == "enum":
            message = "Must be one of: " + ", ".join(map(str, err.validator_value)) + "."
        if field == "grid_count" and err.validator == "anyOf":
            message = f"Number of grids must be a whole number between {MIN_GRIDS} and {MAX_GRIDS}."
        errors.setdefault(field, message)
    return errors


def validate_grid_config(data: Any) -> GridConfig:
    """The typed configuration, or ConfigError with every problem found."""
    if not isinstance(data, Mapping):
        raise ConfigError("The configuration must be a JSON object.")
    errors = schema_errors(data)
    if errors:
        raise ConfigError(errors=errors)
    return GridConfig.from_json(data)
