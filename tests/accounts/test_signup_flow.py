"""Sign-up -> email code from the outbox -> access grant -> login, and the access gate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts import services
from accounts.models import AccessGrant, User
from accounts.permissions import HasTradingAccess
from tests.accounts.conftest import STRONG_PASSWORD, outbox_code
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_signup_verify_grant_login(spa, operator):
    response = spa.post("/api/auth/signup/", {"email": "New.Person@Example.com", "password": STRONG_PASSWORD})
    assert response.status_code == 201, response.content
    assert response.data["email"] == "new.person@example.com" and response.data["code"] == "signup_check_email"
    user = User.objects.get(email="new.person@example.com")
    assert not user.has_trading_access

    # Not confirmed yet: the right password is refused with a machine-readable reason.
    response = spa.post("/api/auth/login/", {"email": "new.person@example.com", "password": STRONG_PASSWORD})
    assert response.status_code == 403
    assert response.data["code"] == "email_unverified"
    assert "setka_access" not in spa.cookies or not spa.cookies["setka_access"].value

    code = outbox_code("new.person@example.com")
    response = spa.post("/api/auth/email/verify/", {"email": "new.person@example.com", "code": code})
    assert response.status_code == 200, response.content
    assert response.data["user"]["email_verified"] is True

    # Logged in now, but trading is gated until an operator grants access.
    response = spa.post("/api/auth/login/", {"email": "new.person@example.com", "password": STRONG_PASSWORD})
    assert response.status_code == 200
    assert response.data["user"]["has_access"] is False
    assert spa.cookies["setka_access"]["httponly"]
    assert spa.cookies["setka_refresh"]["path"] == "/api/auth/"
    assert spa.cookies["setka_access"]["samesite"] == "Lax"

    grant = services.access_grant_issue(operator=operator, expires_at=timezone.now() + timedelta(days=7))
    response = spa.post("/api/auth/access/redeem/", {"code": grant.code.lower().replace("-", " ")})
    assert response.status_code == 200, response.content
    assert response.data["user"]["has_access"] is True

    grant.refresh_from_db()
    user = User.objects.get(email="new.person@example.com")
    assert grant.redeemed_by == user and grant.redeemed_at is not None and grant.issued_by == operator

    response = spa.get("/api/auth/session/")
    assert response.data == {"authenticated": True, "user": response.data["user"]}
    assert response.data["user"]["has_access"] is True


def test_signup_with_access_code_and_codes_are_single_use(spa, operator):
    grant = services.access_grant_issue(operator=operator)
    response = spa.post(
        "/api/auth/signup/", {"email": "a@example.com", "password": STRONG_PASSWORD, "access_code": grant.code}
    )
    assert response.status_code == 201
    assert User.objects.get(email="a@example.com").has_trading_access

    # The same code again: refused, and no account is left behind.
    response = spa.post(
        "/api/auth/signup/", {"email": "b@example.com", "password": STRONG_PASSWORD, "access_code": grant.code}
    )
    assert response.status_code == 400
    assert response.data["code"] == "invalid_access_code"
    assert "access_code" in response.data["fields"]
    assert not User.objects.filter(email="b@example.com").exists()


def test_expired_revoked_or_foreign_codes_are_refused(logged_in, operator):
    logged_in.user.access_granted_at = None
    logged_in.user.save(update_fields=["access_granted_at"])
    expired = services.access_grant_issue(operator=operator, expires_at=timezone.now() - timedelta(minutes=1))
    revoked = services.access_grant_issue(operator=operator)
    services.access_grant_revoke(grant=revoked, operator=operator)
    foreign = services.access_grant_issue(operator=operator, issued_to_email="someone.else@example.com")
    for grant in (expired, revoked, foreign):
        response = logged_in.post("/api/auth/access/redeem/", {"code": grant.code})
        assert response.status_code == 400, grant
        assert "invalid" in response.data["detail"]
    assert not User.objects.get(pk=logged_in.user.pk).has_trading_access
    assert AccessGrant.objects.filter(redeemed_by__isnull=False).count() == 0


def test_wrong_email_code_is_counted_and_kills_the_code(spa):
    spa.post("/api/auth/signup/", {"email": "c@example.com", "password": STRONG_PASSWORD})
    right = outbox_code("c@example.com")
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        response = spa.post("/api/auth/email/verify/", {"email": "c@example.com", "code": wrong})
        assert response.status_code == 400
    # Five wrong guesses: even the right code no longer works; a new one does.
    response = spa.post("/api/auth/email/verify/", {"email": "c@example.com", "code": right})
    assert response.status_code == 400
    assert spa.post("/api/auth/email/resend/", {"email": "c@example.com"}).status_code == 200
    fresh = outbox_code("c@example.com")
    response = spa.post("/api/auth/email/verify/", {"email": "c@example.com", "code": fresh})
    assert response.status_code == 200


def test_signup_email_in_user_language(spa):
    spa.post("/api/auth/signup/", {"email": "en@example.com", "password": STRONG_PASSWORD, "language": "en"})
    spa.post("/api/auth/signup/", {"email": "ru@example.com", "password": STRONG_PASSWORD, "language": "ru"})
    from accounts.models import OutboxMessage

    assert "confirmation code" in OutboxMessage.objects.get(recipient="en@example.com").body
    assert "код подтверждения" in OutboxMessage.objects.get(recipient="ru@example.com").body


def test_signup_does_not_reveal_that_an_email_has_an_account(spa, verified_user, operator):
    """Issue 9, item 6: the same answer for a taken and a free address; the owner is emailed."""
    from accounts.models import OutboxMessage

    taken = spa.post("/api/auth/signup/", {"email": "TRADER@example.com", "password": STRONG_PASSWORD})
    free = spa.post("/api/auth/signup/", {"email": "free@example.com", "password": STRONG_PASSWORD})
    assert taken.status_code == free.status_code == 201
    assert set(taken.data) == set(free.data) == {"detail", "code", "email"}
    assert taken.data["code"] == free.data["code"] == "signup_check_email"
    assert taken.data["detail"].replace("trader@", "free@") == free.data["detail"]
    # Nothing changed on the existing account (password, address); its owner was told.
    verified_user.refresh_from_db()
    assert verified_user.check_password(DEFAULT_PASSWORD)
    assert User.objects.filter(email__iexact="trader@example.com").count() == 1
    notice = OutboxMessage.objects.get(recipient="trader@example.com")
    assert "already have" in notice.body or "уже есть" in notice.body
    # A wrong access code is refused alike for both (and a right one is not used up).
    for email in ("trader@example.com", "free2@example.com"):
        response = spa.post("/api/auth/signup/", {"email": email, "password": STRONG_PASSWORD, "access_code": "NOPE"})
        assert response.status_code == 400 and response.data["code"] == "invalid_access_code", email
    grant = services.access_grant_issue(operator=operator)
    response = spa.post(
        "/api/auth/signup/", {"email": "trader@example.com", "password": STRONG_PASSWORD, "access_code": grant.code}
    )
    assert response.status_code == 201
    grant.refresh_from_db()
    assert grant.redeemed_at is None


def test_weak_password_is_a_readable_400(spa):
    response = spa.post("/api/auth/signup/", {"email": "w@example.com", "password": "12345678901"})
    assert response.status_code == 400
    assert response.data["code"] == "weak_password"
    assert response.data["fields"]["password"]


class _TradingView(APIView):
    permission_classes = [HasTradingAccess]

    def get(self, request):
        from rest_framework.response import Response

        return Response({"ok": True})


def test_has_trading_access_gate(verified_user):
    from rest_framework.test import force_authenticate

    factory = APIRequestFactory()
    view = _TradingView.as_view()

    request = factory.get("/x/")
    force_authenticate(request, verified_user)
    assert view(request).status_code == 200

    verified_user.access_revoked_at = timezone.now()
    request = factory.get("/x/")
    force_authenticate(request, verified_user)
    with translation.override("en"):
        response = view(request)
        assert response.status_code == 403
        assert "An operator has not granted you access yet" in str(response.data["detail"])
    verified_user.language = "ru"  # the user's own language wins over the request's
    with translation.override("ru"):
        request = factory.get("/x/")
        force_authenticate(request, verified_user)
        assert "Оператор ещё не открыл вам доступ" in str(view(request).data["detail"])


def test_has_trading_access_via_cookie(logged_in, operator):
    """End to end through the real cookie authentication: revoked access closes the gate."""
    services.user_access_revoke(user=logged_in.user, operator=operator)
    assert logged_in.get("/api/auth/session/").data["user"]["has_access"] is False
    grant = services.user_access_grant(user=logged_in.user, operator=operator)
    assert grant.redeemed_by == logged_in.user
    assert logged_in.get("/api/auth/session/").data["user"]["has_access"] is True


def test_accounts_made_by_staff_or_seeds_can_log_in(spa):
    """No EmailAddress row (factories, seed_demo, createsuperuser): trusted; only self sign-up
    has to confirm the address."""
    from tests.factories import DEFAULT_PASSWORD, UserFactory

    user = UserFactory()
    response = spa.post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert response.data["user"]["email_verified"] is True


def test_messages_follow_the_browser_language(db):
    from tests.accounts.conftest import SpaClient

    russian = SpaClient(HTTP_ACCEPT_LANGUAGE="ru")
    response = russian.post("/api/auth/login/", {"email": "nobody@example.com", "password": "whatever-123"})
    assert response.status_code == 400
    assert response.data["detail"] == "Неверный email или пароль."
    english = SpaClient(HTTP_ACCEPT_LANGUAGE="en")
    response = english.post("/api/auth/login/", {"email": "nobody@example.com", "password": "whatever-123"})
    assert response.data["detail"] == "Wrong email or password."


def test_signup_without_language_takes_the_browsers(db):
    from tests.accounts.conftest import SpaClient

    SpaClient(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").post(
        "/api/auth/signup/", {"email": "browser-en@example.com", "password": STRONG_PASSWORD}
    )
    assert User.objects.get(email="browser-en@example.com").language == "en"
