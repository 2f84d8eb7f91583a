"""Checks of the control API: the token's strength outside development, and every body's
values (objects, finite bounded numbers, known names) before the engine sees them. A refused
value raises BadBody, which the API answers with HTTP 400 {"error": "<message>"}."""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, overload

from . import feed
from .instruments import CATEGORIES, INSTRUMENTS

# Tokens that appear in this repository (settings, README, tests): known to anyone who read it.
WELL_KNOWN_TOKENS = frozenset({"setka-dev-control-token", "test-token", "changeme", "secret", "token"})
MIN_TOKEN_LENGTH = 32
# Shannon estimate from the token's own characters. A random 32-hex token (`openssl rand -hex 16`,
# 128 real bits) estimates ~115 on average but below 100 once in a thousand draws and below 90
# once in 400,000 (measured over 2 million); 80 refuses no random token while every repeated or
# patterned one estimated here stays far below it ("abab…": 40, "aaaa…": 0).
MIN_TOKEN_BITS = 80

MAX_AMOUNT = Decimal(10) ** 15
MAX_PLACES = 18
MAX_BODY_DEPTH = 8
MAX_PATH_POINTS = 100_000
COIN = re.compile(r"[A-Z0-9]{1,20}")
FEE_FIELDS = ("spot_maker", "spot_taker", "linear_maker", "linear_taker")


