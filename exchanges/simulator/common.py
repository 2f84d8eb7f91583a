"""Constants and small helpers shared by the engine modules."""

from __future__ import annotations

import re
import time
from decimal import Decimal

from .models import BybitError

MMR = Decimal("0.005")  # maintenance margin rate of linear positions
MAX_OPEN_ORDERS = 500
AVG_QUANT = Decimal("0.0000000001")
LINK_RE = re.compile(r"^[A-Za-z0-9_\-]{1,36}$")


def now_ms() -> int:
    return int(time.time() * 1000)


def dec(value, name: str, code: int = 10001) -> Decimal:
    try:
        d = Decimal(str(value))
    except Exception:
        raise BybitError(code, f"params error: {name} invalid") from None
    if not d.is_finite():
        raise BybitError(code, f"params error: {name} invalid")
    return d
