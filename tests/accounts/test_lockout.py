"""Login lockout (issue 9, item 3): a lock per (account, IP) with a growing delay, so a stranger
cannot lock the owner (or an operator) out from elsewhere; a lock per IP across accounts for
password spraying; the owner is emailed an unlock link that always lets them in. 429 answers
carry Retry-After and a code."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from accounts.models import OutboxMessage
from tests.accounts.conftest import STRONG_PASSWORD, SpaClient
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


def _login(client, email, password):
    return client.post("/api/auth/login/", {"email": email, "password": password})


def _let_the_locks_run_out():
    """What waiting does: every lock's deadline is in the past (the failure count stays)."""
    client = cache._cache.get_client(None, write=True)
    for key in client.scan_iter(match=cache.make_key("acc:login:*")):
        if client.type(key) == b"hash":
            client.hset(key, "until", 0)


@pytest.fixture
def limits(settings):
    settings.SETKA_LOGIN_MAX_FAILURES = 3
    settings.SETKA_LOGIN_LOCKOUT_BASE_SECONDS = 60
    settings.SETKA_LOGIN_LOCKOUT_MAX_SECONDS = 600
    settings.SETKA_LOGIN_LOCKOUT_SECONDS = 900
    return settings


def test_a_stranger_cannot_lock_the_owner_out(limits, verified_user):
    attacker = SpaClient(REMOTE_ADDR=ATTACKER)
    for _ in range(2):
        response = _login(attacker, verified_user.email, "wrong-password-1")
        assert response.status_code == 400 and response.data["code"] == "invalid_credentials"
    response = _login(attacker, verified_user.email, "wrong-password-1")
    assert response.status_code == 429 and response.data["code"] == "login_locked"
    assert 0 < int(response["Retry-After"]) <= 60
    # Locked for the attacker, even with the right password...
    assert _login(attacker, verified_user.email, DEFAULT_PASSWORD).status_code == 429
    assert "setka_access" not in attacker.cookies
    # ...but the owner, from their own address, logs in as usual.
    owner = SpaClient(REMOTE_ADDR=OWNER)
    assert _login(owner, verified_user.email.upper(), DEFAULT_PASSWORD).status_code == 200


def test_the_delay_grows_with_every_failure_after_the_limit(limits, verified_user):
    attacker = SpaClient(REMOTE_ADDR=ATTACKER)
    waits = []
    for _ in range(3):
        _login(attacker, verified_user.email, "wrong-password-1")
    for _ in range(5):
        _let_the_locks_run_out()
        response = _login(attacker, verified_user.email, "wrong-password-1")
        assert response.status_code == 429
        waits.append(int(response["Retry-After"]))
    # 60 s after the 3rd failure; then 120, 240, 480 and the ceiling of 600 s.
    assert waits == [120, 240, 480, 600, 600]


def test_the_owner_gets_an_unlock_link_that_lets_them_in_at_once(limits, verified_user):
    shared = SpaClient(REMOTE_ADDR=OWNER)  # e.g. the owner fumbling, or someone on the same network
    for _ in range(3):
        _login(shared, verified_user.email, "wrong-password-1")
    assert _login(shared, verified_user.email, DEFAULT_PASSWORD).status_code == 429
    mails = OutboxMessage.objects.filter(recipient=verified_user.email, body__contains="/api/auth/login/unlock/")
    assert mails.count() == 1
    body = mails.get().body
    assert OWNER in body
    link = re.search(r"(/api/auth/login/unlock/\?token=\S+)", body).group(1)

    # More failures in the same lockout period do not flood the mailbox.
    _let_the_locks_run_out()
    _login(shared, verified_user.email, "wrong-password-1")
    assert mails.count() == 1

    response = shared.get(link)
    assert response.status_code == 302 and response["Location"] == "/login?unlocked=1"
    assert _login(shared, verified_user.email, DEFAULT_PASSWORD).status_code == 200

    forged = shared.get("/api/auth/login/unlock/?token=nonsense")
    assert forged["Location"] == "/login?unlock=invalid"
    response = shared.post("/api/auth/login/unlock/", {"token": "nonsense"})
    assert response.status_code == 400 and response.data["code"] == "invalid_unlock_link"


def test_no_email_reveals_whether_an_account_exists(limits, db):
    attacker = SpaClient(REMOTE_ADDR=ATTACKER)
    for _ in range(3):
        response = _login(attacker, "nobody@example.com", "wrong-password-1")
    assert response.status_code == 429 and response.data["code"] == "login_locked"
    assert not OutboxMessage.objects.filter(recipient="nobody@example.com").exists()


