"""Candle replay: start/stop and advancing a symbol's replay by N candles."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from . import feed
from .funding import funding_slot
from .instruments import CATEGORIES, INSTRUMENTS, SYMBOLS
from .models import BybitError


class ReplayMixin:
    """Mixed into engine.Exchange (shares its state)."""

    if TYPE_CHECKING:  # state and helpers of engine.Exchange, the class that combines the mixins
        replays: dict[str, dict]
        _dirty_kv: bool

        def step(self, category: str, symbol: str, price: Decimal, volume: Decimal | None = None) -> None: ...
        def settle_funding(self, symbol: str, rate: Decimal | None = None) -> list: ...

    # ------------------------------------------------------------------ candle replay
    def replay_start(
        self,
        symbol: str,
        *,
        csv_path: str | None = None,
        speed: float = 0,
        start: int | None = None,
        categories=None,
        volume_in_quote: bool | None = None,
    ) -> dict:
        if symbol not in SYMBOLS:
            raise BybitError(10001, f"unknown symbol {symbol}")
        path = str(csv_path or feed.default_csv(symbol))
        try:
            candles = feed.load_candles(path)
        except OSError as exc:
            raise BybitError(10001, f"cannot read {path}: {exc}") from None
        if not candles:
            raise BybitError(10001, f"no candles in {path}")
        if volume_in_quote is None:
            volume_in_quote = "ftx_" in path
        index = feed.index_at(candles, start)
        state = {
            "csv": path,
            "index": index,
            "speed": float(speed),
            "running": True,
            "categories": list(categories or [c for c in CATEGORIES if (c, symbol) in INSTRUMENTS]),
            "volume_in_quote": bool(volume_in_quote),
            "candles_done": 0,
            # the funding period of the market time reached: entering the next one settles funding
            "funding_slot": funding_slot(candles[index].ts),
        }
        self.replays[symbol] = state
        self._dirty_kv = True
        return state

    def replay_stop(self, symbol: str) -> None:
        if symbol in self.replays:
            self.replays[symbol]["running"] = False
            self._dirty_kv = True

    def replay_candles(self, symbol: str, n: int = 1) -> int:
        """Process the next n candles of a symbol's replay (looping at the end of the data)."""
        state = self.replays.get(symbol)
        if state is None:
            state = self.replay_start(symbol)
        candles = feed.load_candles(state["csv"])
        for _ in range(int(n)):
            c = candles[state["index"] % len(candles)]
            slot = funding_slot(c.ts)
            if "linear" in state["categories"] and slot != state.setdefault("funding_slot", slot):
                self.settle_funding(symbol)  # 00:00, 08:00, 16:00 UTC of market time: at the mark before it moves
            state["funding_slot"] = slot
            for price, vol in c.path():
                if state["volume_in_quote"]:
                    vol = vol / price
                for cat in state["categories"]:
                    self.step(cat, symbol, price, vol)
            state["index"] = (state["index"] + 1) % len(candles)
            state["candles_done"] += 1
        self._dirty_kv = True
        return state["index"]
