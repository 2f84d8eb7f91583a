"""Issue 14, the help desk end to end: a user whose bot stopped follows its "How to fix" link
to the knowledge-base article in their language, asks "why isn't my bot trading?", gets the cause, opens a ticket with the bot's diagnostics attached; staff see the
diagnostics in admin and reply there; the user sees the reply in the app (thread and bell).
Phone and desktop. (The Telegram leg is tested with the Telegram bot.)"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS, _db, login, new_email

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def tap(locator) -> None:
    """Scroll the control to the middle of the screen (as a person does: on a phone the fixed
    header and bottom bar cover the edges), then click it."""
    locator.evaluate("el => el.scrollIntoView({block: 'center'})")
    locator.click()


def _people(django_db_blocker) -> dict:
    def make():
        import importlib

        from django.apps import apps
        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore
        from django.utils import timezone

        from bots.models import Bot
        from exchanges.models import ExchangeAccount
        from tests.factories import DEFAULT_PASSWORD, BotFactory, ExchangeAccountFactory, UserFactory

        for seed in ("0002_seed_articles", "0004_seed_help_articles"):  # a flushing test may have wiped them
            importlib.import_module(f"support.migrations.{seed}").seed(apps, None)
        user = UserFactory(email=new_email(), language="ru")
        account = ExchangeAccountFactory(user=user, environment=ExchangeAccount.Environment.PAPER,
                                         status=ExchangeAccount.Status.REVOKED)  # fmt: skip
        now = timezone.now()
        bot = BotFactory(user=user, exchange_account=account, name="Сетка BTC", status=Bot.Status.STOPPED,
                         started_at=now - timedelta(hours=3), stopped_at=now, stop_code="auth_failed",
                         stop_reason="API key invalid (10003)")  # fmt: skip
        staff = UserFactory(email=new_email(), is_staff=True, is_superuser=True)
        # Staff sign in to admin with a TOTP code; the test starts from a signed-in session.
        session = SessionStore()
        session[SESSION_KEY] = str(staff.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = staff.get_session_auth_hash()
        session.create()
        return {"email": user.email, "password": DEFAULT_PASSWORD, "bot": bot.pk, "staff_session": session.session_key}

    return _db(django_db_blocker, make)


def test_a_ticket_from_a_stopped_bot_reaches_staff_with_diagnostics_and_the_reply_comes_back(
    page, browser, base_url, viewport, django_db_blocker, shot
):
    people = _people(django_db_blocker)
    login(page, people["email"], people["password"], next_path=f"/bots/{people['bot']}")

    # The stop reason links to the article on fixing it, in the user's language.
    expect(page.get_by_test_id("stop-reason")).to_contain_text("Биржа больше не принимает API-ключ")
    help_link = page.get_by_test_id("help-link")
    expect(help_link).to_have_text("Как исправить")
    expect(help_link).to_have_attribute("href", "/help/api-key-problems")
    tap(help_link)
    page.wait_for_url(re.compile(r".*/help/api-key-problems$"))
    expect(page.get_by_test_id("kb-article").get_by_role("heading")).to_have_text(
        "API-ключ истёк, отозван или без права торговли"
    )
    shot(page, "how-to-fix")
    page.go_back()
    page.wait_for_url(re.compile(rf".*/bots/{people['bot']}$"))

    tap(page.get_by_test_id("troubleshoot"))
    expect(page.get_by_test_id("finding-key_revoked")).to_contain_text("Биржа больше не принимает API-ключ")
    expect(page.get_by_test_id("finding-key_revoked").get_by_role("link")).to_have_attribute(
        "href", "/help/api-key-problems"
    )
    page.get_by_test_id("ticket-body").fill("Бот остановился и не запускается")
    shot(page, "troubleshooter")
    tap(page.get_by_test_id("open-ticket"))
    page.wait_for_url(re.compile(r".*/support/\d+$"))
    ticket_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    expect(page.get_by_test_id("my-message")).to_contain_text("Бот остановился и не запускается")
    expect(page.get_by_text("диагностика бота приложена")).to_be_visible()

    staff = browser.new_context(viewport=VIEWPORTS["desktop"], base_url=base_url, locale="en-US")
    staff.add_cookies([{"name": "sessionid", "value": people["staff_session"], "url": base_url}])
    admin = staff.new_page()
    admin.goto(f"/admin/support/ticket/{ticket_id}/change/")
    diagnostics = admin.locator(".diagnostics")
    expect(diagnostics).to_contain_text("The exchange no longer accepts the API key")  # the key check
    expect(diagnostics).to_contain_text("The bot is stopped: The exchange no longer accepts the API key")
    expect(diagnostics).to_contain_text("bybit (paper)")
    expect(diagnostics).not_to_contain_text("TESTSECRET")
    reply = f"Ключ отозван на бирже: создайте новый и привяжите его ({viewport})."
    admin.locator("#id_reply").fill(reply)
    admin.locator('input[name="_continue"]').click()
    expect(admin.locator(".messagelist")).to_contain_text("Reply sent to the user.")
    staff.close()

    page.reload()
    expect(page.get_by_test_id("staff-message")).to_contain_text(reply)
    expect(page.get_by_test_id("status-waiting")).to_be_visible()
    expect(page.get_by_test_id("unread-count")).to_have_text("1")
    shot(page, "ticket-reply")
    tap(page.get_by_test_id("notification-bell"))
    expect(page.get_by_test_id("notification-ticket_reply").first).to_contain_text("Ответ поддержки")
