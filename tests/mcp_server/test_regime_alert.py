"""The regime alert on synthetic markets whose character is known by construction (fixed seeds,
tests/analytics/synthetic.py): day after day of 1-minute candles are stored for a running bot's
pair and the periodic check runs after each day. The detector labels each day; the alert fires
once when the market turns from sideways into a trend, not again while it stays trending (a
random-walk day in between does not reset it); it goes to the bot's owner only; the bot page
shows the reason in the user's language."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django_celery_beat.models import PeriodicTask

from analytics.models import CandleSeries
from analytics.services import candles_upsert, series_ensure
from mcp_server.insights.regime import MIXED, RANGE, TREND, detect
from mcp_server.insights.watch import regime_next, regime_watch_all
from mcp_server.models import RegimeWatch
from mcp_server.tasks import regime_watch_task
from notifications.models import Delivery, Notification, Preference
from tests.analytics.conftest import SPOT_FEES, rules
from tests.analytics.synthetic import START, bars
from tests.factories import BotFactory, ExchangeAccountFactory, UserFactory

pytestmark = pytest.mark.django_db
DAY = 1440
EVENT = "bot_market_trending"


def _arrays(b):
    return (np.array([float(getattr(x, f)) for x in b]) for f in ("high", "low", "close"))


@pytest.mark.parametrize(
    ("kind", "mostly", "never"),
    [("mean_reverting", RANGE, TREND), ("trending", TREND, RANGE), ("random_walk", MIXED, TREND)],
)
def test_the_detector_labels_synthetic_days(kind, mostly, never):
    """30 seeds of each: a trend is always called a trend, and nothing else ever is; sideways is
    range-bound in at least 9 of 10 days (a borderline day reads "mixed", which raises no alert);
    a random walk is neither, mostly."""
    labels = [detect(*_arrays(bars(kind, DAY, seed=seed))).label for seed in range(10, 40)]
    assert never not in labels, labels
    share = labels.count(mostly) / len(labels)
    assert share >= {RANGE: 0.9, TREND: 1.0, MIXED: 0.66}[mostly], labels


@pytest.mark.parametrize(
    ("state", "label", "after"),
    [
        ("unknown", RANGE, "range"),
        ("unknown", MIXED, "mixed"),
        ("unknown", TREND, "trending"),
        ("range", MIXED, "range"),
        ("range", TREND, "trending"),
        ("trending", MIXED, "trending"),  # a pause in a trend is not the end of it
        ("trending", TREND, "trending"),
        ("trending", RANGE, "range"),
        ("mixed", TREND, "trending"),
    ],
)
def test_hysteresis(state, label, after):
    assert regime_next(state, label) == after


def _running_bot(user, symbol="SYNUSDT"):
    account = ExchangeAccountFactory(user=user)
    return BotFactory(user=user, exchange_account=account, symbol=symbol, status="running")


class Market:
    """A stored pair that grows one synthetic day at a time, the price continuing from the last."""

    def __init__(self, symbol="SYNUSDT"):
        self.series = series_ensure(
            venue="bybit", rules=rules(symbol), fees=SPOT_FEES, source=CandleSeries.Source.SYNTHETIC
        )
        self.day, self.price = 0, 100.0

    def add_day(self, kind: str, seed: int):
        day = bars(kind, DAY, seed=seed, price=self.price, start=START + timedelta(days=self.day))
        candles_upsert(series=self.series, bars=day)
        self.day += 1
        self.price = float(day[-1].close)
        return START + timedelta(days=self.day)  # "now": just after the day's last candle


ROWS = {
    "sideways, then a lasting trend: one alert": (
        [("mean_reverting", 1, RANGE, "range"), ("trending", 2, TREND, "trending"), ("trending", 3, TREND, "trending"),
         ("trending", 4, TREND, "trending")],
        1,
    ),
    "a random-walk pause inside a trend is still one trend": (
        [("mean_reverting", 1, RANGE, "range"), ("trending", 2, TREND, "trending"),
         ("random_walk", 10, MIXED, "trending"), ("trending", 4, TREND, "trending")],
        1,
    ),
    "back to sideways, then a new trend: a new alert": (
        [("mean_reverting", 1, RANGE, "range"), ("trending", 2, TREND, "trending"),
         ("mean_reverting", 3, RANGE, "range"), ("trending", 4, TREND, "trending")],
        2,
    ),
    "sideways and random walks: never": (
        [("mean_reverting", 1, RANGE, "range"), ("random_walk", 11, MIXED, "range"),
         ("mean_reverting", 3, RANGE, "range"), ("random_walk", 14, MIXED, "range")],
        0,
    ),
}  # fmt: skip


@pytest.mark.parametrize("row", list(ROWS))
def test_the_alert_fires_once_per_turn_into_a_trend_and_only_to_the_owner(row):
    days, alerts = ROWS[row]
    owner, bystander = UserFactory(language="en"), UserFactory(language="en")
    bot = _running_bot(owner)
    calm = Market("CALMUSDT")
    _running_bot(bystander, "CALMUSDT")  # another user's bot on a sideways pair
    market = Market()
    seen = []
    for kind, seed, _label, _state in days:
        now = market.add_day(kind, seed)
        calm.add_day("mean_reverting", 100 + seed)
        regime_watch_all(now=now)
        regime_watch_all(now=now + timedelta(minutes=15))  # the next beat on the same data: nothing new
        watch = RegimeWatch.objects.get(bot=bot)
        seen.append((watch.label, watch.state))
    assert seen == [(label, state) for _k, _s, label, state in days]
    told = Notification.objects.filter(event=EVENT)
    assert told.filter(user=owner).count() == alerts
    assert not told.exclude(user=owner).exists()
    for note in told:
        assert note.params["bot_id"] == bot.pk and note.url == f"/bots/{bot.pk}"
        assert "turned from sideways to a trend" in note.body and "SYNUSDT" in note.body


def test_each_owner_is_told_about_their_own_bot_with_their_channels_and_language():
    first, second = UserFactory(language="ru"), UserFactory(language="en")
    Preference.objects.create(user=second, event=EVENT, channel="email", enabled=False)
    mine, theirs = _running_bot(first), _running_bot(second)
    stopped = BotFactory(user=UserFactory(), symbol="SYNUSDT", status="stopped")
    market = Market()
    market.add_day("mean_reverting", 1)
    regime_watch_all(now=START + timedelta(days=1))
    now = market.add_day("trending", 2)
    assert regime_watch_task.apply(kwargs={}).get() == {"checked": 0, "no_data": 2, "alerted": 0}  # stale: today
    assert regime_watch_all(now=now) == {"checked": 2, "no_data": 0, "alerted": 2}
    ru = Notification.objects.get(user=first, event=EVENT)
    en = Notification.objects.get(user=second, event=EVENT)
    assert ru.params["bot_id"] == mine.pk and "перешёл от боковика к тренду" in ru.body
    assert en.params["bot_id"] == theirs.pk and "turned from sideways to a trend" in en.body
    assert not Notification.objects.filter(user=stopped.user).exists()
    assert not Delivery.objects.filter(notification=en, channel="email").exists()
    assert en.in_app


def test_the_bot_page_shows_the_reason_and_another_users_bot_is_not_found(user_client, other_client):
    owner = user_client.user
    bot = _running_bot(owner)
    empty = user_client.get(f"/api/mcp/regime/bots/{bot.pk}/").json()
    assert empty["state"] == "unknown" and empty["against_grid"] is False and empty["reason"] == ""
    market = Market()
    market.add_day("mean_reverting", 1)
    regime_watch_all(now=START + timedelta(days=1))
    sideways = user_client.get(f"/api/mcp/regime/bots/{bot.pk}/").json()
    assert sideways["state"] == "range" and not sideways["against_grid"] and sideways["reason"] == ""
    regime_watch_all(now=market.add_day("trending", 2))
    body = user_client.get(f"/api/mcp/regime/bots/{bot.pk}/").json()
    assert body["against_grid"] is True and body["direction"] == "up"
    assert "turned from sideways to a trend" in body["reason"] and body["measures"]["efficiency_ratio"] > 0.3
    owner.language = "ru"
    owner.save(update_fields=["language"])
    assert "перешёл от боковика к тренду" in user_client.get(f"/api/mcp/regime/bots/{bot.pk}/").json()["reason"]
    assert other_client.get(f"/api/mcp/regime/bots/{bot.pk}/").status_code == 404


def test_the_check_is_on_the_beat_schedule():
    from django.core.management import call_command

    call_command("setup_schedules")
    task = PeriodicTask.objects.get(task=regime_watch_task.name)
    assert task.enabled and task.interval.every == 900
