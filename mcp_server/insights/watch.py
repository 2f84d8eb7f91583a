"""The regime alert: for every running bot, the detector (insights.regime) over the last day of
its pair's stored 1-minute candles; when the market turns against the grid (into a trend) the
bot's owner is told once, through the notifications service (event "bot_market_trending", the
user's channel preferences and quiet hours apply), and the bot page shows the reason.

Hysteresis: the watched state becomes "trending" on a trending reading and leaves it only on a
range-bound one; a "mixed" reading (one vote each way, or none) keeps the state. So a market on
the border does not flap, and one trend is one alert however many checks see it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from mcp_server.insights.regime import MIXED, RANGE, TREND, Regime, detect
from mcp_server.models import RegimeWatch

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
STALE = timedelta(hours=2)  # candles older than this say nothing about the market now
MIN_CANDLES = 6 * 60
EVENT = "bot_market_trending"


def regime_next(state: str, label: str) -> str:
    """The watched state after a reading `label` (the hysteresis above)."""
    if label == TREND:
        return RegimeWatch.State.TRENDING
    if label == RANGE:
        return RegimeWatch.State.RANGE
    return state if state in (RegimeWatch.State.RANGE, RegimeWatch.State.TRENDING) else RegimeWatch.State.MIXED


@dataclass(frozen=True)
class Reading:
    regime: Regime
    move_percent: float
    hours: int


def series_reading(*, venue: str, category: str, symbol: str, now) -> Reading | None:
    """The regime of a pair over the last day of stored candles, or None without fresh data."""
    from analytics.models import CandleSeries
    from analytics.selectors import candles_engine

    series = CandleSeries.objects.filter(venue=venue, category=category, symbol=symbol).first()
    if series is None or series.cursor is None or now - series.cursor > STALE:
        return None
    candles = candles_engine(series=series, start=series.cursor - WINDOW, end=series.cursor + timedelta(minutes=1))
    if len(candles) < MIN_CANDLES:
        return None
    high = np.array([float(c.high) for c in candles])
    low = np.array([float(c.low) for c in candles])
    close = np.array([float(c.close) for c in candles])
    regime = detect(high, low, close)
    hours = max(1, round((candles[-1].time - candles[0].time) / 3600))
    return Reading(regime, float(close[-1] / close[0] - 1) * 100, hours)


def _params(bot, reading: Reading) -> dict:
    return {
        "bot_id": bot.pk,
        "bot_name": bot.name,
        "symbol": bot.symbol,
        "move": f"{reading.move_percent:+.1f}",
        "hours": reading.hours,
        "er": f"{reading.regime.efficiency_ratio:.2f}",
    }


def bot_regime_apply(*, bot, reading: Reading, now=None) -> RegimeWatch:
    """Record a reading for `bot`; on a turn into "trending" tell the bot's owner (once)."""
    from notifications.services import notify

    now = now or timezone.now()
    with transaction.atomic():
        watch, _ = RegimeWatch.objects.select_for_update().get_or_create(bot=bot)
        old = watch.state
        new = regime_next(old, reading.regime.label)
        watch.label = reading.regime.label
        watch.direction = reading.regime.direction
        watch.checked_at = now
        params = _params(bot, reading)
        if new != old:
            watch.state, watch.turned_at = new, now
            if new == RegimeWatch.State.TRENDING:
                watch.measures = {**reading.regime.to_json(), "params": params}
                notify(
                    user=bot.user,
                    event=EVENT,
                    params=params,
                    dedupe_key=f"regime:{bot.pk}:{int(now.timestamp())}",
                    now=now,
                )
                watch.alerted_at = now
        if new != RegimeWatch.State.TRENDING:
            watch.measures = {**reading.regime.to_json(), "params": params}
        watch.save()
    return watch


def regime_watch_all(*, now=None) -> dict[str, int]:
    """Periodic: every running bot's pair read once per run (bots on one pair share the reading)."""
    from bots.models import Bot

    now = now or timezone.now()
    readings: dict[tuple[str, str, str], Reading | None] = {}
    out = {"checked": 0, "no_data": 0, "alerted": 0}
    bots = Bot.objects.filter(status=Bot.Status.RUNNING).select_related("user", "exchange_account__exchange")
    for bot in bots.iterator(chunk_size=200):
        key = (bot.exchange_account.exchange.code, bot.category, bot.symbol)
        if key not in readings:
            try:
                readings[key] = series_reading(venue=key[0], category=key[1], symbol=key[2], now=now)
            except Exception:  # noqa: BLE001 - one pair's bad data must not stop the others
                log.exception("regime reading failed for %s", key)
                readings[key] = None
        reading = readings[key]
        if reading is None:
            out["no_data"] += 1
            continue
        before = RegimeWatch.objects.filter(bot=bot).values_list("alerted_at", flat=True).first()
        watch = bot_regime_apply(bot=bot, reading=reading, now=now)
        out["checked"] += 1
        out["alerted"] += int(watch.alerted_at is not None and watch.alerted_at != before)
    return out


def bot_regime_view(*, bot, language: str) -> dict:
    """What the bot page shows: the watched state and, when the market is against the grid,
    the reason in words (the alert's own text)."""
    from notifications.events import event_render

    watch = RegimeWatch.objects.filter(bot=bot).first()
    if watch is None:
        return {"state": RegimeWatch.State.UNKNOWN, "against_grid": False, "reason": "", "checked_at": None}
    against = watch.state == RegimeWatch.State.TRENDING
    reason = ""
    if against and watch.measures.get("params"):
        reason = event_render(event=EVENT, params=watch.measures["params"], language=language)[1]
    return {
        "state": watch.state,
        "label": watch.label or MIXED,
        "direction": watch.direction,
        "against_grid": against,
        "reason": reason,
        "measures": {k: v for k, v in watch.measures.items() if k != "params"},
        "turned_at": watch.turned_at.isoformat() if watch.turned_at else None,
        "checked_at": watch.checked_at.isoformat() if watch.checked_at else None,
    }
