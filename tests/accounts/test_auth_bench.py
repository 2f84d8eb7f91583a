"""Figures for the auth path (printed; budgets are generous so a loaded CI box does not flake):
Argon2 cost per login, a cookie-authenticated request, a refresh rotation."""

from __future__ import annotations

import statistics
import time

import pytest

from accounts import services
from accounts.tokens import access_token_issue, access_token_user, tokens_issue
from tests.accounts.conftest import STRONG_PASSWORD, SpaClient

pytestmark = [pytest.mark.django_db, pytest.mark.benchmark]


def _p50_ms(fn, n: int) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def test_auth_figures(settings, capsys):
    settings.PASSWORD_HASHERS = [h for h in settings.PASSWORD_HASHERS if not h.endswith("MD5PasswordHasher")]
    user = services.user_create(email="bench@example.com", password=STRONG_PASSWORD, email_verified=True)
    assert user.password.startswith("argon2")
    client = SpaClient()
    client.csrf()

    def login():
        assert client.post("/api/auth/login/", {"email": user.email, "password": STRONG_PASSWORD}).status_code == 200

    login_ms = _p50_ms(login, 5)
    token = access_token_issue(user=user)
    verify_ms = _p50_ms(lambda: access_token_user(token), 50)
    session_token = tokens_issue(user=user).access  # names its session: one query checks both
    verify_session_ms = _p50_ms(lambda: access_token_user(session_token), 50)
    session_ms = _p50_ms(lambda: client.get("/api/auth/session/"), 20)

    def refresh():
        assert client.post("/api/auth/refresh/").status_code == 200

    refresh_ms = _p50_ms(refresh, 10)
    with capsys.disabled():
        print(
            f"\n[auth] login (Argon2id verify) p50 {login_ms:.1f} ms | access-token check {verify_ms:.2f} ms"
            f" | with the session check {verify_session_ms:.2f} ms | cookie GET /api/auth/session/ p50 {session_ms:.1f} ms | refresh rotation p50 {refresh_ms:.1f} ms"
        )
    assert login_ms < 2000 and session_ms < 500 and refresh_ms < 1000
