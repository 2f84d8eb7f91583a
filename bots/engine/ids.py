"""Deterministic client order ids (Bybit `orderLinkId`).

Format (at most 36 characters of [A-Za-z0-9_-]):
    grid order    sk{bot}-{gen}-{level}{B|S}{seq}   e.g. "sk42-3-17B5"
    initial order sk{bot}-{gen}-init
    close order   sk{bot}-{gen}-close{n}
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

MAX_LEN = 36
_RE = re.compile(r"^sk(\d+)-(\d+)-(?:(\d+)([BS])(\d+)|(init)|close(\d+))$")


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


def grid_order_id(bot_id: int, generation: int, level: int, side: Side, seq: int) -> str:
    if level < 0 or seq < 0:
        raise ValueError("level and seq must be non-negative")
    letter = "B" if Side(side) is Side.BUY else "S"
    return _check(bot_id, generation, f"sk{bot_id}-{generation}-{level}{letter}{seq}")


def initial_order_id(bot_id: int, generation: int) -> str:
    return _check(bot_id, generation, f"sk{bot_id}-{generation}-init")


def close_order_id(bot_id: int, generation: int, n: int) -> str:
    if n < 0:
        raise ValueError("n must be non-negative")
    return _check(bot_id, generation, f"sk{bot_id}-{generation}-close{n}")


def parse_client_order_id(s: str) -> OrderKey | None:
    """The key encoded in one of our ids, or None for any other string (manual orders...)."""
    if not isinstance(s, str) or len(s) > MAX_LEN:
        return None
    return _parse(s)


@lru_cache(maxsize=1 << 16)
def _parse(s: str) -> OrderKey | None:
    m = _RE.match(s)
    if not m:
        return None
    bot_id, gen = int(m.group(1)), int(m.group(2))
    if m.group(3) is not None:
        side = Side.BUY if m.group(4) == "B" else Side.SELL
        return OrderKey(bot_id, gen, "grid", int(m.group(3)), side, int(m.group(5)))
    if m.group(6):
        return OrderKey(bot_id, gen, "initial")
    return OrderKey(bot_id, gen, "close", seq=int(m.group(7)))
