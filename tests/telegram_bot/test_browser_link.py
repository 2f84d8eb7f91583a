"""Browser: a user links Telegram from the profile. The profile makes a one-time deep link; in
development the "press Start" button plays the user's part against the fake Bot API; the real bot
process (polling) links the chat; the profile then shows the link and the chat got the welcome.
Then the news page shows a published announcement. (Phone and desktop viewports.)"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    ARTIFACTS,
    DIST,
    STACK_APPNAME,
    _build_frontend,
    _close_db_sessions,
    _db,
    _flush,
    _need_browser,
    _orm_beside_playwright,  # noqa: F401 - the e2e fixtures, shared
    _reference_rows_committed,
    base_url,  # noqa: F401
    browser,  # noqa: F401
    login,
    make_user,
    page,  # noqa: F401
    shot,  # noqa: F401
    viewport,  # noqa: F401
)
from tests.stack import Stack
from tests.telegram_bot.conftest import TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture(scope="module")
def e2e_stack(django_db_setup, django_db_blocker, fake_telegram):
    _need_browser()
    _build_frontend()
    _reference_rows_committed(django_db_blocker)
    from django.db import connection

    db = connection.settings_dict
    env = {
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"),
        "SETKA_FRONTEND_DIST": str(DIST),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "PGAPPNAME": STACK_APPNAME,
        "SETKA_TELEGRAM_API_URL": fake_telegram.url,
        "SETKA_TELEGRAM_BOT_TOKEN": TOKEN,
        "SETKA_TELEGRAM_BOT_USERNAME": "setka_test_bot",
        "SETKA_TELEGRAM_DEV_TOOLS": "1",
    }
    log_dir = ARTIFACTS / "e2e-telegram-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    stack = Stack(env=env, log_dir=log_dir)
    stack.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    try:
        stack.start("web", timeout=90)
        stack.start("bot", "manage", args=["run_telegram_bot", "--no-bridge"], ready="polling", timeout=90)
        yield stack
    except Exception:
        print(stack.all_logs())
        raise
    finally:
        stack.stop_all()
        _close_db_sessions(db["NAME"], django_db_blocker)
        _flush(django_db_blocker)
        _close_db_sessions(db["NAME"], django_db_blocker)


def test_user_links_telegram_from_the_profile(page, e2e_stack, fake_telegram, django_db_blocker, shot):  # noqa: F811
    email, password = make_user(django_db_blocker)
    login(page, email, password, next_path="/profile")
    card = page.get_by_test_id("telegram-card")
    expect(card).to_contain_text("Привязать Telegram")
    page.get_by_test_id("telegram-create").click()
    expect(page.get_by_test_id("telegram-open")).to_have_attribute(
        "href", re.compile(r"^https://t\.me/setka_test_bot\?start=link_")
    )
    shot(page, "telegram-01-link")
    page.get_by_test_id("telegram-dev-start").click()
    expect(page.get_by_test_id("telegram-linked")).to_be_visible(timeout=15_000)
    shot(page, "telegram-02-linked")

    def chat_of():
        from telegram_bot.models import TelegramLink

        return TelegramLink.objects.filter(user__email=email).values_list("chat_id", flat=True).first()

    chat_id = _db(django_db_blocker, chat_of)
    assert chat_id is not None
    welcome = fake_telegram.sent(chat_id)
    assert welcome and email in welcome[-1]["text"]

    # The news page shows a published post in the user's language.
    def publish():
        from django.utils import timezone

        from announcements.models import Announcement

        return Announcement.objects.create(
            title_ru="Новое: Telegram",
            title_en="New: Telegram",
            body_ru="Привяжите Telegram в профиле.",
            body_en="Link Telegram in your profile.",
            status="published",
            published_at=timezone.now(),
        ).pk

    post_id = _db(django_db_blocker, publish)
    page.goto("/news")
    expect(page.get_by_test_id(f"news-{post_id}")).to_contain_text("Новое: Telegram")
    shot(page, "telegram-03-news")
