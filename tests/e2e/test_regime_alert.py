"""The regime alert on the bot page: when the watch saw the bot's market turn into a trend, a
warning line says so with the reason in the owner's language; a bot whose market is sideways
shows none. Phone and desktop, Russian and English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _db, login, new_email

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

TEXTS = {
    "en": ("The market turned against the grid", "turned from sideways to a trend"),
    "ru": ("Рынок развернулся против сетки", "перешёл от боковика к тренду"),
}


def _user_with_watched_bots(django_db_blocker, language: str) -> tuple[str, str, int, int]:
    def make():
        from bots.models import Bot
        from mcp_server.insights.regime import Regime
        from mcp_server.insights.watch import Reading, bot_regime_apply
        from tests.factories import DEFAULT_PASSWORD, BotFactory, UserFactory

        user = UserFactory(email=new_email(), language=language)
        trending = BotFactory(user=user, status=Bot.Status.RUNNING, name="Trend bot", symbol="BTCUSDT")
        calm = BotFactory(user=user, status=Bot.Status.RUNNING, name="Calm bot", symbol="ETHUSDT")
        bot_regime_apply(bot=calm, reading=Reading(Regime("range", "flat", 0.02, 61.0, 0.7, 0, 3), 0.3, 24))
        bot_regime_apply(bot=trending, reading=Reading(Regime("range", "flat", 0.02, 61.0, 0.7, 0, 3), 0.3, 24))
        bot_regime_apply(bot=trending, reading=Reading(Regime("trending", "up", 0.62, 12.0, 1.1, 3, 0), 8.4, 24))
        return user.email, DEFAULT_PASSWORD, trending.pk, calm.pk

    return _db(django_db_blocker, make)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_bot_page_says_the_market_turned_against_the_grid(page, lang, django_db_blocker, shot):
    email, password, trending_id, calm_id = _user_with_watched_bots(django_db_blocker, lang)
    page.goto("/login")
    page.evaluate("lang => localStorage.setItem('setka_lang', lang)", lang)
    login(page, email, password, next_path=f"/bots/{trending_id}")
    alert = page.get_by_test_id("regime-alert")
    title, reason = TEXTS[lang]
    expect(alert).to_contain_text(title)
    expect(alert).to_contain_text(reason)
    expect(alert).to_contain_text("+8.4")
    shot(page, f"regime-alert-{lang}")
    page.goto(f"/bots/{calm_id}")
    expect(page.get_by_test_id("bot-name")).to_have_text("Calm bot")
    expect(page.get_by_test_id("regime-alert")).to_have_count(0)
