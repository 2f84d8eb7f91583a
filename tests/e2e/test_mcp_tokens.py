"""The profile's AI-agent section: a personal access token is created (shown once), listed by
its prefix, and revoked; the MCP verifier then refuses it."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from playwright.sync_api import expect

from tests.e2e.conftest import _db, login, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def _pro(django_db_blocker, email: str) -> None:
    def go():
        from django.contrib.auth import get_user_model

        from billing.models import Plan
        from billing.services import subscription_comp

        subscription_comp(user=get_user_model().objects.get(email=email), plan=Plan.objects.get(code="pro"), days=30)

    _db(django_db_blocker, go)


def _verify(django_db_blocker, token: str):
    from mcp_server.server import DatabaseTokenVerifier

    return _db(django_db_blocker, lambda: async_to_sync(DatabaseTokenVerifier().verify_token)(token))


def test_token_created_shown_once_and_revoked(page, base_url, django_db_blocker, shot):
    email, password = make_user(django_db_blocker)
    _pro(django_db_blocker, email)
    login(page, email, password, next_path="/profile")
    section = page.get_by_test_id("mcp-tokens")
    section.get_by_test_id("mcp-token-name").fill("Claude Desktop")
    section.get_by_test_id("mcp-token-create").click()
    shown = section.get_by_test_id("mcp-token-shown")
    expect(shown).to_be_visible()
    token = shown.locator("code").inner_text().strip()
    assert token.startswith("stk_")
    row = section.get_by_test_id("mcp-token-row").first
    expect(row).to_contain_text("Claude Desktop")
    expect(row).to_contain_text(token[:10])
    assert _verify(django_db_blocker, token) is not None
    shot(page, "profile-mcp-token")

    page.once("dialog", lambda d: d.accept())
    row.get_by_test_id("mcp-token-revoke").click()
    expect(row.get_by_test_id("mcp-token-revoke")).to_have_count(0)
    assert _verify(django_db_blocker, token) is None
    page.reload()
    expect(page.get_by_test_id("mcp-token-shown")).to_have_count(0)  # never shown again


def test_suggest_fills_the_create_form(page, base_url, django_db_blocker, shot):
    """The create form's "suggest": walk-forward parameters around the live price, with the
    out-of-sample comparison in words, and the report built for them."""
    from tests.e2e.test_bots_pages import field, signed_in_with_paper_account

    signed_in_with_paper_account(page, django_db_blocker)
    page.goto("/bots/create")
    expect(page.get_by_test_id("last-price")).not_to_have_text("—")
    shown = page.get_by_test_id("last-price").inner_text()
    price = float("".join(ch for ch in shown if ch.isdigit() or ch in ".,").replace(",", "."))
    page.get_by_test_id("suggest").click()
    expect(page.get_by_test_id("suggest-result")).to_be_visible(timeout=60_000)
    lower, upper = float(field(page, "lower").input_value()), float(field(page, "upper").input_value())
    assert lower < price < upper
    assert "%" in page.get_by_test_id("suggest-result").inner_text()
    shot(page, "create-suggest")


def test_study_and_portfolio_pages(page, base_url, django_db_blocker, shot):
    email, password = make_user(django_db_blocker)

    def seed():
        from decimal import Decimal

        from django.contrib.auth import get_user_model

        from metrics.models import BotMetrics
        from tests.factories import BotFactory

        bot = BotFactory(user=get_user_model().objects.get(email=email), name="Study bot")
        BotMetrics.objects.create(
            bot=bot,
            invested=Decimal(1000),
            grid_profit=Decimal("12.5"),
            realized_pnl=Decimal("10"),
            unrealized_pnl=Decimal("-30"),
            fees_quote=Decimal("3.2"),
        )
        return bot.pk

    bot_id = _db(django_db_blocker, seed)
    login(page, email, password)
    page.wait_for_url(lambda url: url.split("?")[0].endswith("/dashboard"))  # not /login?next=/dashboard
    page.goto(f"/bots/{bot_id}")
    page.get_by_test_id("study-link").click()
    page.wait_for_url(f"**/study/{bot_id}")
    attribution = page.get_by_test_id("study-attribution")
    expect(attribution).to_contain_text("12.5")
    expect(attribution).to_contain_text("-32.5")
    expect(page.get_by_test_id("study-summary")).to_contain_text("-32.5")
    shot(page, "study")
    page.goto("/portfolio")
    expect(page.get_by_test_id("portfolio-bot")).to_contain_text("Study bot")
    expect(page.get_by_test_id("portfolio-totals")).to_contain_text("1000")
    shot(page, "portfolio")
