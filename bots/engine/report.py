"""The pre-launch report: what the bot will do, what it costs, what can go wrong.

Everything a user confirms before starting a bot (docs/api-contract.md `report`). Warnings carry
a plain-English message for people who are not traders; `blocking` ones stop the launch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Any

from exchanges.client import FeeRates, InstrumentRules

from .candles import Candle
from .config import Direction, GridConfig
from .sizing import Sizing, size_grid
from .targets import check_targets

ZERO = Decimal(0)
HUNDRED = Decimal(100)
MAX_OPEN_ORDERS = 500  # Bybit's cap on open orders per symbol
DEFAULT_MMR = Decimal("0.005")
LIQUIDATION_NEAR = Decimal("0.05")  # within 5% outside the range counts as "near"


def _s(v: Any) -> Any:
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dict):
        return {k: _s(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_s(x) for x in v]
    return v


PCT = Decimal("0.0001")
MONEY = Decimal("0.00000001")


def _q(v: Decimal | None, exp: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal | None:
    return None if v is None else v.quantize(exp, rounding=rounding)


def _money(v: Decimal) -> str:
    return f"{v:,.2f}"


def _pct(v: Decimal) -> str:
    return f"{v:.2f}%"


@dataclass(frozen=True)
class RiskWarning:
    code: str
    severity: str  # "info" | "warning" | "danger"
    message: str
    params: dict = field(default_factory=dict)
    blocking: bool = False

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "params": _s(self.params),
            "blocking": self.blocking,
        }


@dataclass(frozen=True)
class GridProfit:
    """Profit of one completed cycle on one interval (buy at p_i, sell at p_i+1)."""

    level: int  # interval index i
    gross_percent: Decimal
    net_percent: Decimal  # after maker fees on both legs
    gross: Decimal  # quote
    net: Decimal  # quote

    def to_json(self) -> dict:
        """{"gross", "net"}: percent of the buy notional (docs/api-contract.md "gross/net %");
        {"gross_quote", "net_quote"}: the same in quote per completed cycle."""
        return _s(
            {
                "level": self.level,
                "gross": _q(self.gross_percent, PCT),
                "net": _q(self.net_percent, PCT),
                "gross_quote": _q(self.gross, MONEY),
                "net_quote": _q(self.net, MONEY),
            }
        )


def grid_profit(config: GridConfig, levels: Sequence[Decimal], i: int, qty: Decimal, fee: Decimal) -> GridProfit:
    """grid-math §3.5. Spot (fee in the received asset): Q(1-f)·p_i+1·(1-f) - Q·p_i.
    Linear: Q·(p_i+1 - p_i) - Q·f·(p_i + p_i+1). Percentages are of the buy notional."""
    lo, hi = levels[i], levels[i + 1]
    gross_pct = (hi / lo - 1) * HUNDRED
    if config.is_spot:
        net_pct = ((hi / lo) * (1 - fee) * (1 - fee) - 1) * HUNDRED
        net = qty * (1 - fee) * hi * (1 - fee) - qty * lo
    else:
        net_pct = (hi / lo - 1 - fee * (1 + hi / lo)) * HUNDRED
        net = qty * (hi - lo) - qty * fee * (lo + hi)
    return GridProfit(i, gross_pct, net_pct, qty * (hi - lo), net)


@dataclass(frozen=True)
class LaunchReport:
    levels: tuple[Decimal, ...]
    qty_per_grid: Decimal
    profit_per_grid_min: GridProfit
    profit_per_grid_max: GridProfit
    profit_per_cycle: Decimal  # average net profit of one completed cycle, quote
    quote_needed: Decimal
    base_needed: Decimal
    min_investment: Decimal
    min_investment_rule: str
    balance_ok: bool | None  # None when balances were not given
    break_even_price: Decimal | None
    below_range: dict
    above_range: dict
    liquidation_price: Decimal | None
    warnings: list[RiskWarning]
    blocking: bool
    price: Decimal = ZERO
    initial_base_qty: Decimal = ZERO
    order_count: int = 0
    buy_levels: tuple[int, ...] = ()
    sell_levels: tuple[int, ...] = ()
    liquidation_price_up: Decimal | None = None  # neutral linear grids: the short side
    # Both sides by name (a neutral grid can be liquidated either way): the long position's
    # (price falls) and the short position's (price rises); None where that side cannot exist.
    liquidation_price_long: Decimal | None = None
    liquidation_price_short: Decimal | None = None

    def to_json(self) -> dict:
        out = {
            "levels": _s(list(self.levels)),
            "qty_per_grid": _s(self.qty_per_grid),
            "profit_per_grid_min": self.profit_per_grid_min.to_json(),
            "profit_per_grid_max": self.profit_per_grid_max.to_json(),
            "profit_per_cycle": _s(_q(self.profit_per_cycle, MONEY)),
            "quote_needed": _s(_q(self.quote_needed, MONEY, ROUND_CEILING)),
            "base_needed": _s(self.base_needed),
            "min_investment": _s(_q(self.min_investment, Decimal("0.01"), ROUND_CEILING)),
            "min_investment_rule": self.min_investment_rule,
            "balance_ok": self.balance_ok,
            "break_even_price": _s(self.break_even_price),
            "below_range": _s(self.below_range),
            "above_range": _s(self.above_range),
            "liquidation_price": _s(self.liquidation_price),
            "liquidation_price_up": _s(self.liquidation_price_up),
            "liquidation_price_long": _s(self.liquidation_price_long),
            "liquidation_price_short": _s(self.liquidation_price_short),
            "warnings": [w.to_json() for w in self.warnings],
            "blocking": self.blocking,
            "price": _s(self.price),
            "initial_base_qty": _s(self.initial_base_qty),
            "order_count": self.order_count,
            "buy_levels": list(self.buy_levels),
            "sell_levels": list(self.sell_levels),
        }
        return out


def _round(v: Decimal | None, places: str = "0.00000001") -> Decimal | None:
    return None if v is None else v.quantize(Decimal(places))


def build_report(
    config: GridConfig,
    rules: InstrumentRules,
    *,
    price: Decimal,
    fees: FeeRates,
    balances: Mapping[str, Decimal] | None = None,
    candles: Sequence[Candle] | None = None,
    mmr: Decimal = DEFAULT_MMR,
    sizing: Sizing | None = None,
) -> LaunchReport:
    """Raises ConfigError only when no grid can be drawn (duplicated lines); every other
    problem becomes a warning so the user sees all of them at once."""
    sz = sizing or size_grid(config, rules, price=price, fees=fees)
    levels = sz.levels
    q = sz.qty_per_grid
    n = len(levels) - 1
    fee = fees.maker
    profits = [grid_profit(config, levels, i, q, fee) for i in range(n)]
    pmin = min(profits, key=lambda g: (g.net_percent, g.level))
    pmax = max(profits, key=lambda g: (g.net_percent, -g.level))
    per_cycle = sum((g.net for g in profits), ZERO) / n
    warnings: list[RiskWarning] = []
    quote, base = rules.quote_coin, rules.base_coin
    lo_p, hi_p = levels[0], levels[-1]
    buys = [levels[i] for i in sz.buy_levels]
    sells = [levels[i] for i in sz.sell_levels]

    # --- what happens outside the range -------------------------------------------------
    liq = liq_up = None
    break_even = None
    if config.is_spot:
        init_cost = sz.initial_base_qty * price
        base0 = sz.initial_base_qty * (1 - fees.taker)
        if base0 > 0:
            break_even = init_cost / base0
        quote_left = config.investment - init_cost - sum((q * p for p in buys), ZERO)
        base_low = base0 + q * (1 - fee) * len(buys)
        value_low = quote_left + base_low * lo_p
        loss = config.investment - value_low
        below = {
            "price": lo_p,
            "base_qty": _round(base_low),
            "quote": _round(quote_left, "0.01"),
            "value": _round(value_low, "0.01"),
            "loss": _round(loss, "0.01"),
            "loss_percent": _round(loss / config.investment * HUNDRED, "0.01"),
            "message": (
                f"If the price falls below {_money(lo_p)}, every buy order has filled: the bot holds about "
                f"{_round(base_low)} {base} and has no {quote} left to buy with. At {_money(lo_p)} that is worth "
                f"{_money(value_low)} {quote}, {_money(loss)} less than you put in (before grid profits). "
                "The bot keeps waiting for the price to come back into the range."
            ),
        }
        quote_high = config.investment - init_cost + sum((q * p * (1 - fee) for p in sells), ZERO)
        base_high = base0 - q * len(sells)
        value_high = quote_high + base_high * hi_p
        above = {
            "price": hi_p,
            "base_qty": _round(base_high),
            "quote": _round(quote_high, "0.01"),
            "value": _round(value_high, "0.01"),
            "gain": _round(value_high - config.investment, "0.01"),
            "message": (
                f"If the price rises above {_money(hi_p)}, every sell order has filled: the bot holds only {quote} "
                f"(about {_money(value_high)}) and misses any further rise. It waits for the price to come back."
            ),
        }
    else:
        lev = config.leverage
        init = sz.initial_base_qty
        trades_low: list[tuple[Decimal, Decimal]] = []  # (signed qty, price)
        trades_high: list[tuple[Decimal, Decimal]] = []
        if config.direction == Direction.LONG and init > 0:
            trades_low.append((init, price))
            trades_high.append((init, price))
            break_even = price * (1 + fees.taker)
        elif config.direction == Direction.SHORT and init > 0:
            trades_low.append((-init, price))
            trades_high.append((-init, price))
            break_even = price * (1 - fees.taker)
        trades_low += [(q, p) for p in buys]
        trades_high += [(-q, p) for p in sells]

        def outcome(trades, at):
            pos = sum((t for t, _ in trades), ZERO)
            pnl = sum((t * (at - p) for t, p in trades), ZERO)
            cost = sum((t * p for t, p in trades), ZERO)
            return pos, pnl, cost

        pos_l, pnl_l, cost_l = outcome(trades_low, lo_p)
        pos_h, pnl_h, cost_h = outcome(trades_high, hi_p)
        m = config.investment
        if pos_l > 0:
            entry = cost_l / pos_l
            v = (pos_l * entry - m) / (pos_l * (1 - mmr))
            liq = _round(v, "0.01") if v > 0 else None
        if pos_h < 0:
            qs = -pos_h
            entry = -cost_h / qs
            liq_up = _round((qs * entry + m) / (qs * (1 + mmr)), "0.01")
        below = {
            "price": lo_p,
            "position": _round(pos_l),
            "pnl": _round(pnl_l, "0.01"),
            "message": (
                f"If the price falls below {_money(lo_p)}, every buy order has filled: the bot holds a "
                f"{'long' if pos_l > 0 else 'flat'} position of {_round(abs(pos_l))} {base} "
                f"({'a loss' if pnl_l < 0 else 'a gain'} of {_money(abs(pnl_l))} {quote} at {_money(lo_p)}, with "
                f"{lev}x leverage). It keeps the position until the price returns."
            ),
        }
        above = {
            "price": hi_p,
            "position": _round(pos_h),
            "pnl": _round(pnl_h, "0.01"),
            "message": (
                f"If the price rises above {_money(hi_p)}, every sell order has filled: the bot holds a "
                f"{'short' if pos_h < 0 else 'flat'} position of {_round(abs(pos_h))} {base} "
                f"({'a loss' if pnl_h < 0 else 'a gain'} of {_money(abs(pnl_h))} {quote} at {_money(hi_p)})."
            ),
        }
        if config.direction == Direction.SHORT:
            liq, liq_up = liq_up, None
            main_liq_up = True
        else:
            main_liq_up = False
        for value, up in ((liq, main_liq_up), (liq_up, True)):
            if value is None:
                continue
            if up:
                inside, near = value <= hi_p, value <= hi_p * (1 + LIQUIDATION_NEAR)
            else:
                inside, near = value >= lo_p, value >= lo_p * (1 - LIQUIDATION_NEAR)
            if inside or near:
                where = "inside your price range" if inside else "close to your price range"
                warnings.append(
                    RiskWarning(
                        "liquidation_inside_range" if inside else "liquidation_near",
                        "danger" if inside else "warning",
                        f"If every order fills, the exchange would close your position by force (liquidation) "
                        f"at about {_money(value)}, {where}. You would lose the margin. Lower the leverage, "
                        "narrow the range or invest more margin.",
                        {"liquidation_price": value, "lower_price": lo_p, "upper_price": hi_p},
                    )
                )
        if lev > 20:
            warnings.append(
                RiskWarning(
                    "high_leverage",
                    "warning",
                    f"Leverage {lev}x multiplies both gains and losses: a move of {_pct(HUNDRED / lev)} against "
                    "you can wipe out the margin.",
                    {"leverage": lev},
                )
            )

    # --- warnings ---------------------------------------------------------------------
    if not sz.meets_minimums or config.investment < sz.min_investment:
        rule_text = (
            "the smallest quantity the exchange accepts per order"
            if sz.min_investment_rule == "min_qty"
            else "the smallest order value the exchange accepts"
        )
        warnings.append(
            RiskWarning(
                "investment_below_minimum",
                "danger",
                f"The investment is too small for {n} grids: each order would be below {rule_text}. "
                f"Invest at least {_money(sz.min_investment)} {quote} or use fewer grids.",
                {"min_investment": _round(sz.min_investment, "0.01"), "rule": sz.min_investment_rule},
                blocking=True,
            )
        )
    if pmin.net_percent <= 0:
        warnings.append(
            RiskWarning(
                "fee_exceeds_profit",
                "danger",
                f"The grids are so close together that fees eat the profit: the narrowest grid earns "
                f"{_pct(pmin.net_percent)} after fees. Use fewer grids or a wider range.",
                {"net_percent": _round(pmin.net_percent, "0.0001"), "fee_rate": fee},
                blocking=True,
            )
        )
    elif pmin.net_percent < 2 * fees.taker * HUNDRED:
        warnings.append(
            RiskWarning(
                "low_profit_per_grid",
                "warning",
                f"The narrowest grid earns only {_pct(pmin.net_percent)} per cycle after fees, less than twice "
                f"the trading fee. Small price noise or a taker fee can turn a cycle into a loss.",
                {"net_percent": _round(pmin.net_percent, "0.0001"), "taker_fee_percent": fees.taker * HUNDRED},
            )
        )
    if price < lo_p or price > hi_p:
        side = "below" if price < lo_p else "above"
        warnings.append(
            RiskWarning(
                f"price_{side}_range",
                "warning",
                f"The current price {_money(price)} is {side} your range ({_money(lo_p)} to {_money(hi_p)}). "
                + (
                    "The bot will buy coins now and only sell them if the price rises into the range."
                    if side == "below"
                    else "The bot will only buy if the price falls back into the range."
                ),
                {"price": price, "lower_price": lo_p, "upper_price": hi_p},
            )
        )
    if candles:
        hi_c = max(c.high for c in candles)
        lo_c = min(c.low for c in candles)
        swing = (hi_c - lo_c) / lo_c * HUNDRED
        width = (hi_p - lo_p) / lo_p * HUNDRED
        if swing > width:
            warnings.append(
                RiskWarning(
                    "range_too_narrow",
                    "warning",
                    f"Recently the price moved between {_money(lo_c)} and {_money(hi_c)} ({_pct(swing)}), more than "
                    f"the width of your range ({_pct(width)}). The price is likely to leave the range, and outside "
                    "it the bot stops earning.",
                    {
                        "recent_low": lo_c,
                        "recent_high": hi_c,
                        "swing_percent": _round(swing, "0.01"),
                        "range_percent": _round(width, "0.01"),
                        "candles": len(candles),
                    },
                )
            )
    resting = len(sz.buy_levels) + len(sz.sell_levels)  # the launch market order does not rest
    if resting > MAX_OPEN_ORDERS:
        warnings.append(
            RiskWarning(
                "too_many_orders",
                "danger",
                f"This grid keeps {resting} orders open; the exchange allows at most {MAX_OPEN_ORDERS} open orders "
                "per pair. Use fewer grids.",
                {"order_count": resting, "max": MAX_OPEN_ORDERS},
                blocking=True,
            )
        )
    balance_ok: bool | None = None
    if balances is not None:
        have = Decimal(balances.get(quote, ZERO))
        balance_ok = have >= sz.quote_needed
        if not balance_ok:
            warnings.append(
                RiskWarning(
                    "insufficient_balance",
                    "danger",
                    f"Your account has {_money(have)} {quote} available but the bot needs {_money(sz.quote_needed)} "
                    f"{quote} to start. Deposit more or lower the investment.",
                    {"available": have, "needed": _round(sz.quote_needed, "0.01"), "coin": quote},
                    blocking=True,
                )
            )
    if config.is_linear and rules.max_leverage is not None and config.leverage > rules.max_leverage:
        warnings.append(
            RiskWarning(
                "leverage_above_max",
                "danger",
                f"The exchange allows at most {rules.max_leverage}x leverage on {rules.symbol}; you chose "
                f"{config.leverage}x. Lower the leverage.",
                {"leverage": config.leverage, "max_leverage": rules.max_leverage},
                blocking=True,
            )
        )
    if sz.initial_base_qty > rules.max_qty:
        warnings.append(
            RiskWarning(
                "initial_order_too_large",
                "danger",
                f"At launch the bot would need one market order of {sz.initial_base_qty} {base}, more than the "
                f"exchange accepts in one order ({rules.max_qty}). Invest less or use fewer grids above the price.",
                {"qty": sz.initial_base_qty, "max_qty": rules.max_qty},
                blocking=True,
            )
        )
    hit = check_targets(config, price=price, total_pnl=ZERO, invested=config.investment)
    if hit is not None:
        warnings.append(
            RiskWarning(
                "target_already_reached",
                "danger",
                f"The bot would stop as soon as it starts: {hit.reason} Move the "
                f"{'stop-loss' if hit.kind == 'stop_loss' else 'take-profit'} price to the other side of the "
                "current price.",
                {"kind": hit.kind, "price": price},
                blocking=True,
            )
        )
    if config.is_spot and sz.initial_base_qty > 0:
        warnings.append(
            RiskWarning(
                "initial_purchase",
                "info",
                f"At launch the bot buys about {sz.initial_base_qty} {base} at the market price so that it has "
                f"coins to sell on the {len(sells)} sell orders above the price.",
                {"qty": sz.initial_base_qty, "coin": base},
            )
        )
    return LaunchReport(
        levels=levels,
        qty_per_grid=q,
        profit_per_grid_min=pmin,
        profit_per_grid_max=pmax,
        profit_per_cycle=per_cycle,
        quote_needed=sz.quote_needed,
        base_needed=sz.base_needed,
        min_investment=sz.min_investment,
        min_investment_rule=sz.min_investment_rule,
        balance_ok=balance_ok,
        break_even_price=_round(break_even, "0.01") if break_even is not None else None,
        below_range=below,
        above_range=above,
        liquidation_price=liq,
        warnings=warnings,
        blocking=any(w.blocking for w in warnings),
        price=price,
        initial_base_qty=sz.initial_base_qty,
        order_count=sz.order_count,
        buy_levels=sz.buy_levels,
        sell_levels=sz.sell_levels,
        liquidation_price_up=liq_up,
        liquidation_price_long=None if config.direction == Direction.SHORT else liq,
        liquidation_price_short=liq if config.direction == Direction.SHORT else liq_up,
    )