def test_lockout_per_ip_across_emails_and_the_unlock_link_lifts_it_for_the_owner(settings, verified_user):
    settings.SETKA_LOGIN_MAX_FAILURES = 100
    settings.SETKA_LOGIN_MAX_FAILURES_PER_IP = 4
    sprayer = SpaClient(REMOTE_ADDR=ATTACKER)
    for n in range(3):
        assert _login(sprayer, f"guess{n}@example.com", "x" * 10).status_code == 400
    response = _login(sprayer, "guess9@example.com", "x" * 10)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    # Same IP, real user, right password: still locked. Another IP is fine.
    assert _login(sprayer, verified_user.email, DEFAULT_PASSWORD).status_code == 429
    assert _login(SpaClient(REMOTE_ADDR="10.9.9.9"), verified_user.email, DEFAULT_PASSWORD).status_code == 200
    # The owner behind that address unlocks it for their own account with the emailed link.
    from accounts import services

    link = f"/api/auth/login/unlock/?token={services.users.login_unlock_token(user=verified_user)}"
    assert sprayer.get(link).status_code == 302
    assert _login(sprayer, verified_user.email, DEFAULT_PASSWORD).status_code == 200
    assert _login(sprayer, "guess10@example.com", "x" * 10).status_code == 429  # others stay locked


def test_success_resets_the_pair(limits, verified_user):
    spa = SpaClient()
    for _ in range(2):
        _login(spa, verified_user.email, "wrong-password-1")
    assert _login(spa, verified_user.email, DEFAULT_PASSWORD).status_code == 200
    for _ in range(2):
        assert _login(spa, verified_user.email, "wrong-password-1").status_code == 400


def test_admin_login_shares_the_lock(limits, client, db):
    from accounts import services

    operator = services.user_create(
        email="op@example.com", password=DEFAULT_PASSWORD, email_verified=True, is_staff=True
    )
    for _ in range(3):
        client.post("/admin/login/", {"username": operator.email, "password": "wrong"}, REMOTE_ADDR=ATTACKER)
    response = client.post(
        "/admin/login/", {"username": operator.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR=ATTACKER
    )
    assert "_auth_user_id" not in client.session
    assert OutboxMessage.objects.filter(recipient=operator.email, body__contains="/login/unlock/").count() == 1
    response = client.post(
        "/admin/login/", {"username": operator.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR=OWNER
    )
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(operator.pk)


def test_anonymous_auth_endpoints_are_rate_limited_per_ip(spa, settings, db):
    settings.SETKA_THROTTLE_AUTH = "3/min"
    for n in range(3):
        assert spa.post("/api/auth/password/reset/", {"email": f"x{n}@example.com"}).status_code == 200
    response = spa.post("/api/auth/password/reset/", {"email": "x9@example.com"})
    assert response.status_code == 429 and response.data["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_email_codes_per_address_are_limited(spa, settings, db):
    settings.SETKA_CODE_SENDS_PER_HOUR = 2
    spa.post("/api/auth/signup/", {"email": "flood@example.com", "password": STRONG_PASSWORD})
    for _ in range(3):
        assert spa.post("/api/auth/email/resend/", {"email": "flood@example.com"}).status_code == 200
    assert OutboxMessage.objects.filter(recipient="flood@example.com").count() == 2


# --- password change ---------------------------------------------------------------------------


def test_password_change_has_an_attempt_limit(logged_in, settings):
    settings.SETKA_PASSWORD_CHANGE_MAX_FAILURES = 5
    url = "/api/auth/password/change/"
    for _ in range(5):
        response = logged_in.post(url, {"current_password": "wrong-guess-123", "password": STRONG_PASSWORD})
        assert response.status_code == 400 and response.data["code"] == "wrong_password"
    response = logged_in.post(url, {"current_password": "wrong-guess-123", "password": STRONG_PASSWORD})
    assert response.status_code == 429 and response.data["code"] == "too_many_attempts"
    assert int(response["Retry-After"]) > 0
    # The right password does not get through during the wait either.
    response = logged_in.post(url, {"current_password": DEFAULT_PASSWORD, "password": STRONG_PASSWORD})
    assert response.status_code == 429
    logged_in.user.refresh_from_db()
    assert logged_in.user.check_password(DEFAULT_PASSWORD)


def test_a_right_current_password_resets_the_budget(logged_in, settings):
    settings.SETKA_PASSWORD_CHANGE_MAX_FAILURES = 3
    url = "/api/auth/password/change/"
    for _ in range(2):
        logged_in.post(url, {"current_password": "wrong-guess-123", "password": STRONG_PASSWORD})
    assert logged_in.post(url, {"current_password": DEFAULT_PASSWORD, "password": STRONG_PASSWORD}).status_code == 200
    for _ in range(2):
        response = logged_in.post(url, {"current_password": "wrong-guess-123", "password": "Another-long-pass-9"})
        assert response.status_code == 400
