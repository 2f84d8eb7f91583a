"""Fixtures for the accounts tests: API clients that behave like the SPA (CSRF token from
GET /api/auth/csrf/, cookies kept between calls) and helpers reading the outbox."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from accounts import services
from accounts.models import OutboxMessage
from tests.factories import DEFAULT_PASSWORD

STRONG_PASSWORD = "Lantern-orbit-77-quiet"


class SpaClient(APIClient):
    """An APIClient that enforces CSRF like a browser would and sends X-CSRFToken itself."""

    def __init__(self, **kwargs):
        kwargs.setdefault("HTTP_ACCEPT_LANGUAGE", "en")  # the tests read English messages
        super().__init__(enforce_csrf_checks=True, **kwargs)

    def csrf(self) -> str:
        response = self.get("/api/auth/csrf/")
        assert response.status_code == 204
        return self.cookies["csrftoken"].value

    def _token(self) -> str:
        morsel = self.cookies.get("csrftoken")
        return morsel.value if morsel is not None and morsel.value else self.csrf()

    def post(self, path, data=None, format=None, content_type=None, **extra):
        extra.setdefault("HTTP_X_CSRFTOKEN", self._token())
        if content_type is None:
            format = format or "json"
        return super().post(path, data, format=format, content_type=content_type, **extra)

    def patch(self, path, data=None, format=None, content_type=None, **extra):
        extra.setdefault("HTTP_X_CSRFTOKEN", self._token())
        if content_type is None:
            format = format or "json"
        return super().patch(path, data, format=format, content_type=content_type, **extra)

    def delete(self, path, data=None, format=None, content_type=None, **extra):
        extra.setdefault("HTTP_X_CSRFTOKEN", self._token())
        if content_type is None:
            format = format or "json"
        return super().delete(path, data, format=format, content_type=content_type, **extra)


def outbox_code(recipient: str, channel: str = OutboxMessage.Channel.EMAIL) -> str:
    message = OutboxMessage.objects.filter(recipient=recipient, channel=channel).order_by("-id").first()
    assert message is not None, f"nothing in the outbox for {recipient}"
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture(autouse=True)
def _outbox_email(settings):
    """Django's test runner swaps in the locmem email backend; the product's dev/test backend
    is the outbox, which is what these tests read (as an operator would in admin)."""
    settings.EMAIL_BACKEND = "accounts.mail.OutboxEmailBackend"


@pytest.fixture
def spa() -> SpaClient:
    return SpaClient()


@pytest.fixture
def verified_user(db):
    """A user who confirmed the email and has access (password DEFAULT_PASSWORD)."""
    user = services.user_create(
        email="trader@example.com", password=DEFAULT_PASSWORD, email_verified=True, language="en"
    )  # errors come in the user's language; these tests read English
    user.access_granted_at = user.date_joined
    user.save(update_fields=["access_granted_at"])
    return user


@pytest.fixture
def logged_in(spa, verified_user) -> SpaClient:
    response = spa.post("/api/auth/login/", {"email": verified_user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.content
    spa.user = verified_user
    return spa


@pytest.fixture
def operator(db):
    return services.user_create(
        email="operator@example.com", password=DEFAULT_PASSWORD, email_verified=True, is_staff=True
    )
