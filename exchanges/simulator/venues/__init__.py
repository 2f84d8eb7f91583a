"""Venue dialects: each one speaks one exchange's wire protocol (paths, signing, error codes, rate
limit answers, order-id rules) on top of the ONE matching engine. Bybit V5 is the simulator's
native dialect (exchanges/simulator/rest, ws); the others live here, one module per venue."""

from __future__ import annotations

import importlib

VENUES = ("bybit", "okx", "binance", "mexc", "kucoin")
_MODULES = {
    "okx": "okx.OkxDialect",
    "binance": "binance.BinanceDialect",
    "mexc": "mexc.MexcDialect",
    "kucoin": "kucoin.KucoinDialect",
}


def dialect_class(venue: str):
    """The dialect class of a venue (None for bybit, which is served by the native routes)."""
    if venue not in VENUES:
        raise ValueError(f"unknown venue {venue!r}; choose one of {', '.join(VENUES)}")
    if venue == "bybit":
        return None
    module, cls = _MODULES[venue].split(".")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)
