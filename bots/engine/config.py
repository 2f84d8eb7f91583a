"""Bot configuration: the enums, the frozen GridConfig and its JSON parsing.

`GridConfig.from_json` is the one place that turns user JSON into typed values. It collects
every problem into `ConfigError.errors` (field -> plain-English message) instead of stopping
at the first, so a form can show them all at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

MIN_GRIDS = 2
MAX_GRIDS = 500
MAX_LEVERAGE = Decimal(100)
# Beyond these a value is a typo (or an attack on Decimal arithmetic), and the database keeps
# 18 decimal places (DecimalField(38, 18)).
MAX_VALUE = Decimal(10) ** 15
MAX_PLACES = 18


class ConfigError(ValueError):
    """A configuration the engine refuses. `errors` maps a field name (or "config") to a
    readable message; `str(error)` joins them."""

    def __init__(self, message: str | None = None, *, errors: Mapping[str, str] | None = None, field: str = "config"):
        self.errors: dict[str, str] = dict(errors or {})
        if message is not None and not self.errors:
            self.errors[field] = message
        super().__init__(message or "; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class Strategy(StrEnum):
    SPOT_GRID = "spot_grid"
    LINEAR_GRID = "linear_grid"


class Spacing(StrEnum):
    ARITHMETIC = "arithmetic"
    GEOMETRIC = "geometric"


class Direction(StrEnum):
    NEUTRAL = "neutral"
    LONG = "long"
    SHORT = "short"


class OnStop(StrEnum):
    KEEP = "keep"
    SELL_BASE = "sell_base"
    CLOSE_POSITION = "close_position"


_DECIMAL_FIELDS = (
    "lower_price",
    "upper_price",
    "investment",
    "leverage",
    "trigger_price",
    "take_profit_price",
    "stop_loss_price",
    "take_profit_pnl",
    "stop_loss_pnl",
    "take_profit_roi",
    "stop_loss_roi",
)
_OPTIONAL_POSITIVE = (
    "trigger_price",
    "take_profit_price",
    "stop_loss_price",
    "take_profit_pnl",
    "stop_loss_pnl",
    "take_profit_roi",
    "stop_loss_roi",
)
_LABELS = {
    "lower_price": "Lower price",
    "upper_price": "Upper price",
    "investment": "Investment",
    "leverage": "Leverage",
    "trigger_price": "Trigger price",
    "take_profit_price": "Take-profit price",
    "stop_loss_price": "Stop-loss price",
    "take_profit_pnl": "Take-profit amount",
    "stop_loss_pnl": "Stop-loss amount",
    "take_profit_roi": "Take-profit percentage",
    "stop_loss_roi": "Stop-loss percentage",
    "grid_count": "Number of grids",
}


@dataclass(frozen=True)
class GridConfig:
    strategy: Strategy
    lower_price: Decimal
    upper_price: Decimal
    grid_count: int  # number of INTERVALS; there are grid_count + 1 price lines
    spacing: Spacing
    investment: Decimal  # quote (USDT); for linear grids: the margin
    direction: Direction = Direction.NEUTRAL
    leverage: Decimal = Decimal(1)
    trigger_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    stop_loss_price: Decimal | None = None
    take_profit_pnl: Decimal | None = None
    stop_loss_pnl: Decimal | None = None  # a positive USDT loss
    take_profit_roi: Decimal | None = None  # percent, positive
    stop_loss_roi: Decimal | None = None  # percent, positive
    on_stop: OnStop = OnStop.KEEP

    @property
    def is_spot(self) -> bool:
        return self.strategy == Strategy.SPOT_GRID

    @property
    def is_linear(self) -> bool:
        return self.strategy == Strategy.LINEAR_GRID

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GridConfig:
        if not isinstance(data, Mapping):
            raise ConfigError("The configuration must be a JSON object.")
        errors: dict[str, str] = {}
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                errors[str(key)] = "Unknown setting."

        def enum(name: str, enum_cls: type[StrEnum], default: StrEnum | None):
            raw = data.get(name)
            if raw is None:
                if default is None:
                    errors[name] = "This setting is required."
                return default
            try:
                return enum_cls(raw)
            except ValueError:
                allowed = ", ".join(m.value for m in enum_cls)
                errors[name] = f"Must be one of: {allowed}."
                return default

        strategy = enum("strategy", Strategy, None)
        spacing = enum("spacing", Spacing, Spacing.ARITHMETIC)
        direction = enum("direction", Direction, Direction.NEUTRAL)
        on_stop = enum("on_stop", OnStop, OnStop.KEEP)

        values: dict[str, Decimal | None] = {}
        for name in _DECIMAL_FIELDS:
            raw = data.get(name)
            if raw is None:
                values[name] = None
                continue
            try:
                values[name] = parse_decimal(raw)
            except ValueError as exc:
                errors[name] = f"{_LABELS[name]} {exc}."
                values[name] = None

        for name in ("lower_price", "upper_price", "investment"):
            if name not in errors and values[name] is None:
                errors[name] = "This setting is required."
        for name in ("lower_price", "upper_price", "investment", *_OPTIONAL_POSITIVE):
            v = values[name]
            if v is not None and name not in errors and v <= 0:
                errors[name] = f"{_LABELS[name]} must be greater than zero."

        grid_count = _parse_grid_count(data.get("grid_count"), errors)

        lower, upper = values["lower_price"], values["upper_price"]
        if lower is not None and upper is not None and "lower_price" not in errors and "upper_price" not in errors:
            if lower >= upper:
                errors["upper_price"] = "The upper price must be above the lower price."

        leverage = values["leverage"]
        if leverage is None and "leverage" not in errors:
            leverage = Decimal(1)
        if leverage is not None and "leverage" not in errors:
            if leverage < 1:
                errors["leverage"] = "Leverage must be at least 1."
            elif leverage > MAX_LEVERAGE:
                errors["leverage"] = f"Leverage must be at most {MAX_LEVERAGE}."
        if strategy == Strategy.SPOT_GRID:
            if leverage is not None and leverage != 1 and "leverage" not in errors:
                errors["leverage"] = "Spot grids do not use leverage: leave it at 1."
            if direction != Direction.NEUTRAL and "direction" not in errors:
                errors["direction"] = "Spot grids have no direction: use neutral."
            if on_stop == OnStop.CLOSE_POSITION:
                errors["on_stop"] = "Spot grids hold coins, not positions: use keep or sell_base."
        elif strategy == Strategy.LINEAR_GRID and on_stop == OnStop.SELL_BASE:
            errors["on_stop"] = "Futures grids hold a position: use keep or close_position."

        tp, sl = values["take_profit_price"], values["stop_loss_price"]
        if tp is not None and sl is not None and "take_profit_price" not in errors and "stop_loss_price" not in errors:
            if direction == Direction.SHORT and tp >= sl:
                errors["take_profit_price"] = (
                    "For a short grid the take-profit price must be below the stop-loss price."
                )
            elif direction != Direction.SHORT and tp <= sl:
                errors["take_profit_price"] = "The take-profit price must be above the stop-loss price."
        for name in ("stop_loss_roi",):
            v = values[name]
            if v is not None and name not in errors and v >= 100 and strategy == Strategy.SPOT_GRID:
                errors[name] = "A spot grid cannot lose 100% or more: use a smaller percentage."

        if errors:
            raise ConfigError(errors=errors)
        investment = values["investment"]
        # without errors every required value was parsed
        assert lower is not None and upper is not None and investment is not None and leverage is not None
        return cls(
            strategy=strategy,
            lower_price=lower,
            upper_price=upper,
            grid_count=grid_count,
            spacing=spacing,
            investment=investment,
            direction=direction,
            leverage=leverage,
            trigger_price=values["trigger_price"],
            take_profit_price=tp,
            stop_loss_price=sl,
            take_profit_pnl=values["take_profit_pnl"],
            stop_loss_pnl=values["stop_loss_pnl"],
            take_profit_roi=values["take_profit_roi"],
            stop_loss_roi=values["stop_loss_roi"],
            on_stop=on_stop,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, StrEnum):
                out[f.name] = v.value
            elif isinstance(v, Decimal):
                out[f.name] = _decimal_str(v)
            else:
                out[f.name] = v
        return out


def _decimal_str(v: Decimal) -> str:
    """Plain notation without exponent ("0.00001", never "1E-5")."""
    s = format(v, "f")
    return s


def parse_decimal(raw: Any) -> Decimal:
    """Decimal from a JSON string or number. Floats go through str() so 0.1 stays 0.1.
    Raises ValueError with the tail of a readable message ("must be a number")."""
    if isinstance(raw, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(str(raw))
    elif isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise ValueError("must be a number")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError("must be a number") from None
    else:
        raise ValueError("must be a number")
    if not value.is_finite():
        raise ValueError("must be a finite number")
    # Only context-free operations from here: abs(), normalize() and arithmetic round to the
    # context, and "1e999999999" overflows it (decimal.Overflow, a 500) while "1e-999999999"
    # underflows to zero and slips through as a price.
    if value.copy_abs() > MAX_VALUE:
        raise ValueError("is too large")
    if not value:
        return Decimal(0)  # "0E-999999999" would print as a billion zeros
    if _decimal_places(value) > MAX_PLACES:
        raise ValueError(f"has more than {MAX_PLACES} decimal places")
    return value


def _decimal_places(value: Decimal) -> int:
    """Digits after the point once trailing zeros are dropped ("1.500" -> 1, "1E-20" -> 20)."""
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing))


def _parse_grid_count(raw: Any, errors: dict[str, str]) -> int:
    name = "grid_count"
    if raw is None:
        errors[name] = "This setting is required."
        return 0
    value: int | None = None
    if isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, Decimal) and raw.is_finite() and (raw.adjusted() >= 6 or _decimal_places(raw) == 0):
        value = int(raw) if raw.adjusted() < 6 else MAX_GRIDS + 1  # a huge JSON integer (config/parsers.py)
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        text = raw.strip().lstrip("0") or "0"
        value = int(text) if len(text) <= 6 else MAX_GRIDS + 1  # 5,000 digits: int() refuses (ValueError)
    if value is None:
        errors[name] = "Number of grids must be a whole number."
        return 0
    if not MIN_GRIDS <= value <= MAX_GRIDS:
        errors[name] = f"Number of grids must be between {MIN_GRIDS} and {MAX_GRIDS}."
    return value
