"""Phone number: E.164 validation, SMS code through the outbox, verification, uniqueness."""

from __future__ import annotations

import pytest

from accounts.models import OutboxMessage, Profile
from tests.accounts.conftest import SpaClient, outbox_code

pytestmark = pytest.mark.django_db


def test_phone_verification_by_sms_code(logged_in):
    response = logged_in.post("/api/auth/phone/", {"phone": "+7 999 123-45-67"})
    assert response.status_code == 200, response.content
    assert response.data["phone"] == "+79991234567"
    sms = OutboxMessage.objects.get(channel=OutboxMessage.Channel.SMS)
    assert sms.recipient == "+79991234567"
    # Not verified until the code comes back.
    assert logged_in.get("/api/auth/session/").data["user"]["phone_verified"] is False

    code = outbox_code("+79991234567", channel=OutboxMessage.Channel.SMS)
    response = logged_in.post("/api/auth/phone/verify/", {"code": code})
    assert response.status_code == 200, response.content
    assert response.data["user"]["phone"] == "+79991234567"
    assert response.data["user"]["phone_verified"] is True
    profile = Profile.objects.get(user=logged_in.user)
    assert profile.phone == "+79991234567" and profile.phone_verified_at is not None

    # A used code cannot be replayed.
    assert logged_in.post("/api/auth/phone/verify/", {"code": code}).status_code == 400


def test_wrong_sms_code_is_refused(logged_in):
    logged_in.post("/api/auth/phone/", {"phone": "+447911123456"})
    code = outbox_code("+447911123456", channel=OutboxMessage.Channel.SMS)
    wrong = f"{(int(code) + 7) % 10**6:06d}"
    response = logged_in.post("/api/auth/phone/verify/", {"code": wrong})
    assert response.status_code == 400
    assert response.data["fields"]["code"]
    assert Profile.objects.get(user=logged_in.user).phone == ""


@pytest.mark.parametrize("phone", ["89991234567", "+7999", "+1 000 000 0000", "hello", "+" + "9" * 40, ""])
def test_malformed_phone_is_400(logged_in, phone):
    response = logged_in.post("/api/auth/phone/", {"phone": phone})
    assert response.status_code == 400
    assert response.data["fields"]["phone"]
    assert not OutboxMessage.objects.filter(channel=OutboxMessage.Channel.SMS).exists()


def test_phone_binding_does_not_reveal_numbers_of_other_accounts(logged_in, operator):
    """Issue 9, item 6: the same answer for a number of another account and a free one; the
    taken number gets no SMS and can never be confirmed."""
    Profile.objects.filter(user=operator).update(phone="+79991234567", phone_verified_at="2026-01-01T00:00:00Z")
    taken = logged_in.post("/api/auth/phone/", {"phone": "+79991234567"})
    free = logged_in.post("/api/auth/phone/", {"phone": "+79991234566"})
    assert taken.status_code == free.status_code == 200
    assert taken.data["detail"] == free.data["detail"] and set(taken.data) == set(free.data)
    assert not OutboxMessage.objects.filter(recipient="+79991234567").exists()
    for guess in ("000000", "123456"):
        assert logged_in.post("/api/auth/phone/verify/", {"code": guess}).status_code == 400
    assert Profile.objects.get(user=operator).phone == "+79991234567"


def test_one_account_cannot_text_many_numbers(logged_in, settings):
    settings.SETKA_PHONE_NUMBERS_PER_DAY = 3
    for n in range(3):
        assert logged_in.post("/api/auth/phone/", {"phone": f"+7999123450{n}"}).status_code == 200
    response = logged_in.post("/api/auth/phone/", {"phone": "+79991234509"})
    assert response.status_code == 429 and response.data["code"] == "too_many_phone_numbers"
    assert int(response["Retry-After"]) > 0
    assert OutboxMessage.objects.filter(channel=OutboxMessage.Channel.SMS).count() == 3
    # An already tried number may still get its code again.
    assert logged_in.post("/api/auth/phone/", {"phone": "+79991234501"}).status_code == 200


def test_one_account_cannot_ask_for_many_codes(logged_in, settings):
    settings.SETKA_PHONE_CODES_PER_HOUR = 4
    settings.SETKA_CODE_SENDS_PER_HOUR = 100
    for n in range(4):
        assert logged_in.post("/api/auth/phone/", {"phone": f"+7999123451{n % 2}"}).status_code == 200
    response = logged_in.post("/api/auth/phone/", {"phone": "+79991234510"})
    assert response.status_code == 429 and response.data["code"] == "too_many_codes"
    assert int(response["Retry-After"]) > 0


def test_sms_sending_is_limited_per_number(logged_in, settings):
    settings.SETKA_CODE_SENDS_PER_HOUR = 2
    for _ in range(2):
        assert logged_in.post("/api/auth/phone/", {"phone": "+79991234568"}).status_code == 200
    response = logged_in.post("/api/auth/phone/", {"phone": "+79991234568"})
    assert response.status_code == 429 and response.data["code"] == "too_many_codes"
    assert int(response["Retry-After"]) > 0
    assert OutboxMessage.objects.filter(channel=OutboxMessage.Channel.SMS).count() == 2


def test_sms_backend_is_pluggable(logged_in, settings):
    sent = []

    class Recorder:
        def send(self, to, text):
            sent.append((to, text))

    import sys
    import types

    module = types.ModuleType("tests_sms_recorder")
    module.Recorder = Recorder
    sys.modules["tests_sms_recorder"] = module
    settings.SETKA_SMS_BACKEND = "tests_sms_recorder.Recorder"
    try:
        assert logged_in.post("/api/auth/phone/", {"phone": "+79991234569"}).status_code == 200
    finally:
        del sys.modules["tests_sms_recorder"]
    assert sent and sent[0][0] == "+79991234569"
    assert not OutboxMessage.objects.exists()


def test_phone_needs_login(db):
    client = SpaClient()
    assert client.post("/api/auth/phone/", {"phone": "+79991234567"}).status_code == 401


def test_number_taken_between_send_and_verify_is_a_400(logged_in, operator):
    logged_in.post("/api/auth/phone/", {"phone": "+79991230000"})
    code = outbox_code("+79991230000", channel=OutboxMessage.Channel.SMS)
    Profile.objects.filter(user=operator).update(phone="+79991230000")  # someone else got there first
    response = logged_in.post("/api/auth/phone/verify/", {"code": code})
    assert response.status_code == 400
    assert response.data["code"] == "phone_taken"
    assert Profile.objects.get(user=logged_in.user).phone == ""


def test_sms_provider_failure_is_a_503_not_a_500(logged_in, settings):
    import sys
    import types

    from accounts.sms import SmsError

    class Broken:
        def send(self, to, text):
            raise SmsError("provider down")

    module = types.ModuleType("tests_sms_broken")
    module.Broken = Broken
    sys.modules["tests_sms_broken"] = module
    settings.SETKA_SMS_BACKEND = "tests_sms_broken.Broken"
    try:
        response = logged_in.post("/api/auth/phone/", {"phone": "+79991230001"})
    finally:
        del sys.modules["tests_sms_broken"]
    assert response.status_code == 503
    assert response.data["code"] == "sms_failed"
