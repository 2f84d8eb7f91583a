"""Nothing leaves this machine: every provider URL in dev/test settings is loopback, the SDK is
configured with it, and a whole payment runs with any non-loopback connection refused."""

import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from billing import services
from billing.providers import yookassa as yookassa_adapter

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def test_every_billing_url_setting_is_loopback():
    urls = {
        name: getattr(settings, name) for name in dir(settings) if name.startswith("SETKA_") and name.endswith("_URL")
    }
    billing = {k: v for k, v in urls.items() if "YOOKASSA" in k or "CRYPTOPAY" in k or "BILLING" in k}
    assert {"SETKA_YOOKASSA_API_URL", "SETKA_CRYPTOPAY_API_URL", "SETKA_BILLING_PUBLIC_URL"} <= set(billing)
    for name, url in billing.items():
        # empty = derived from the request (the return address after paying)
        assert url == "" or urlsplit(url).hostname in LOOPBACK, f"{name} points at {url}"
    assert settings.SETKA_YOOKASSA_WEBHOOK_NETWORKS == ["127.0.0.1/32"]


def test_the_sdk_is_configured_with_the_fake_not_yookassa():
    from yookassa import Configuration

    yookassa_adapter.configure()
    assert urlsplit(Configuration.api_url).hostname == "127.0.0.1"


@pytest.fixture
def loopback_only(monkeypatch):
    real = socket.create_connection
    real_getaddrinfo = socket.getaddrinfo

    def guard_host(host):
        if str(host) not in LOOPBACK:
            raise AssertionError(f"a connection to {host} was attempted")

    def create_connection(address, *args, **kwargs):
        guard_host(address[0])
        return real(address, *args, **kwargs)

    def getaddrinfo(host, *args, **kwargs):
        guard_host(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.django_db
def test_a_whole_payment_touches_only_loopback(loopback_only, user, yookassa, cryptopay, hook):
    payment = services.checkout_create(user=user, plan_code="start", provider="yookassa", method="sbp")
    yookassa.pay(payment.provider_payment_id, method="sbp")
    assert hook("yookassa", yookassa.outbox[-1]).status_code == 200
    payment = services.checkout_create(user=user, plan_code="pro", provider="cryptopay")
    assert urlsplit(payment.confirmation_url).hostname == "127.0.0.1"
