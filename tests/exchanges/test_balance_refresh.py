"""The exchange account card reads a fresh balance through the port, with the time it was read."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def bound(user_client, paper_settings, simulator, sim_account):
    paper_settings.SETKA_BYBIT_ENDPOINTS = {"testnet": (simulator.base_url, simulator.ws_url)}
    response = user_client.post(
        "/api/exchange-accounts/",
        {"label": "Main", "environment": "testnet", "api_key": sim_account.api_key, "api_secret": sim_account.api_secret},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_refresh_reads_the_balance_now_and_says_when(user_client, simulator, sim_account, bound):
    assert bound["balances"]["BTC"].rstrip("0").rstrip(".") == "1"
    simulator.control.fund(sim_account.uid, "BTC", "2")  # money moved on the exchange since binding
    before = timezone.now()
    response = user_client.post(f"/api/exchange-accounts/{bound['id']}/balance/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["balances"]["BTC"].rstrip("0").rstrip(".") == "3"
    read_at = datetime.fromisoformat(body["read_at"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= read_at <= timezone.now()
    # the account keeps the last read
    assert user_client.get(f"/api/exchange-accounts/{bound['id']}/").json()["balances"]["BTC"].startswith("3")


def test_refresh_of_someone_elses_account_is_404_and_a_down_exchange_503(other_client, user_client, simulator, bound):
    assert other_client.post(f"/api/exchange-accounts/{bound['id']}/balance/").status_code == 404
    simulator.control.inject_fault("http_error", status=503)  # until cleared
    response = user_client.post(f"/api/exchange-accounts/{bound['id']}/balance/")
    assert response.status_code == 503 and response.json()["code"] == "exchange_unavailable"
