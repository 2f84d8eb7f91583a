"""Bad input gets a 400 with a readable message in the shared error shape, never a 500."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.accounts.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

CASES = [
    ("/api/auth/signup/", {}, "email"),
    ("/api/auth/signup/", {"email": "a@example.com"}, "password"),
    ("/api/auth/signup/", {"email": "not-an-email", "password": STRONG_PASSWORD}, "email"),
    ("/api/auth/signup/", {"email": ["a@example.com"], "password": STRONG_PASSWORD}, "email"),
    ("/api/auth/signup/", {"email": {"x": 1}, "password": STRONG_PASSWORD}, "email"),
    ("/api/auth/signup/", {"email": "a" * 300 + "@example.com", "password": STRONG_PASSWORD}, "email"),
    ("/api/auth/signup/", {"email": "a@example.com", "password": "p" * 10_000}, "password"),
    ("/api/auth/signup/", {"email": "a@example.com", "password": True}, "password"),
    ("/api/auth/signup/", {"email": "a@example.com", "password": STRONG_PASSWORD, "language": "de"}, "language"),
    ("/api/auth/signup/", {"email": "a@example.com", "password": STRONG_PASSWORD, "access_code": ["x"]}, "access_code"),
    ("/api/auth/login/", {"email": "a@example.com"}, "password"),
    ("/api/auth/login/", {"email": None, "password": "x"}, "email"),
    ("/api/auth/email/verify/", {"email": "a@example.com", "code": "12ab56"}, "code"),
    ("/api/auth/email/verify/", {"email": "a@example.com", "code": 12}, "code"),
    ("/api/auth/email/resend/", {"email": True}, "email"),
    ("/api/auth/password/reset/", {"email": "x" * 5000}, "email"),
    ("/api/auth/password/reset/confirm/", {"email": "a@example.com", "code": "123456"}, "password"),
]


@pytest.mark.parametrize(("path", "body", "field"), CASES)
def test_bad_input_is_a_readable_400(spa, path, body, field):
    response = spa.post(path, body)
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response.data["code"] == "invalid"
    assert field in response.data["fields"]
    assert isinstance(response.data["detail"], str) and response.data["detail"]


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"just a string"', b"{broken json", b"null"])
def test_non_object_bodies_are_400(spa, raw):
    response = spa.post("/api/auth/signup/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not User.objects.exists()


def test_wrong_types_on_authenticated_endpoints(logged_in):
    for path, body in [
        ("/api/auth/phone/", {"phone": ["+79991234567"]}),
        ("/api/auth/phone/verify/", {"code": None}),
        ("/api/auth/access/redeem/", {"code": {"a": 1}}),
        ("/api/auth/access/redeem/", {}),
    ]:
        response = logged_in.post(path, body)
        assert response.status_code == 400, (path, response.content)
        assert response.data["fields"]
    for body in ({"theme": "neon"}, {"language": 5}, {"notify_email": ["yes"]}):
        response = logged_in.patch("/api/auth/me/", body)
        assert response.status_code == 400, (body, response.content)


def test_profile_update(logged_in):
    response = logged_in.patch("/api/auth/me/", {"language": "en", "theme": "light", "notify_email": False})
    assert response.status_code == 200
    user = response.data["user"]
    assert (user["language"], user["theme"], user["notify_email"]) == ("en", "light", False)
