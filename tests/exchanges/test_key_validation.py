"""Binding keys: only keys that authenticate, can trade and cannot withdraw are stored; each
refusal says why in words a user understands. Checked against the simulator over loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from config.errors import DomainError
from exchanges import services
from exchanges.models import ExchangeAccount
from tests.factories import UserFactory


@pytest.fixture
def testnet_is_simulator(paper_settings, simulator):
    paper_settings.SETKA_BYBIT_ENDPOINTS = {"testnet": (simulator.base_url, simulator.ws_url)}
    return paper_settings


@pytest.fixture
def trader(db):
    return UserFactory()


def bind(user, key, *, secret=None, label="Main"):
    return services.exchange_account_create(
        user=user, label=label, environment="testnet", api_key=key.api_key, api_secret=secret or key.api_secret
    )


def new_key(simulator, uid, **perms):
    return simulator.control.create_api_key(uid, **perms)


def test_good_key_is_stored_with_snapshot(testnet_is_simulator, trader, sim_account):
    account = bind(trader, sim_account)
    assert account.status == ExchangeAccount.Status.ACTIVE and account.environment == "testnet"
    assert account.api_key_hint == f"{sim_account.api_key[:4]}…{sim_account.api_key[-4:]}"
    assert account.permissions["can_trade_spot"] and not account.permissions["can_withdraw"]
    assert Decimal(account.balances["USDT"]) == Decimal("10000")
    assert account.validated_at is not None
    fresh = ExchangeAccount.objects.get(pk=account.pk)
    assert (fresh.api_key, fresh.api_secret) == (sim_account.api_key, sim_account.api_secret)


@pytest.mark.parametrize(
    "perms, message",
    [
        ({"withdraw": True}, "This key can withdraw funds. Create a key without the Withdraw permission."),
        ({"read_only": True}, "read-only"),
        ({"spot_trade": False, "contract_trade": False}, "cannot trade"),
        ({"expires_at": datetime.now(UTC) - timedelta(hours=1)}, "expired"),
        ({"ip_whitelist": ["203.0.113.9"]}, "IP"),
    ],
)
def test_unusable_keys_are_refused_and_never_stored(
    testnet_is_simulator, trader, simulator, sim_account, perms, message
):
    key = new_key(simulator, sim_account.uid, **perms)
    with pytest.raises(DomainError) as info:
        bind(trader, key)
    assert message in info.value.message
    assert not ExchangeAccount.objects.exists()
    with connection.cursor() as cursor:  # not even a trace of it
        cursor.execute("SELECT count(*) FROM exchanges_exchangeaccount")
        assert cursor.fetchone()[0] == 0


def test_bad_signature_is_refused(testnet_is_simulator, trader, sim_account):
    with pytest.raises(DomainError) as info:
        bind(trader, sim_account, secret="wrong-secret-0000")
    assert "did not accept this API key or secret" in info.value.message
    assert not ExchangeAccount.objects.exists()


def test_unknown_key_is_refused(testnet_is_simulator, trader, sim_account):
    class Unknown:
        api_key, api_secret = "NOSUCHKEY0000000", "whatever"

    with pytest.raises(DomainError):
        bind(trader, Unknown)


def test_user_without_trading_access_cannot_bind(testnet_is_simulator, sim_account, db):
    user = UserFactory(access_granted_at=None)
    with pytest.raises(DomainError) as info:
        bind(user, sim_account)
    assert info.value.status_code == 403 and not ExchangeAccount.objects.exists()


def test_exchange_down_is_503_and_nothing_stored(paper_settings, trader, sim_account):
    paper_settings.SETKA_BYBIT_ENDPOINTS = {"testnet": ("http://127.0.0.1:9", "ws://127.0.0.1:9")}
    paper_settings.SETKA_EXCHANGE_TIMEOUT = 0.3
    with pytest.raises(services.ExchangeUnavailable) as info:
        bind(trader, sim_account)
    assert info.value.status_code == 503
    assert not ExchangeAccount.objects.exists()


def test_paper_account_is_funded_on_the_simulator(paper_settings, trader, simulator):
    paper_settings.SETKA_PAPER_FUNDING_USDT = "10000"
    account = services.exchange_account_create_paper(user=trader)
    assert account.environment == "paper" and account.label == "Paper"
    assert account.balances == {"USDT": "10000"}
    second = services.exchange_account_create_paper(user=trader)
    assert second.label == "Paper 2" and second.api_key != account.api_key


def test_recheck_flags_revoked_and_expired_keys(testnet_is_simulator, trader, simulator, sim_account):
    soon = new_key(simulator, sim_account.uid, expires_at=datetime.now(UTC) + timedelta(seconds=1))
    account = bind(trader, soon, label="Short-lived")
    assert account.key_expires_at is not None
    good = bind(trader, sim_account, label="Good")
    import time

    time.sleep(1.2)
    counts = services.exchange_accounts_recheck_all()
    account.refresh_from_db()
    good.refresh_from_db()
    assert account.status == ExchangeAccount.Status.EXPIRED and "expired" in account.status_reason
    assert good.status == ExchangeAccount.Status.ACTIVE
    assert counts == {"expired": 1, "active": 1}

    # a key deleted on the exchange: the stored (sealed) key no longer authenticates
    ExchangeAccount.objects.filter(pk=good.pk).update(api_key=_sealed("NOSUCHKEY0000000"))
    good.refresh_from_db()
    services.exchange_account_recheck(account=good)
    good.refresh_from_db()
    assert good.status == ExchangeAccount.Status.REVOKED and good.status_reason


def _sealed(plain):
    from exchanges.fields import SealedSecret, current_fernet

    return SealedSecret(current_fernet().encrypt(plain.encode()).decode())


def test_ip_bound_key_that_includes_our_address_is_stored_with_its_binding(
    testnet_is_simulator, trader, simulator, sim_account
):
    key = new_key(simulator, sim_account.uid, ip_whitelist=["127.0.0.1"])
    account = bind(trader, key)
    assert account.ip_whitelist == ["127.0.0.1"] and account.status == ExchangeAccount.Status.ACTIVE


def test_no_secret_reaches_the_logs(testnet_is_simulator, trader, simulator, sim_account, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    withdraw = new_key(simulator, sim_account.uid, withdraw=True)
    for key, secret in ((withdraw, None), (sim_account, "wrong-secret-123456")):
        with pytest.raises(DomainError):
            bind(trader, key, secret=secret)
    account = bind(trader, sim_account)
    services.exchange_account_recheck(account=account)
    text = caplog.text
    for secret in (withdraw.api_secret, sim_account.api_secret, "wrong-secret-123456"):
        assert secret not in text
