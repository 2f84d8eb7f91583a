"""Annualised figures (issue 9, "APR figures are absurd"): grid APR and total APR are null until
the bot has run a day, and they carry the sign of the profit they annualise."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from metrics.models import BotMetrics
from metrics.selectors import APR_MIN_DAYS
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db


def _bot(user, *, ran: timedelta, grid_profit="5", realized="-40", unrealized="-10"):
    bot = BotFactory(user=user, status="running", started_at=timezone.now() - ran)
    BotMetrics.objects.create(
        bot=bot,
        invested=D("1000"),
        quote_balance=D("1000"),
        grid_profit=D(grid_profit),
        realized_pnl=D(realized),
        unrealized_pnl=D(unrealized),
        fees_quote=D("1"),
        gross_profit=D("5"),
        gross_loss=D("45"),
        base_position=D("0"),
        cost_basis=D("0"),
        last_price=D("50000"),
    )
    return bot


def test_apr_is_null_for_a_bot_younger_than_a_day(owner_client, user):
    assert APR_MIN_DAYS == 1
    young = _bot(user, ran=timedelta(minutes=10), grid_profit="3", realized="3", unrealized="1")
    for url in (f"/api/bots/{young.pk}/", "/api/bots/", "/api/dashboard/"):
        body = owner_client.get(url).json()
        figures = body["metrics"] if "metrics" in body else (body.get("results") or body["bots"])[0]["metrics"]
        # minutes after launch a 0.4 % gain would read as thousands of percent a year
        assert figures["grid_apr"] is None and figures["total_apr"] is None, url
        assert figures["total_pnl"] == "4"  # the plain figures are still there


def test_apr_after_a_day_has_the_sign_of_the_profit(owner_client, user):
    # Grid profit +5 but total P/L −50 (a losing stop and a falling price): the total APR is negative.
    bot = _bot(user, ran=timedelta(days=2), grid_profit="5", realized="-40", unrealized="-10")
    m = owner_client.get(f"/api/bots/{bot.pk}/metrics/").json()
    assert m["total_pnl"] == "-50"
    assert D(m["total_apr"]) < 0
    assert D(m["total_apr"]) == (D("-50") / 1000 / D(m["days_running"]) * 365 * 100).quantize(D("0.0001"))
    assert D(m["grid_apr"]) > 0  # grid profit itself was positive


def test_apr_just_over_the_threshold_is_shown(owner_client, user):
    bot = _bot(user, ran=timedelta(hours=24, minutes=1), grid_profit="1", realized="1", unrealized="0")
    m = owner_client.get(f"/api/bots/{bot.pk}/metrics/").json()
    assert m["grid_apr"] is not None and D(m["grid_apr"]) > 0
    assert m["total_apr"] == m["grid_apr"]
