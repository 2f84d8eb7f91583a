"""Grid price lines (grid-math §3.2): N+1 lines from the lower to the upper price."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext

from exchanges.client import InstrumentRules

from .config import ConfigError, GridConfig, Spacing

DUPLICATED = "grid price duplicated: reduce the number of grids or widen the range"


def raw_levels(config: GridConfig) -> list[Decimal]:
    """The exact (unrounded) lines p_0 = lower ... p_N = upper."""
    n = config.grid_count
    lo, hi = config.lower_price, config.upper_price
    with localcontext() as ctx:
        ctx.prec = 34
        if config.spacing == Spacing.GEOMETRIC:
            ratio = (hi / lo) ** (Decimal(1) / Decimal(n))
            out = [lo * ratio**i for i in range(n + 1)]
        else:
            step = (hi - lo) / Decimal(n)
            out = [lo + step * i for i in range(n + 1)]
    out[0], out[-1] = lo, hi
    return out


def grid_levels(config: GridConfig, rules: InstrumentRules) -> tuple[Decimal, ...]:
    """N+1 lines rounded to the tick, strictly increasing and inside [lower, upper].

    The end lines round inwards (lower up, upper down) so no line leaves the range; inner lines
    round to the nearest tick. Raises ConfigError when two lines land on the same tick."""
    raw = raw_levels(config)
    tick_rule = rules.round_price
    out: list[Decimal] = []
    last = len(raw) - 1
    for i, p in enumerate(raw):
        if i == 0:
            q = tick_rule(p, ROUND_CEILING)
        elif i == last:
            q = tick_rule(p, ROUND_FLOOR)
        else:
            q = tick_rule(p, ROUND_HALF_EVEN)
        if q <= 0 or (out and q <= out[-1]):
            raise ConfigError(DUPLICATED, field="grid_count")
        out.append(q)
    return tuple(out)
