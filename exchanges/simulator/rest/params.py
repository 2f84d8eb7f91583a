"""Parameter helpers shared by the REST handlers."""

from __future__ import annotations

import re

from ..instruments import CATEGORIES
from ..models import BybitError

# Order numbers as Bybit takes them: plain decimal strings. Beyond 15 integer digits or 18
# decimals no instrument exists (Bybit answers "params error"); "1e30" or 5,000 digits would
# otherwise reach Decimal arithmetic whose 28-digit context fails (a 10016 "Internal error").
ORDER_NUMBERS = ("qty", "price", "triggerPrice", "takeProfit", "stopLoss")
_PLAIN = re.compile(r"-?\d{1,15}(\.\d{0,18})?|-?\.\d{1,18}")


def clean_params(params: dict, *, nested: tuple[str, ...] = ()) -> dict:
    """Scalars become strings (JSON numbers from non-pybit clients, booleans as "true"/"false");
    a list or object where Bybit expects a scalar is a parameter error."""
    out = {}
    for k, v in params.items():
        if v is None:
            continue
        if k in nested:
            out[k] = v
        elif isinstance(v, (list, dict)):
            raise BybitError(10001, f"params error: {k} invalid")
        elif isinstance(v, bool):
            out[k] = "true" if v else "false"
        else:
            out[k] = str(v)
    return out


def check_numbers(params: dict, names=ORDER_NUMBERS) -> None:
    """BybitError 10001 "params error: <name> invalid" for a number that is not a plain decimal
    of at most 15 integer digits and 18 decimals."""
    for name in names:
        raw = params.get(name)
        if raw in (None, ""):
            continue
        text = str(raw).strip()
        if len(text) > 40 or not _PLAIN.fullmatch(text):
            raise BybitError(10001, f"params error: {name} invalid")


def _category(params, allowed=CATEGORIES) -> str:
    cat = params.get("category")
    if cat not in allowed:
        raise BybitError(10001, "params error: category invalid" if cat else "params error: category is required")
    return cat


def _int(params, name, default, lo, hi) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        v = int(str(raw))
    except ValueError:
        raise BybitError(10001, f"params error: {name} invalid") from None
    if not lo <= v <= hi:
        raise BybitError(10001, f"params error: {name} out of range [{lo},{hi}]")
    return v


def _page(items: list, params, *, default: int, maximum: int, seq=lambda x: x.seq):
    """Newest-first items, cursor = seq of the last item returned."""
    limit = _int(params, "limit", default, 1, maximum)
    cursor = params.get("cursor")
    if cursor:
        try:
            c = int(str(cursor))
        except ValueError:
            raise BybitError(10001, "params error: cursor invalid") from None
        items = [i for i in items if seq(i) < c]
    page = items[:limit]
    nxt = str(seq(page[-1])) if len(items) > limit else ""
    return page, nxt
