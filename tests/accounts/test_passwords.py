"""Argon2 is the hasher for new passwords (tests put a fast hasher first; here the production
list is restored, and a real Argon2 hash is made and checked through the API)."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.accounts.conftest import STRONG_PASSWORD, outbox_code

pytestmark = pytest.mark.django_db


def test_new_passwords_are_argon2(spa, settings):
    production = [h for h in settings.PASSWORD_HASHERS if not h.endswith("MD5PasswordHasher")]
    assert production[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = production

    assert spa.post("/api/auth/signup/", {"email": "argon@example.com", "password": STRONG_PASSWORD}).status_code == 201
    user = User.objects.get(email="argon@example.com")
    assert user.password.startswith("argon2$argon2id$")
    assert STRONG_PASSWORD not in user.password

    code = outbox_code("argon@example.com")
    assert spa.post("/api/auth/email/verify/", {"email": "argon@example.com", "code": code}).status_code == 200
    assert spa.post("/api/auth/login/", {"email": "argon@example.com", "password": STRONG_PASSWORD}).status_code == 200
    assert (
        spa.post("/api/auth/login/", {"email": "argon@example.com", "password": STRONG_PASSWORD + "x"}).status_code
        == 400
    )
