"""Quantity per grid from the investment (grid-math §3.4, §3.6, §3.7).

Equal base quantity Q on every order. Spot: the buy lines need quote Q·p_i each, the sell lines
need base Q each, bought at launch with one market order of n_sell·Q/(1 - taker fee) so that
enough base remains after the fee. Linear: contracts per grid ≈ margin × leverage /
(Σ order prices × fee buffer). Q is rounded DOWN to the step and then lowered until what the
launch needs fits in the investment: a bot never needs more than the user put in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from exchanges.client import FeeRates, InstrumentRules

from .config import Direction, GridConfig
from .levels import grid_levels

# Allowance for the price moving against the launch market order (spot).
MARKET_SLIPPAGE = Decimal("0.002")
# Linear fee buffer (grid-math §3.4: "× 1.002"), at least twice the taker fee.
LINEAR_FEE_BUFFER = Decimal("0.002")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Sizing:
    qty_per_grid: Decimal
    buy_levels: tuple[int, ...]  # indices into `levels` that get a buy at launch
    sell_levels: tuple[int, ...]  # indices that get a sell at launch
    quote_needed: Decimal  # quote the launch reserves or spends (linear: margin)
    base_needed: Decimal  # base the user's account must already hold: 0 (the bot buys its own base)
    initial_base_qty: Decimal  # qty of the launch market order (0: none)
    min_investment: Decimal
    min_investment_rule: str  # "min_qty" | "min_notional": which exchange rule binds
    order_count: int  # limit orders of the ladder (+1 when there is an initial order)
    levels: tuple[Decimal, ...] = ()
    empty_level: int = 0  # the line nearest the price on the sell side: no order at launch
    min_qty_per_grid: Decimal = ZERO
    price: Decimal = ZERO

    @property
    def meets_minimums(self) -> bool:
        return self.qty_per_grid > 0 and self.qty_per_grid >= self.min_qty_per_grid


def split_levels(levels: Sequence[Decimal], price: Decimal) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
    """(buy indices, empty index, sell indices): buys strictly below the price, the first line at
    or above it stays empty (the one nearest the price on the sell side), sells above that.
    Above the whole range the top line is the empty one. Every interval gets exactly one order."""
    n = len(levels) - 1
    empty = next((i for i, p in enumerate(levels) if p >= price), n)
    return tuple(range(empty)), empty, tuple(range(empty + 1, n + 1))


def _fee_cap(fees: FeeRates) -> Decimal:
    return max(fees.maker, fees.taker, ZERO)


def size_grid(config: GridConfig, rules: InstrumentRules, *, price: Decimal, fees: FeeRates) -> Sizing:
    if price <= 0:
        raise ValueError("price must be positive")
    levels = grid_levels(config, rules)
    buys, empty, sells = split_levels(levels, price)
    if config.is_spot:
        return _size_spot(config, rules, levels, buys, empty, sells, price, fees)
    return _size_linear(config, rules, levels, buys, empty, sells, price, fees)


def _size_spot(config, rules, levels, buys, empty, sells, price, fees) -> Sizing:
    f_t = max(fees.taker, ZERO)
    f = _fee_cap(fees)
    sum_buy = sum((levels[i] for i in buys), ZERO)
    n_sell = len(sells)
    launch_price = price * (1 + MARKET_SLIPPAGE)

    def initial_qty(q: Decimal) -> Decimal:
        return rules.qty_up(n_sell * q / (1 - f_t)) if n_sell and q > 0 else ZERO

    def needed(q: Decimal) -> Decimal:
        return q * sum_buy + initial_qty(q) * launch_price

    per_unit = sum_buy + n_sell * launch_price / (1 - f_t)
    q = rules.qty_down(min(config.investment / per_unit, rules.max_qty))
    while q > 0 and needed(q) > config.investment:
        q = rules.qty_down(q - rules.qty_step)

    # Minimums (§3.6): the counter sell Q(1-f) must stay >= min_qty after rounding down; buys
    # can rest at the lowest line, counter sells at the second one.
    by_qty = rules.qty_up(rules.min_qty / (1 - f))
    by_notional_buy = rules.qty_up(rules.min_notional / levels[0])
    by_notional_sell = rules.qty_up(rules.qty_up(rules.min_notional / levels[1]) / (1 - f))
    by_notional = max(by_notional_buy, by_notional_sell)
    q_min = max(by_qty, by_notional, rules.qty_step)
    rule = "min_qty" if by_qty >= by_notional else "min_notional"
    count = len(buys) + len(sells) + (1 if n_sell and q > 0 else 0)
    return Sizing(
        qty_per_grid=q,
        buy_levels=buys,
        sell_levels=sells,
        quote_needed=needed(q),
        base_needed=ZERO,
        initial_base_qty=initial_qty(q),
        min_investment=needed(q_min),
        min_investment_rule=rule,
        order_count=count,
        levels=levels,
        empty_level=empty,
        min_qty_per_grid=q_min,
        price=price,
    )


def linear_exposure(config: GridConfig, levels, buys, sells, price: Decimal) -> Decimal:
    """Σ of order prices the margin must carry (initial position counted at the launch price)."""
    sum_buy = sum((levels[i] for i in buys), ZERO)
    sum_sell = sum((levels[i] for i in sells), ZERO)
    if config.direction == Direction.LONG:
        return sum_buy + len(sells) * price
    if config.direction == Direction.SHORT:
        return sum_sell + len(buys) * price
    return sum_buy + sum_sell


def _size_linear(config, rules, levels, buys, empty, sells, price, fees) -> Sizing:
    buffer = 1 + max(LINEAR_FEE_BUFFER, 2 * max(fees.taker, ZERO))
    exposure = linear_exposure(config, levels, buys, sells, price)

    def needed(q: Decimal) -> Decimal:
        return q * exposure * buffer / config.leverage

    q = rules.qty_down(min(config.investment * config.leverage / (exposure * buffer), rules.max_qty))
    while q > 0 and needed(q) > config.investment:  # guards against rounding surprises
        q = rules.qty_down(q - rules.qty_step)
    by_qty = rules.min_qty
    by_notional = rules.qty_up(rules.min_notional / levels[0])
    q_min = max(by_qty, by_notional, rules.qty_step)
    rule = "min_qty" if by_qty >= by_notional else "min_notional"
    if config.direction == Direction.LONG:
        initial = len(sells) * q
    elif config.direction == Direction.SHORT:
        initial = len(buys) * q
    else:
        initial = ZERO
    count = len(buys) + len(sells) + (1 if initial > 0 else 0)
    return Sizing(
        qty_per_grid=q,
        buy_levels=buys,
        sell_levels=sells,
        quote_needed=needed(q),
        base_needed=ZERO,
        initial_base_qty=initial,
        min_investment=needed(q_min),
        min_investment_rule=rule,
        order_count=count,
        levels=levels,
        empty_level=empty,
        min_qty_per_grid=q_min,
        price=price,
    )
