"""Pool arithmetic, pure (no Django, no I/O, Decimal only): the NAV chain, units, the
high-water mark and the fees. services.py applies it to rows; tests check it to the cent.

- NAV is chain-linked (time-weighted): at a valuation NAV_new = NAV_old x E_now / E_after_flows,
  where E_after_flows is the pool's equity right after the previous valuation and its flows.
  A flow (join, add, reduce, leave) happens right after a valuation, at that NAV: units =
  amount / NAV. So money coming or going later changes nobody's NAV.
- The high-water mark is per investor, in NAV per unit. New money enters at the current NAV and
  blends the mark by units. A redemption leaves the mark as it is.
- Performance fee = (NAV - HWM) x units x rate, only when NAV is above the mark; the mark then
  rises to NAV. A gain is charged once: the same NAV again is not above the (raised) mark.
- Management fee = value x monthly rate, once a calendar month.

Rounding: NAV and marks to 8 places (half-even), units down to 8 places (never more units than
money), fees down to the cent (never more fee than earned)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext

NAV_PLACES = Decimal("0.00000001")
UNIT_PLACES = Decimal("0.00000001")
CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def q_nav(value: Decimal) -> Decimal:
    return value.quantize(NAV_PLACES, rounding=ROUND_HALF_EVEN)


def nav_next(*, nav: Decimal, equity_before: Decimal, equity_now: Decimal) -> Decimal:
    """The NAV per unit after the pool's equity went from `equity_before` (right after the last
    flows) to `equity_now` (no flows in between)."""
    if equity_before <= 0:
        return nav
    with localcontext() as ctx:
        ctx.prec = 60
        return q_nav(nav * equity_now / equity_before)


def units_for(*, amount: Decimal, nav: Decimal) -> Decimal:
    """Units bought or sold by `amount` of money at `nav`."""
    with localcontext() as ctx:
        ctx.prec = 60
        return (amount / nav).quantize(UNIT_PLACES, rounding=ROUND_DOWN)


def hwm_blend(*, units: Decimal, hwm: Decimal, new_units: Decimal, nav: Decimal) -> Decimal:
    """The mark after `new_units` bought at `nav` join `units` held with mark `hwm`."""
    total = units + new_units
    if total <= 0:
        return nav
    with localcontext() as ctx:
        ctx.prec = 60
        return q_nav((units * hwm + new_units * nav) / total)


@dataclass(frozen=True)
class FeeAccrual:
    fee: Decimal  # to the cent, 0 when nothing is due
    hwm: Decimal  # the mark after this accrual


def performance_fee(*, nav: Decimal, hwm: Decimal, units: Decimal, rate_percent: Decimal) -> FeeAccrual:
    """The fee on the gain above the high-water mark, and the new mark."""
    if nav <= hwm or units <= 0:
        return FeeAccrual(ZERO, hwm)
    with localcontext() as ctx:
        ctx.prec = 60
        fee = ((nav - hwm) * units * rate_percent / HUNDRED).quantize(CENT, rounding=ROUND_DOWN)
    return FeeAccrual(fee, nav)


def management_fee(*, value: Decimal, monthly_percent: Decimal) -> Decimal:
    """One month's management fee on `value` (the member's units x NAV)."""
    if value <= 0 or monthly_percent <= 0:
        return ZERO
    with localcontext() as ctx:
        ctx.prec = 60
        return (value * monthly_percent / HUNDRED).quantize(CENT, rounding=ROUND_DOWN)


def scale(value: Decimal, *, amount: Decimal, base: Decimal) -> Decimal:
    """`value` (a money figure of the manager's bot) scaled to an investor's `amount`."""
    with localcontext() as ctx:
        ctx.prec = 60
        return (value * amount / base).quantize(CENT, rounding=ROUND_DOWN)


def max_drawdown_percent(values: list[Decimal]) -> Decimal:
    """The largest fall from a peak, in percent of the peak (0 for a series that never fell)."""
    peak, worst = None, ZERO
    with localcontext() as ctx:
        ctx.prec = 60
        for value in values:
            if peak is None or value > peak:
                peak = value
            elif peak > 0:
                worst = max(worst, (peak - value) / peak * HUNDRED)
    return worst.quantize(CENT, rounding=ROUND_HALF_EVEN)
