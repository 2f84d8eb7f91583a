"""Billing fixtures: the two fake providers (real wire on 127.0.0.1) with the real clients
pointed at them, live (non-paper) exchange accounts and bots, and callback delivery through the
real webhook endpoint."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from billing.fakes.cryptopay import FakeCryptoPay
from billing.fakes.yookassa import FakeYooKassa
from exchanges.models import ExchangeAccount
from tests.factories import BotFactory, ExchangeAccountFactory

SHOP_ID, SECRET = "100500", "test_setka_fake_secret"
TOKEN = "1234:AAsetkaFakeCryptoPayToken"


@pytest.fixture(scope="module")
def _yookassa_server():
    fake = FakeYooKassa(shop_id=SHOP_ID, secret_key=SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def _cryptopay_server():
    fake = FakeCryptoPay(token=TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def yookassa(_yookassa_server, settings):
    settings.SETKA_YOOKASSA_API_URL = f"{_yookassa_server.url}/v3"
    settings.SETKA_YOOKASSA_SHOP_ID, settings.SETKA_YOOKASSA_SECRET_KEY = SHOP_ID, SECRET
    settings.SETKA_YOOKASSA_WEBHOOK_NETWORKS = ["127.0.0.1/32"]
    _yookassa_server.outbox.clear()
    _yookassa_server.payouts.clear()
    _yookassa_server.settle_payouts, _yookassa_server.fail_next_payout_answer = None, False
    return _yookassa_server


@pytest.fixture
def cryptopay(_cryptopay_server, settings):
    settings.SETKA_CRYPTOPAY_API_URL = f"{_cryptopay_server.url}/api"
    settings.SETKA_CRYPTOPAY_TOKEN = TOKEN
    _cryptopay_server.outbox.clear()
    _cryptopay_server.transfers.clear()
    _cryptopay_server.fail_next_transfer_answer = False
    return _cryptopay_server


@pytest.fixture
def payouts_sent_inline(monkeypatch, django_capture_on_commit_callbacks):
    """A payout written on commit is sent right there, as the worker would (payout_send_task)."""
    from billing.services import payout_send

    monkeypatch.setattr("billing.tasks.payout_send_task.delay", lambda pk: payout_send(payout_id=pk))


@pytest.fixture
def hook():
    """Deliver a callback body to our webhook endpoint as the provider would."""
    client = APIClient()

    def deliver(provider: str, body: bytes, *, headers: dict | None = None, addr: str = "127.0.0.1"):
        extra = {
            f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items() if k.lower() != "content-type"
        }
        return client.post(
            f"/api/billing/webhooks/{provider}/", data=body, content_type="application/json", REMOTE_ADDR=addr, **extra
        )

    return deliver


def live_account(user):
    return ExchangeAccountFactory(user=user, environment=ExchangeAccount.Environment.MAINNET)


def live_bot(user, *, account=None, status="running", investment="100", **kw):
    return BotFactory(
        user=user, exchange_account=account or live_account(user), status=status, investment=investment, **kw
    )


@pytest.fixture
def user(db):
    """Billing's emails and messages are asserted in Russian: the default language of the app."""
    from tests.factories import UserFactory

    return UserFactory(language="ru")

@pytest.fixture(autouse=True)
def _notifications_sent_in_process(monkeypatch):
    """Billing tells users through notifications.notify(); its deliveries, queued after commit
    for a worker, are sent right here (as the worker would) so tests see the emails."""
    from notifications.services import delivery_send

    monkeypatch.setattr("notifications.tasks.delivery_send_task.delay", lambda pk: delivery_send(delivery_id=pk))
