"""Paper pools: a pool published from a bot on an account without real money (Setka's paper
simulator, an exchange's demo or testnet) is flagged at publication, not by the manager; the API
says so on the pool and its track record (simulated). Real and simulated money never share a
pool: a paper pool is followed only with paper accounts and a live pool only with real-money
accounts (a paper follower's fills would otherwise count in the live NAV and its fees)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from bots.models import Bot
from exchanges.models import ExchangeAccount
from pools.models import Pool
from tests.api.conftest import cookie_client
from tests.factories import BotFactory, ExchangeAccountFactory
from tests.pools.conftest import make_investor, make_manager

pytestmark = pytest.mark.django_db

MAINNET = ExchangeAccount.Environment.MAINNET
BODY = {
    "name": "BTC range",
    "description": "A calm grid.",
    "risk_level": "low",
    "min_investment": "20",
    "max_investment": "1000",
    "performance_fee_percent": "10",
}


def publish(client, bot, **extra):
    response = client.post("/api/pools/", {**BODY, "bot": bot.pk, **extra}, format="json")
    assert response.status_code == 201, response.content
    return Pool.objects.get(pk=response.json()["id"]), response.json()


@pytest.mark.parametrize(
    "environment, paper",
    [("paper", True), ("demo", True), ("testnet", True), ("mainnet", False)],
)
def test_the_flag_comes_from_the_bots_account_not_from_the_manager(environment, paper):
    manager = make_manager()
    account = ExchangeAccountFactory(user=manager, environment=environment)
    bot = BotFactory(user=manager, exchange_account=account, status=Bot.Status.RUNNING)
    pool, body = publish(cookie_client(manager), bot, is_paper=not paper)  # a typed-in flag is ignored
    assert pool.is_paper is paper and body["is_paper"] is paper
    Pool.objects.filter(pk=pool.pk).update(status=Pool.Status.APPROVED)
    anonymous = APIClient()
    listed = {p["id"]: p["is_paper"] for p in anonymous.get("/api/pools/").json()}
    assert listed == {pool.pk: paper}
    page = anonymous.get(f"/api/pools/{pool.pk}/").json()
    assert page["is_paper"] is paper and page["track_record"]["simulated"] is paper


def approved_pool(*, live: bool) -> Pool:
    manager = make_manager()
    account = ExchangeAccountFactory(user=manager, environment=MAINNET if live else "paper")
    bot = BotFactory(user=manager, exchange_account=account, status=Bot.Status.RUNNING)
    pool, _ = publish(cookie_client(manager), bot)
    Pool.objects.filter(pk=pool.pk).update(status=Pool.Status.APPROVED)
    pool.refresh_from_db()
    return pool


@pytest.mark.parametrize("path", ["preview", "join"])
def test_a_paper_pool_refuses_real_money_in_words(path):
    pool = approved_pool(live=False)
    investor = make_investor()
    real = ExchangeAccountFactory(user=investor, environment=MAINNET)
    body = {"exchange_account": real.pk, "amount": "100", "accept_warnings": True}
    response = cookie_client(investor).post(f"/api/pools/{pool.pk}/{path}/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "pool_paper_only"
    assert response.json()["detail"].startswith("Это пул бумажной торговли: его результаты смоделированы.")
    assert "exchange_account" in response.json()["fields"]
    investor.language = "en"
    investor.save(update_fields=["language"])
    response = cookie_client(investor).post(f"/api/pools/{pool.pk}/{path}/", body, format="json")
    assert response.json()["detail"].startswith("This is a paper-trading pool: its results are simulated.")
    assert not Bot.objects.filter(user=investor).exists()


def test_a_live_pool_refuses_paper_accounts_and_takes_real_money_ones(monkeypatch):
    pool = approved_pool(live=True)
    assert pool.is_paper is False
    investor = make_investor()
    paper = ExchangeAccountFactory(user=investor, environment="paper")
    client = cookie_client(investor)
    response = client.post(
        f"/api/pools/{pool.pk}/join/", {"exchange_account": paper.pk, "amount": "100"}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "pool_live_only"
    assert "Бумажные аккаунты следуют только за бумажными пулами" in response.json()["detail"]
    # a real-money account passes the rule and reaches the report (the exchange is not asked here)
    seen = []

    class Report:
        def to_json(self):
            return {"blocking": False}

    def report(**kwargs):
        seen.append(kwargs["exchange_account"].pk)
        return Report()

    monkeypatch.setattr("pools.services.members.bot_preview", report)
    real = ExchangeAccountFactory(user=investor, environment=MAINNET)
    response = client.post(
        f"/api/pools/{pool.pk}/preview/", {"exchange_account": real.pk, "amount": "100"}, format="json"
    )
    assert response.status_code == 200 and seen == [real.pk]
