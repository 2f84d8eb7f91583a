"""TOTP two-factor through allauth's MFA: a user turns it on and then needs the code to log in;
operators and staff cannot enter the admin without it when SETKA_ADMIN_REQUIRE_MFA is on."""

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _code(secret: str, offset: int = 0) -> str:
    counter = int(time.time()) // getattr(django_settings, "MFA_TOTP_PERIOD", 30)
    return format_hotp_value(hotp_value(secret, counter + offset))


def _turn_on(client, user) -> str:
    client.force_authenticate(user)
    setup = client.post("/api/auth/mfa/totp/")
    assert setup.status_code == 201 and setup.json()["otpauth_url"].startswith("otpauth://totp/Setka:")
    secret = setup.json()["secret"]
    assert (
        client.put("/api/auth/mfa/totp/", {"code": "000000" if _code(secret) != "000000" else "111111"}).json()["code"]
        == "mfa_invalid_code"
    )
    assert client.put("/api/auth/mfa/totp/", {"code": _code(secret)}).json() == {"enabled": True}
    client.force_authenticate(None)
    return secret


def test_login_needs_the_code_once_totp_is_on():
    user = UserFactory()
    client = APIClient()
    secret = _turn_on(client, user)
    response = client.post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 401 and response.json()["code"] == "mfa_required"
    response = client.post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD, "otp": "123"})
    assert response.json()["code"] == "mfa_invalid_code"
    code = _code(secret)
    response = client.post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD, "otp": code})
    assert response.status_code == 200
    # A code works once (a replayed code is refused).
    response = APIClient().post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD, "otp": code})
    assert response.status_code == 401 and response.json()["code"] == "mfa_invalid_code"


def test_staff_cannot_enter_the_admin_without_totp(client, settings):
    settings.SETKA_ADMIN_REQUIRE_MFA = True
    staff = UserFactory(email="ops@example.com", is_staff=True, is_superuser=True)
    assert b'name="otp"' in client.get("/admin/login/").content
    response = client.post("/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200 and b"two-factor" in response.content
    secret = _turn_on(APIClient(), staff)
    response = client.post("/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD, "otp": "000000"})
    assert response.status_code == 200
    response = client.post(
        "/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD, "otp": _code(secret)}
    )
    assert response.status_code == 302
    assert client.get("/admin/billing/payment/").status_code == 200
