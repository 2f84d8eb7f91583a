"""Restart of a stopped bot (issue 9, "re-enters the market in one tap"): a fresh report at the
current price, then an explicit confirmation the server insists on, like the launch."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.models import Bot
from tests.factories import BotFactory, ExchangeAccountFactory, grid_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def stopped_bot(user):
    account = ExchangeAccountFactory(user=user)
    # 50,000-60,000 with BTC at 55,000 (the fake exchange): a healthy grid.
    return BotFactory(
        user=user, exchange_account=account, status="stopped", config=grid_config(), report={"price": "40000"}
    )


@pytest.fixture(autouse=True)
def no_worker(monkeypatch):
    """The tick a start queues is not run here (the start itself is what is tested)."""
    import bots.services.start as start

    monkeypatch.setattr(start, "enqueue_tick", lambda *a, **k: None)


def test_start_endpoint_refuses_a_stopped_bot(owner_client, stopped_bot, fake_exchange):
    response = owner_client.post(f"/api/bots/{stopped_bot.pk}/start/")
    assert response.status_code == 409 and response.json()["code"] == "restart_needs_confirmation"
    stopped_bot.refresh_from_db()
    assert stopped_bot.status == "stopped"


def test_restart_preview_is_fresh_and_changes_nothing(owner_client, stopped_bot, fake_exchange):
    fake_exchange.price = D("56000")
    report = owner_client.post(f"/api/bots/{stopped_bot.pk}/restart/preview/").json()
    assert report["price"] == "56000"  # the current price, not the one of the first launch
    assert D(report["levels"][0]) == 50000 and D(report["levels"][-1]) == 60000
    stopped_bot.refresh_from_db()
    assert stopped_bot.status == "stopped" and stopped_bot.report == {"price": "40000"}


def test_restart_without_confirmation_is_refused(owner_client, stopped_bot, fake_exchange):
    for body in ({}, {"confirm": False}):
        response = owner_client.post(f"/api/bots/{stopped_bot.pk}/restart/", body, format="json")
        assert response.status_code == 400 and response.json()["code"] == "restart_not_confirmed"
    stopped_bot.refresh_from_db()
    assert stopped_bot.status == "stopped"


def test_confirmed_restart_starts_with_the_fresh_report(owner_client, stopped_bot, fake_exchange):
    generation = stopped_bot.generation
    response = owner_client.post(f"/api/bots/{stopped_bot.pk}/restart/", {"confirm": True}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "starting"
    stopped_bot.refresh_from_db()
    assert stopped_bot.status == Bot.Status.STARTING and stopped_bot.generation == generation + 1
    assert stopped_bot.report["price"] == "55000"


def test_a_warning_the_user_did_not_see_refuses_the_restart(owner_client, user, fake_exchange):
    # A range far above the price: the report warns (price outside the range).
    bot = BotFactory(
        user=user,
        exchange_account=ExchangeAccountFactory(user=user),
        status="stopped",
        config=grid_config(lower_price="60000", upper_price="70000"),
    )
    report = owner_client.post(f"/api/bots/{bot.pk}/restart/preview/").json()
    codes = [w["code"] for w in report["warnings"] if w["severity"] != "info"]
    assert codes, report["warnings"]
    refused = owner_client.post(f"/api/bots/{bot.pk}/restart/", {"confirm": True}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "warnings_not_accepted"
    ok = owner_client.post(f"/api/bots/{bot.pk}/restart/", {"confirm": True, "warnings_seen": codes}, format="json")
    assert ok.status_code == 202, ok.content
    bot.refresh_from_db()
    assert bot.warnings_accepted_at is not None


def test_only_a_stopped_bot_restarts(owner_client, user, fake_exchange):
    running = BotFactory(user=user, status="running")
    response = owner_client.post(f"/api/bots/{running.pk}/restart/", {"confirm": True}, format="json")
    assert response.status_code == 409


def test_neutral_report_shows_both_liquidation_prices(owner_client, user, fake_exchange):
    account = ExchangeAccountFactory(user=user)
    config = grid_config(
        strategy="linear_grid", lower_price="50000", upper_price="60000", direction="neutral", leverage="10"
    )
    response = owner_client.post(
        "/api/bots/preview/",
        {"exchange_account": account.pk, "symbol": "BTCUSDT", "category": "linear", "config": config},
        format="json",
    )
    assert response.status_code == 200, response.content
    report = response.json()
    long_side, short_side = report["liquidation_price_long"], report["liquidation_price_short"]
    assert long_side is not None and short_side is not None
    # the long side liquidates below the range, the short side above it
    assert D(long_side) < D("50000") < D("60000") < D(short_side)
    short = dict(config, direction="short")
    report = owner_client.post(
        "/api/bots/preview/",
        {"exchange_account": account.pk, "symbol": "BTCUSDT", "category": "linear", "config": short},
        format="json",
    ).json()
    assert report["liquidation_price_long"] is None and D(report["liquidation_price_short"]) > D("60000")
