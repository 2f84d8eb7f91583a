"""Repeated wrong passwords lock the email (and the IP) out: 429 with Retry-After."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import SpaClient
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_lockout_after_repeated_wrong_passwords(spa, verified_user, settings):
    settings.SETKA_LOGIN_MAX_FAILURES = 3
    settings.SETKA_LOGIN_LOCKOUT_SECONDS = 600
    for _ in range(2):
        response = spa.post("/api/auth/login/", {"email": verified_user.email, "password": "wrong-password-1"})
        assert response.status_code == 400
        assert response.data["code"] == "invalid_credentials"
    response = spa.post("/api/auth/login/", {"email": verified_user.email, "password": "wrong-password-1"})
    assert response.status_code == 429
    assert response.data["code"] == "login_locked"
    assert 0 < int(response["Retry-After"]) <= 600

    # The right password during the lockout is still refused, from another address too.
    elsewhere = SpaClient(REMOTE_ADDR="10.1.2.3")
    response = elsewhere.post("/api/auth/login/", {"email": verified_user.email.upper(), "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "setka_access" not in elsewhere.cookies


def test_lockout_per_ip_across_emails(spa, verified_user, settings):
    settings.SETKA_LOGIN_MAX_FAILURES = 100
    settings.SETKA_LOGIN_MAX_FAILURES_PER_IP = 4
    for n in range(3):
        assert spa.post("/api/auth/login/", {"email": f"guess{n}@example.com", "password": "x" * 10}).status_code == 400
    assert spa.post("/api/auth/login/", {"email": "guess9@example.com", "password": "x" * 10}).status_code == 429
    # Same IP, real user, right password: still locked. Another IP is fine.
    assert spa.post("/api/auth/login/", {"email": verified_user.email, "password": DEFAULT_PASSWORD}).status_code == 429
    other = SpaClient(REMOTE_ADDR="10.9.9.9")
    assert (
        other.post("/api/auth/login/", {"email": verified_user.email, "password": DEFAULT_PASSWORD}).status_code == 200
    )


def test_success_resets_the_email_counter(spa, verified_user, settings):
    settings.SETKA_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        spa.post("/api/auth/login/", {"email": verified_user.email, "password": "wrong-password-1"})
    assert spa.post("/api/auth/login/", {"email": verified_user.email, "password": DEFAULT_PASSWORD}).status_code == 200
    for _ in range(2):
        assert (
            spa.post("/api/auth/login/", {"email": verified_user.email, "password": "wrong-password-1"}).status_code
            == 400
        )


def test_anonymous_auth_endpoints_are_rate_limited_per_ip(spa, settings, db):
    settings.SETKA_THROTTLE_AUTH = "3/min"
    for n in range(3):
        assert spa.post("/api/auth/password/reset/", {"email": f"x{n}@example.com"}).status_code == 200
    response = spa.post("/api/auth/password/reset/", {"email": "x9@example.com"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_email_codes_per_address_are_limited(spa, settings, db):
    from accounts.models import OutboxMessage
    from tests.accounts.conftest import STRONG_PASSWORD

    settings.SETKA_CODE_SENDS_PER_HOUR = 2
    spa.post("/api/auth/signup/", {"email": "flood@example.com", "password": STRONG_PASSWORD})
    for _ in range(3):
        assert spa.post("/api/auth/email/resend/", {"email": "flood@example.com"}).status_code == 200
    assert OutboxMessage.objects.filter(recipient="flood@example.com").count() == 2
