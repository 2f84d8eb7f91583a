"""Server messages in the page's language (issue 9, "What users tripped on" 6): the English
login page says a wrong password in English although the browser asks for Russian, and a
stopped bot says why in its owner's language. Phone and desktop, Russian and English."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _db, login, new_email

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

TEXTS = {
    "en": {"wrong": "Wrong email or password.", "reason": "Take-profit reached"},
    "ru": {"wrong": "Неверный email или пароль.", "reason": "Достигнут тейк-профит"},
}


def _user_with_stopped_bot(django_db_blocker, language: str) -> tuple[str, str, int]:
    def make():
        from django.utils import timezone

        from bots.models import Bot
        from tests.factories import DEFAULT_PASSWORD, BotFactory, UserFactory

        user = UserFactory(email=new_email(), language=language)
        now = timezone.now()
        bot = BotFactory(
            user=user,
            status=Bot.Status.STOPPED,
            started_at=now - timedelta(hours=2),
            stopped_at=now,
            stop_code="take_profit",
            stop_reason="Take profit at 60000 reached",  # the server's English detail for operators
        )
        return user.email, DEFAULT_PASSWORD, bot.pk

    return _db(django_db_blocker, make)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_login_error_and_stop_reason_in_the_page_language(page, lang, django_db_blocker, shot):
    email, password, bot_id = _user_with_stopped_bot(django_db_blocker, lang)
    # The browser asks for Russian (Accept-Language ru-RU); the person chose `lang` for the app.
    page.goto("/login")
    page.evaluate("lang => localStorage.setItem('setka_lang', lang)", lang)
    page.reload()
    page.locator('[data-testid="email"] input, input[data-testid="email"]').first.fill(email)
    page.locator('[data-testid="password"] input, input[data-testid="password"]').first.fill("wrong-password-1")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("error")).to_have_text(re.compile(re.escape(TEXTS[lang]["wrong"])))
    shot(page, f"login-error-{lang}")

    login(page, email, password, next_path=f"/bots/{bot_id}")
    reason = page.get_by_test_id("stop-reason")
    expect(reason).to_contain_text(TEXTS[lang]["reason"])
    expect(reason).not_to_contain_text("60000")  # not the server's English detail
    shot(page, f"stopped-bot-{lang}")


def test_exchange_account_card_reads_a_fresh_balance_and_says_one_thing(
    page, viewport, sim_control, django_db_blocker, shot
):
    if viewport != "desktop":
        pytest.skip("the card's content does not depend on the screen")

    def make():
        from exchanges.models import ExchangeAccount
        from tests.factories import DEFAULT_PASSWORD, ExchangeAccountFactory, UserFactory

        user = UserFactory(email=new_email(), language="en")
        keys = sim_control.create_account(funding={"USDT": "1000"})
        ExchangeAccountFactory(
            user=user,
            label="Practice",
            environment=ExchangeAccount.Environment.PAPER,
            api_key=keys.api_key,
            api_secret=keys.api_secret,
            permissions={
                "can_trade_spot": True,
                "can_trade_linear": True,
                "can_withdraw": False,
                "read_only": False,
                "exchange": {"ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"]},
            },
        )
        return user.email, DEFAULT_PASSWORD, keys.uid

    email, password, uid = _db(django_db_blocker, make)
    login(page, email, password, next_path="/profile")
    card = page.get_by_test_id("exchange-account")
    expect(card.get_by_test_id("balance")).to_contain_text("1,000.00 USDT".replace(",", "\u2009"))
    expect(card.get_by_test_id("balance-read-at")).to_contain_text("read at")
    expect(card).not_to_contain_text("[object Object]")
    expect(card).to_contain_text("spot trading, futures trading")
    # one statement about expiry: a paper key never expires, and nothing on the card says otherwise
    expect(card.get_by_test_id("key-expiry")).to_contain_text("does not expire")
    expect(card).not_to_contain_text("expire after 90 days")
    sim_control.fund(uid, "USDT", "500")  # money arrives on the exchange
    card.get_by_test_id("balance-refresh").click()
    expect(card.get_by_test_id("balance")).to_contain_text("1\u2009500.00 USDT")
    shot(page, "account-card")


def test_log_out_everywhere_ends_the_session_and_the_unlock_link_is_acknowledged(page, django_db_blocker, shot):
    """Issue 9 security 2-3 in the app: "log out everywhere" in the profile ends every session at
    once (the old cookie no longer reads anything), and the emailed unlock link's landing says so."""
    from tests.e2e.conftest import make_user

    email, password = make_user(django_db_blocker)
    login(page, email, password, next_path="/profile")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("logout-everywhere").click()
    expect(page).to_have_url(re.compile(r"/login"))
    session = page.request.get("/api/auth/session/").json()
    assert session.get("authenticated") is False, session
    page.goto("/login?unlocked=1")
    expect(page.get_by_test_id("unlock-notice")).to_be_visible()
    shot(page, "login-unlocked")