def control_token_problem(token: str | None) -> str | None:
    """Why `token` must not protect a simulator outside development, or None when it is strong:
    at least 32 characters, not one of the repository's tokens, no short repeated pattern, and
    80+ bits by the Shannon estimate of its own characters (`secrets.token_urlsafe(32)`: ~210)."""
    token = token or ""
    if not token:
        return "no control token is set"
    if token.lower() in WELL_KNOWN_TOKENS:
        return "the control token is a well-known development token"
    if len(token) < MIN_TOKEN_LENGTH:
        return f"the control token is shorter than {MIN_TOKEN_LENGTH} characters"
    if any(token == (token[:period] * (len(token) // period + 1))[: len(token)] for period in range(1, 17)):
        return "the control token repeats a short pattern"
    counts = Counter(token)
    per_char = -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())
    if per_char * len(token) < MIN_TOKEN_BITS:
        return "the control token is too predictable (repeated characters)"
    return None


def is_production(environ=None) -> bool:
    return (environ if environ is not None else os.environ).get("DJANGO_ENV", "development") == "production"


def require_strong_token(token: str | None, *, production: bool | None = None) -> None:
    """Refuse (RuntimeError) to serve or use a simulator's control API in production with a
    weak token; development and tests may use any non-empty token."""
    if production is None:
        production = is_production()
    if not production:
        return
    problem = control_token_problem(token)
    if problem:
        raise RuntimeError(
            f"Refusing to run the paper-trading simulator in production: {problem}. Set "
            "SETKA_SIMULATOR_CONTROL_TOKEN to a random value of 32+ characters, e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(32))"`.'
        )


class BadBody(ValueError):
    """A control request the simulator refuses (HTTP 400 with this message)."""


def depth_ok(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return False
        stack.extend((c, depth + 1) for c in children)
    return True


@overload
def amount(
    value, name: str, *, positive: bool = ..., signed: bool = ..., allow_none: Literal[False] = ...
) -> Decimal: ...
@overload
def amount(value, name: str, *, positive: bool = ..., signed: bool = ..., allow_none: bool) -> Decimal | None: ...
def amount(
    value, name: str, *, positive: bool = False, signed: bool = False, allow_none: bool = False
) -> Decimal | None:
    """A decimal from a JSON string or number: finite, at most 10^15, at most 18 places; not
    negative unless `signed`, above zero when `positive`."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise BadBody(f'{name} must be a decimal number as a string, e.g. "100.5"')
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadBody(f'{name} must be a decimal number as a string, e.g. "100.5"') from None
    if not d.is_finite():
        raise BadBody(f"{name} must be a finite number")
    if d.copy_abs() > MAX_AMOUNT:
        raise BadBody(f"{name} must be at most {MAX_AMOUNT:,}")
    if not d:
        return Decimal(0)
    if feed.decimal_places(d) > MAX_PLACES:
        raise BadBody(f"{name} has more than {MAX_PLACES} decimal places")
    if positive and d <= 0:
        raise BadBody(f"{name} must be greater than zero")
    if not signed and d < 0:
        raise BadBody(f"{name} must not be negative")
    return d


def integer(value, name: str, lo: int, hi: int, *, default=None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool):
        raise BadBody(f"{name} must be a whole number")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 20:
        value = int(value.strip())
    if not isinstance(value, int):
        raise BadBody(f"{name} must be a whole number")
    if not lo <= value <= hi:
        raise BadBody(f"{name} must be between {lo} and {hi}")
    return value


@overload
def text(value, name: str, *, max_length: int = ..., allow_none: Literal[False] = ...) -> str: ...
@overload
def text(value, name: str, *, max_length: int = ..., allow_none: bool) -> str | None: ...
def text(value, name: str, *, max_length: int = 64, allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise BadBody(f"{name} must be a string of 1 to {max_length} characters")
    return value


def flag(value, name: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadBody(f"{name} must be true or false")
    return value


def symbol_of(body) -> str:
    symbol = text(body.get("symbol"), "symbol", max_length=32)
    if not any((c, symbol) in INSTRUMENTS for c in CATEGORIES):
        raise BadBody(f"unknown symbol {symbol}")
    return symbol


def category_of(body) -> str | None:
    category = body.get("category")
    if category is not None and category not in CATEGORIES:
        raise BadBody(f"category must be one of {', '.join(CATEGORIES)}")
    return category


def funding_of(value) -> dict[str, Decimal]:
    if value is None:
        return {"USDT": Decimal("10000")}
    if not isinstance(value, dict) or len(value) > 50:
        raise BadBody('funding must be an object of at most 50 coins, e.g. {"USDT": "10000"}')
    out = {}
    for coin, value_ in value.items():
        if not COIN.fullmatch(str(coin)):
            raise BadBody(f"funding: {str(coin)[:20]!r} is not a coin (capital letters and digits)")
        out[coin] = amount(value_, f"funding.{coin}")
    return out


def fees_of(value) -> dict[str, Decimal] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadBody("fees must be an object")
    unknown = set(value) - set(FEE_FIELDS)
    if unknown:
        raise BadBody(f"unknown fee {sorted(unknown)[0]!r}; expected {', '.join(FEE_FIELDS)}")
    return {k: _fee(v, k) for k, v in value.items()}


def _fee(value, name: str) -> Decimal:
    d = amount(value, name, signed=True)  # maker rebates are negative fees
    if d.copy_abs() > 1:
        raise BadBody(f'{name} must be a rate between -1 and 1, e.g. "0.001"')
    return d


def uid_of(request) -> int:
    return integer(request.match_info["uid"], "uid", 1, 2**63 - 1)


def fault_params(kind: str, params: dict) -> dict:
    """The known parameters of a fault, checked (they are used on every later request)."""
    by_kind: dict[str, dict[str, tuple[Any, Any]]] = {
        "latency": {"ms": (0, 120_000)},
        "http_error": {"status": (400, 599)},
        "timeout_after_accept": {"seconds": (0, 600), "mode": ("hang", "close")},
        "rate_limit": {"reset_ms": (0, 600_000)},
        "ws_drop": {},
        "ws_delay": {"ms": (0, 120_000)},
    }
    allowed = by_kind[kind]
    out = {}
    for name, value in params.items():
        if name not in allowed:
            raise BadBody(f"unknown parameter {str(name)[:30]!r} for fault {kind}")
        bounds = allowed[name]
        if isinstance(bounds[0], str):
            if value not in bounds:
                raise BadBody(f"{name} must be one of {', '.join(bounds)}")
            out[name] = value
        else:
            out[name] = integer(value, name, *bounds)
    return out
