"""TOTP two-factor through allauth's MFA: a user turns it on and then needs the code to log in;
recovery codes (shown once, stored hashed) each let them in once; operators and staff cannot
enter the admin without it when SETKA_ADMIN_REQUIRE_MFA is on."""

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


def _turn_on(client, user, codes: list | None = None) -> str:
    client.force_authenticate(user)
    setup = client.post("/api/auth/mfa/totp/")
    assert setup.status_code == 201 and setup.json()["otpauth_url"].startswith("otpauth://totp/Setka:")
    secret = setup.json()["secret"]
    assert (
        client.put("/api/auth/mfa/totp/", {"code": "000000" if _code(secret) != "000000" else "111111"}).json()["code"]
        == "mfa_invalid_code"
    )
    confirmed = client.put("/api/auth/mfa/totp/", {"code": _code(secret)}).json()
    assert confirmed["enabled"] is True and len(confirmed["recovery_codes"]) == 10
    if codes is not None:
        codes.extend(confirmed["recovery_codes"])
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


def _login(client, user, otp: str = ""):
    body = {"email": user.email, "password": DEFAULT_PASSWORD}
    if otp:
        body["otp"] = otp
    return client.post("/api/auth/login/", body)


def test_recovery_codes_are_shown_once_stored_hashed_and_each_lets_in_once():
    from accounts.models import RecoveryCode

    user = UserFactory()
    codes: list[str] = []
    _turn_on(APIClient(), user, codes)
    assert len(set(codes)) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes)
    stored = list(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not any(c.replace("-", "") in h or c in h for c in codes for h in stored)  # only hashes at rest
    # Any case, without the dash: the code lets the user in, once.
    assert _login(APIClient(), user, codes[0].upper().replace("-", " ")).status_code == 200
    again = _login(APIClient(), user, codes[0])
    assert again.status_code == 401 and again.json()["code"] == "mfa_invalid_code"
    assert _login(APIClient(), user, "abcde-fghjk").json()["code"] == "mfa_invalid_code"
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/auth/mfa/totp/").json() == {"enabled": True, "recovery_codes_left": 9}
    # Never readable again: no endpoint answers the codes without a fresh TOTP code.
    assert client.post("/api/auth/mfa/recovery-codes/", {"code": "12"}).json()["code"] == "mfa_invalid_code"


def test_regenerating_recovery_codes_needs_a_totp_code_and_voids_the_old_set():
    user = UserFactory()
    old: list[str] = []
    secret = _turn_on(APIClient(), user, old)
    client = APIClient()
    client.force_authenticate(user)
    bad = client.post("/api/auth/mfa/recovery-codes/", {"code": "000000" if _code(secret) != "000000" else "111111"})
    assert bad.status_code == 400 and bad.json()["code"] == "mfa_invalid_code"
    fresh = client.post("/api/auth/mfa/recovery-codes/", {"code": _code(secret)})
    assert fresh.status_code == 200
    new = fresh.json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert _login(APIClient(), user, old[1]).json()["code"] == "mfa_invalid_code"
    assert _login(APIClient(), user, new[1]).status_code == 200


def test_recovery_code_turns_two_factor_off_when_the_phone_is_lost():
    user = UserFactory()
    codes: list[str] = []
    _turn_on(APIClient(), user, codes)
    client = APIClient()
    client.force_authenticate(user)
    assert client.delete("/api/auth/mfa/totp/", {"code": codes[3]}).json() == {
        "enabled": False,
        "recovery_codes_left": 0,
    }
    assert _login(APIClient(), user).status_code == 200  # no second factor any more


def test_regenerate_without_two_factor_answers_a_message_not_a_500():
    client = APIClient()
    client.force_authenticate(UserFactory(language="ru"))
    response = client.post("/api/auth/mfa/recovery-codes/", {"code": "123456"})
    assert response.status_code == 409 and response.json()["code"] == "mfa_not_enabled"
    assert "не включена" in response.json()["detail"].lower()
    assert client.post("/api/auth/mfa/recovery-codes/", {"code": "x" * 200}).status_code == 400


def test_totp_secret_is_encrypted_at_rest():
    from allauth.mfa.models import Authenticator

    user = UserFactory()
    secret = _turn_on(APIClient(), user)
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert stored.startswith("fernet:") and secret not in stored
    assert _login(APIClient(), user, _code(secret)).status_code == 200  # still verifies


def test_a_recovery_code_opens_the_admin_once(client, settings):
    settings.SETKA_ADMIN_REQUIRE_MFA = True
    staff = UserFactory(email="ops2@example.com", is_staff=True, is_superuser=True)
    codes: list[str] = []
    _turn_on(APIClient(), staff, codes)
    form = {"username": staff.email, "password": DEFAULT_PASSWORD, "otp": codes[0]}
    assert client.post("/admin/login/", form).status_code == 302
    client.logout()
    assert client.post("/admin/login/", form).status_code == 200  # spent
