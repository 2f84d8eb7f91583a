"""Limits are enforced by the services (bot start/create via the API), with a coded message and
an upgrade path; paper trading is free on every venue."""

from decimal import Decimal

import pytest

from billing import services
from billing.models import Plan
from exchanges.models import Exchange
from tests.billing.conftest import live_account, live_bot
from tests.factories import BotFactory, ExchangeAccountFactory

pytestmark = pytest.mark.django_db


def test_second_live_bot_refused_on_free_allowed_on_paid(user_client, monkeypatch):
    user = user_client.user
    live_bot(user, status="running")
    second = live_bot(user, status="draft")
    response = user_client.post(f"/api/bots/{second.pk}/start/")
    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "plan_limit_live_bots"
    assert body["fields"]["upgrade_url"] == ["/pricing"] and body["fields"]["limit"] == ["1"]
    second.refresh_from_db()
    assert second.status == "draft"
    services.subscription_comp(user=user, plan=Plan.objects.get(code="start"), days=30)
    assert user_client.post(f"/api/bots/{second.pk}/start/").status_code in (200, 202)
    second.refresh_from_db()
    assert second.status == "starting"


def test_paper_bots_are_free_on_every_venue(user):
    for code in ("bybit", "binance", "okx"):
        exchange, _ = Exchange.objects.get_or_create(code=code, defaults={"name": code, "is_active": True})
        for _ in range(3):
            bot = BotFactory(
                user=user, exchange_account=ExchangeAccountFactory(user=user, exchange=exchange), status="running"
            )
            services.entitlement_check(user=user, action="bot_start", bot=bot)


def test_investment_cap_and_exchange_count_on_free(user):
    with pytest.raises(services.PlanLimitError) as exc:
        services.entitlement_check(
            user=user, action="bot_create", exchange_account=live_account(user), investment=Decimal("500.01")
        )
    assert exc.value.code == "plan_limit_investment"
    services.entitlement_check(
        user=user, action="bot_create", exchange_account=live_account(user), investment=Decimal("500")
    )
    services.subscription_comp(user=user, plan=Plan.objects.get(code="start"), days=30)  # 2 venues
    live_bot(user)
    okx, _ = Exchange.objects.get_or_create(code="okx", defaults={"name": "OKX", "is_active": True})
    kucoin, _ = Exchange.objects.get_or_create(code="kucoin", defaults={"name": "KuCoin", "is_active": True})
    live_bot(user, account=ExchangeAccountFactory(user=user, exchange=okx, environment="mainnet"))
    with pytest.raises(services.PlanLimitError) as exc:
        services.entitlement_check(
            user=user,
            action="bot_create",
            exchange_account=ExchangeAccountFactory(user=user, exchange=kucoin, environment="mainnet"),
            investment=Decimal("10"),
        )
    assert exc.value.code == "plan_limit_exchanges"


def test_backtests_pools_and_api_limits(user):
    services.entitlement_check(user=user, action="backtest_run", used_today=2)
    with pytest.raises(services.PlanLimitError) as exc:
        services.entitlement_check(user=user, action="backtest_run", used_today=3)
    assert exc.value.code == "plan_limit_backtests"
    with pytest.raises(services.PlanLimitError) as exc:
        services.entitlement_check(user=user, action="pool_join", pools_joined=0)
    assert exc.value.code == "plan_limit_pools"
    with pytest.raises(services.PlanLimitError):
        services.entitlement_check(user=user, action="api_access")
    services.subscription_comp(user=user, plan=Plan.objects.get(code="pro"), days=30)
    services.entitlement_check(user=user, action="api_access")


def test_open_registration_trades_without_an_access_code(settings, django_user_model):
    user = django_user_model.objects.create_user(email="new@example.com", password="x" * 12)
    settings.SETKA_REGISTRATION_MODE = "invite"
    assert not user.has_trading_access
    settings.SETKA_REGISTRATION_MODE = "open"
    assert user.has_trading_access
