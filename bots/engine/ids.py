"""Deterministic client order ids (Bybit `orderLinkId`, OKX `clOrdId`, Binance `newClientOrderId`).

Format: letters and digits only, at most 32 characters, so one id fits the strictest venue (OKX:
up to 32 alphanumerics) and every other one:
    grid order    sk{bot}g{gen}o{level}{B|S}{seq}   e.g. "sk42g3o17B5"
    initial order sk{bot}g{gen}oinit
    close order   sk{bot}g{gen}oclose{n}
"sk{bot}g{gen}o" is the generation's prefix (the letters after each number keep "sk1g1o" from
matching generation 12 or bot 12).
Ids of the earlier format (sk{bot}-{gen}-{level}{B|S}{seq}, -init, -close{n}) still parse, so
orders placed before the change are recognised.
`seq` counts the orders placed at one (level, side) in one generation: 0 is reserved for the
launch ladder (the planner relies on it to know how each interval started), later orders at
that (level, side) take the next number, starting at 1. The same inputs always give the
same id, so a retried placement can never create a second order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from exchanges.client import Side

MAX_LEN = 32
_RE = re.compile(r"^sk(\d+)g(\d+)o(?:(\d+)([BS])(\d+)|(init)|close(\d+))$")
_LEGACY_RE = re.compile(r"^sk(\d+)-(\d+)-(?:(\d+)([BS])(\d+)|(init)|close(\d+))$")
LEGACY_MAX_LEN = 36


@dataclass(frozen=True, slots=True)
class OrderKey:
    bot_id: int
    generation: int
    purpose: str  # "grid" | "initial" | "close"
    level: int | None = None
    side: Side | None = None
    seq: int = 0


def _check(bot_id: int, generation: int, text: str) -> str:
    if bot_id < 0 or generation < 0:
        raise ValueError("bot id and generation must be non-negative")
    if len(text) > MAX_LEN:
        raise ValueError(f"client order id {text!r} longer than {MAX_LEN} characters")
    return text


def generation_prefix(bot_id: int, generation: int) -> str:
    """What every id of one generation of a bot starts with."""
    return f"sk{bot_id}g{generation}o"


def legacy_generation_prefix(bot_id: int, generation: int) -> str:
    """The same for ids of the earlier format (orders placed before the change)."""
    return f"sk{bot_id}-{generation}-"


def grid_order_id(bot_id: int, generation: int, level: int, side: Side, seq: int) -> str:
    if level < 0 or seq < 0:
        raise ValueError("level and seq must be non-negative")
    letter = "B" if Side(side) is Side.BUY else "S"
    return _check(bot_id, generation, f"{generation_prefix(bot_id, generation)}{level}{letter}{seq}")


def initial_order_id(bot_id: int, generation: int) -> str:
    return _check(bot_id, generation, f"{generation_prefix(bot_id, generation)}init")


def close_order_id(bot_id: int, generation: int, n: int) -> str:
    if n < 0:
        raise ValueError("n must be non-negative")
    return _check(bot_id, generation, f"{generation_prefix(bot_id, generation)}close{n}")


def parse_client_order_id(s: str) -> OrderKey | None:
    """The key encoded in one of our ids, or None for any other string (manual orders...)."""
    if not isinstance(s, str) or len(s) > LEGACY_MAX_LEN:
        return None
    return _parse(s)


@lru_cache(maxsize=1 << 16)
def _parse(s: str) -> OrderKey | None:
    m = _RE.match(s) or _LEGACY_RE.match(s)
    if not m:
        return None
    bot_id, gen = int(m.group(1)), int(m.group(2))
    if m.group(3) is not None:
        side = Side.BUY if m.group(4) == "B" else Side.SELL
        return OrderKey(bot_id, gen, "grid", int(m.group(3)), side, int(m.group(5)))
    if m.group(6):
        return OrderKey(bot_id, gen, "initial")
    return OrderKey(bot_id, gen, "close", seq=int(m.group(7)))
