"""Traps users fell into (issue 9, "What users tripped on" 7): each answered as a person means it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.conftest import T0, make_trading_bot
from tests.factories import ExchangeAccountFactory, grid_config

pytestmark = pytest.mark.django_db


def test_trades_to_a_date_include_that_whole_day(owner_client, user):
    bot = make_trading_bot(user, start=T0.replace(hour=21))  # trades from 21:00 into the next day
    day = T0.date().isoformat()
    evening = owner_client.get(f"/api/trades/?date_from={day}&date_to={day}&limit=500").json()["results"]
    assert evening and all(t["executed_at"].startswith(day) for t in evening)
    assert len(evening) == sum(1 for t in bot.trades.all() if t.executed_at.date() == T0.date())
    # a date-time stays exclusive, as documented
    cut = (T0.replace(hour=21) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    before = owner_client.get("/api/trades/", {"date_to": cut}).json()["results"]
    assert all(t["executed_at"] < cut for t in before)
    # and the CSV export is the same selection
    rows = list(owner_client.get(f"/api/trades/export.csv?date_from={day}&date_to={day}"))
    assert b"".join(rows).decode().count("\n") == len(evening) + 1


def test_the_password_minimum_the_forms_show_is_the_one_the_server_enforces(api_client, settings):
    body = api_client.get("/api/app-config/").json()
    assert body == {"password_min_length": settings.SETKA_PASSWORD_MIN_LENGTH} and body["password_min_length"] == 10
    short = "Qz7!" + "x" * (body["password_min_length"] - 5)  # one character short
    response = api_client.post(
        "/api/auth/signup/", {"email": "short@example.com", "password": short}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400 and "10" in response.json()["detail"]
    ok = api_client.post(
        "/api/auth/signup/", {"email": "ok@example.com", "password": short + "k"}, format="json"
    )
    assert ok.status_code in (200, 201), ok.content


def test_decimal_commas_in_the_bot_config_are_read_as_points(owner_client, user, fake_exchange):
    account = ExchangeAccountFactory(user=user)
    config = grid_config(lower_price="50000,5", upper_price="60000,5", investment="1000,25")
    response = owner_client.post(
        "/api/bots/preview/", {"exchange_account": account.pk, "symbol": "BTCUSDT", "config": config}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["levels"][0].startswith("50000.5")
    bad = grid_config(lower_price="50,000,5")
    response = owner_client.post(
        "/api/bots/preview/", {"exchange_account": account.pk, "symbol": "BTCUSDT", "config": bad}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_config"
