"""Behaviour around the journey: sign-in guard and error messages, language and theme that
stick, and the live badge when the WebSocket drops and comes back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, login, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]  # rows the stack commits are flushed when the module ends (conftest)


def test_guard_and_error_messages(page, base_url, django_db_blocker, shot):
    email, password = make_user(django_db_blocker)
    page.goto("/dashboard")
    page.wait_for_url(re.compile(r"/login\?next=(/|%2F)dashboard"))

    page.locator('[data-testid="email"] input, input[data-testid="email"]').first.fill(email)
    page.locator('[data-testid="password"] input, input[data-testid="password"]').first.fill("wrong-password-1")
    page.get_by_test_id("submit").click()
    alert = page.get_by_test_id("error")
    expect(alert).to_be_visible()
    assert alert.inner_text().strip()  # the API's `detail`, in words
    shot(page, "login-error")

    page.locator('[data-testid="password"] input, input[data-testid="password"]').first.fill(password)
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r"/dashboard$"))  # back where the user was going


def test_language_and_theme_stick(page, base_url, django_db_blocker, shot):
    email, password = make_user(django_db_blocker)
    login(page, email, password)
    expect(page.get_by_role("heading", name="Панель")).to_be_visible()  # Russian by default

    with page.expect_response(lambda r: "/api/auth/me/" in r.url) as saved:  # kept in the profile
        page.get_by_role("button", name=re.compile("Сменить язык")).click()
    assert saved.value.ok
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    html = page.locator("html")
    dark_before = "dark" in (html.get_attribute("class") or "")
    with page.expect_response(lambda r: "/api/auth/me/" in r.url) as saved:
        page.get_by_role("button", name="Switch light/dark theme").click()
    assert saved.value.ok
    expect(html).to_have_class(re.compile(r"\blight\b" if dark_before else r"\bdark\b"))
    page.reload()
    expect(html).to_have_class(re.compile(r"\blight\b" if dark_before else r"\bdark\b"))
    shot(page, "dashboard-en-theme")
    assert axe_violations(page) == []  # the other theme is readable too


def test_live_badge_when_connection_drops(page, base_url, e2e_stack, django_db_blocker, viewport):
    if viewport != "desktop":
        pytest.skip("the connection behaviour does not depend on the screen")
    email, password = make_user(django_db_blocker)
    login(page, email, password)
    expect(page.get_by_test_id("live-online")).to_be_visible()

    web = e2e_stack.procs["web"]
    e2e_stack.kill("web")
    try:
        expect(page.get_by_test_id("live-offline")).to_be_visible(timeout=15_000)
    finally:
        e2e_stack.start("web", port=web.port, timeout=90)
    expect(page.get_by_test_id("live-online")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("live-offline")).to_have_count(0)
