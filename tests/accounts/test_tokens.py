"""Cookie tokens: refresh rotation, reuse detection, logout, expiry, CSRF, password changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from accounts import services
from accounts.models import RefreshToken
from tests.accounts.conftest import STRONG_PASSWORD, SpaClient, outbox_code

pytestmark = pytest.mark.django_db


def _refresh_value(client) -> str:
    return client.cookies["setka_refresh"].value


def test_refresh_rotates_and_old_token_is_rejected(logged_in):
    first = _refresh_value(logged_in)
    response = logged_in.post("/api/auth/refresh/")
    assert response.status_code == 200, response.content
    second = _refresh_value(logged_in)
    assert second and second != first
    # Only hashes are stored: the raw cookie value is nowhere in the table.
    assert not RefreshToken.objects.filter(token_hash=first).exists()
    assert RefreshToken.objects.filter(user=logged_in.user, revoked_at__isnull=True).count() == 1

    # Presenting the rotated-out token again later (a stolen copy) is refused ...
    with freeze_time(timedelta(minutes=1)):
        thief = SpaClient()
        thief.cookies["setka_refresh"] = first
        response = thief.post("/api/auth/refresh/")
        assert response.status_code == 401
        assert response.data["code"] == "token_invalid"
        assert "setka_access" not in thief.cookies or thief.cookies["setka_access"].value == ""
        # ... and it burns the whole family: the legitimate holder must log in again too.
        response = logged_in.post("/api/auth/refresh/")
        assert response.status_code == 401
    assert RefreshToken.objects.filter(user=logged_in.user, revoked_at__isnull=True).count() == 0


def test_two_tabs_refreshing_at_once_do_not_log_the_user_out(logged_in, settings):
    settings.SETKA_REFRESH_REUSE_GRACE_SECONDS = 15
    first = _refresh_value(logged_in)
    assert logged_in.post("/api/auth/refresh/").status_code == 200
    winner = _refresh_value(logged_in)
    # The other tab still sent the old cookie: refused (no token for it), family intact.
    late_tab = SpaClient()
    late_tab.cookies["setka_refresh"] = first
    response = late_tab.post("/api/auth/refresh/")
    assert response.status_code == 401
    assert response.data["code"] == "refresh_race"
    assert "setka_refresh" not in response.cookies  # must not wipe the winner's cookie
    assert RefreshToken.objects.filter(user=logged_in.user, revoked_at__isnull=True).count() == 1
    assert _refresh_value(logged_in) == winner
    assert logged_in.post("/api/auth/refresh/").status_code == 200


def test_logout_revokes_refresh_and_clears_cookies(logged_in):
    token = _refresh_value(logged_in)
    response = logged_in.post("/api/auth/logout/")
    assert response.status_code == 204
    assert logged_in.cookies["setka_access"].value == ""
    assert logged_in.cookies["setka_refresh"].value == ""

    replay = SpaClient()
    replay.cookies["setka_refresh"] = token
    assert replay.post("/api/auth/refresh/").status_code == 401
    assert logged_in.get("/api/auth/session/").data == {"authenticated": False, "user": None}


def test_expired_access_token_answers_401_and_refresh_recovers(logged_in, settings):
    settings.SETKA_ACCESS_TOKEN_TTL = timedelta(minutes=15)
    with freeze_time(timedelta(minutes=16)):
        response = logged_in.get("/api/auth/session/")
        assert response.status_code == 401
        assert response.data["code"] == "token_expired"
        assert logged_in.post("/api/auth/refresh/").status_code == 200
        response = logged_in.get("/api/auth/session/")
        assert response.status_code == 200 and response.data["authenticated"] is True


def test_anonymous_is_401_on_protected_endpoints(spa, db):
    assert spa.get("/api/auth/sessions/").status_code == 401
    assert spa.get("/api/auth/session/").data == {"authenticated": False, "user": None}
    assert spa.post("/api/auth/refresh/").status_code == 401


def test_tampered_access_cookie_is_refused(logged_in):
    value = logged_in.cookies["setka_access"].value
    logged_in.cookies["setka_access"] = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    response = logged_in.get("/api/auth/sessions/")
    assert response.status_code == 401
    assert response.data["code"] == "token_invalid"


def test_cookie_post_without_csrf_token_is_403(logged_in):
    response = logged_in.patch("/api/auth/me/", {"theme": "dark"}, HTTP_X_CSRFTOKEN="")
    assert response.status_code == 403
    assert "CSRF" in response.data["detail"]
    response = logged_in.patch("/api/auth/me/", {"theme": "dark"})
    assert response.status_code == 200 and response.data["user"]["theme"] == "dark"


def test_login_without_csrf_token_is_403(verified_user):
    from tests.factories import DEFAULT_PASSWORD

    client = SpaClient()
    response = client.post(
        "/api/auth/login/", {"email": verified_user.email, "password": DEFAULT_PASSWORD}, HTTP_X_CSRFTOKEN="x" * 32
    )
    assert response.status_code == 403


def test_password_reset_kills_existing_sessions(logged_in, spa):
    old_access = logged_in.cookies["setka_access"].value
    other = SpaClient()
    assert other.post("/api/auth/password/reset/", {"email": logged_in.user.email}).status_code == 200
    code = outbox_code(logged_in.user.email)
    response = other.post(
        "/api/auth/password/reset/confirm/",
        {"email": logged_in.user.email, "code": code, "password": STRONG_PASSWORD},
    )
    assert response.status_code == 200, response.content
    # The old access token (token version bumped) and refresh family are dead.
    logged_in.cookies["setka_access"] = old_access
    assert logged_in.get("/api/auth/sessions/").status_code == 401
    assert logged_in.post("/api/auth/refresh/").status_code == 401
    # The new password works, the old one does not.
    from tests.factories import DEFAULT_PASSWORD

    fresh = SpaClient()
    assert (
        fresh.post("/api/auth/login/", {"email": logged_in.user.email, "password": DEFAULT_PASSWORD}).status_code == 400
    )
    assert (
        fresh.post("/api/auth/login/", {"email": logged_in.user.email, "password": STRONG_PASSWORD}).status_code == 200
    )


def test_password_reset_for_unknown_email_looks_the_same(spa, db):
    from accounts.models import OutboxMessage

    response = spa.post("/api/auth/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 200
    assert not OutboxMessage.objects.exists()
    response = spa.post(
        "/api/auth/password/reset/confirm/",
        {"email": "nobody@example.com", "code": "123456", "password": STRONG_PASSWORD},
    )
    assert response.status_code == 400 and response.data["fields"]["code"]


def test_sessions_list_and_delete(logged_in, verified_user):
    from tests.factories import DEFAULT_PASSWORD

    laptop = SpaClient(HTTP_USER_AGENT="Laptop browser")
    assert (
        laptop.post("/api/auth/login/", {"email": verified_user.email, "password": DEFAULT_PASSWORD}).status_code == 200
    )
    rows = logged_in.get("/api/auth/sessions/").data
    assert len(rows) == 2
    assert [row["current"] for row in rows].count(True) == 1
    laptop_row = next(row for row in rows if row["user_agent"] == "Laptop browser")
    assert laptop_row["current"] is False

    assert logged_in.delete(f"/api/auth/sessions/{laptop_row['id']}/").status_code == 204
    assert laptop.post("/api/auth/refresh/").status_code == 401
    assert len(logged_in.get("/api/auth/sessions/").data) == 1


def test_sessions_of_another_user_are_404(logged_in, operator):
    services.user_access_grant(user=operator, operator=operator)
    from tests.factories import DEFAULT_PASSWORD

    other = SpaClient()
    assert other.post("/api/auth/login/", {"email": operator.email, "password": DEFAULT_PASSWORD}).status_code == 200
    foreign = RefreshToken.objects.get(user=operator, revoked_at__isnull=True)
    assert logged_in.delete(f"/api/auth/sessions/{foreign.pk}/").status_code == 404
    assert other.post("/api/auth/refresh/").status_code == 200


def test_password_change_ends_other_sessions_but_keeps_this_one(logged_in, verified_user):
    from tests.factories import DEFAULT_PASSWORD

    laptop = SpaClient()
    assert (
        laptop.post("/api/auth/login/", {"email": verified_user.email, "password": DEFAULT_PASSWORD}).status_code == 200
    )
    old_access = logged_in.cookies["setka_access"].value

    response = logged_in.post(
        "/api/auth/password/change/", {"current_password": "not-it-at-all", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 400 and response.data["fields"]["current_password"]
    response = logged_in.post(
        "/api/auth/password/change/", {"current_password": DEFAULT_PASSWORD, "password": STRONG_PASSWORD}
    )
    assert response.status_code == 200, response.content

    assert logged_in.get("/api/auth/sessions/").status_code == 200  # fresh cookies here
    assert logged_in.cookies["setka_access"].value != old_access
    assert laptop.get("/api/auth/sessions/").status_code == 401  # the other device's access died
    assert laptop.post("/api/auth/refresh/").status_code == 401  # and its refresh token


def test_deactivated_user_is_out_at_once(logged_in):
    from accounts.models import User

    User.objects.filter(pk=logged_in.user.pk).update(is_active=False)
    assert logged_in.get("/api/auth/sessions/").status_code == 401
    assert logged_in.post("/api/auth/refresh/").status_code == 401
