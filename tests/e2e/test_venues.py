"""The venue shown everywhere (issue 12, item 4), in a real browser on a phone and a desktop, in
Russian and English: a user with a Bybit and an OKX paper bot sees each bot's exchange on the bots
list and the bot's page, each fill's exchange in the trade history (a column on a desktop, a line
under the time on a phone), and narrows both lists to one exchange with the venue filter, whose
choices are the exchanges the user has accounts on. Rows are made with the factories; no bot runs."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _db, login, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]  # rows the stack commits are flushed when the module ends

TEXTS = {
    "ru": {"label": "Биржа", "all": "Все биржи"},
    "en": {"label": "Exchange", "all": "All exchanges"},
}


def user_with_bybit_and_okx_bots(django_db_blocker, language: str) -> tuple[str, str, dict[str, int]]:
    """A user with one stopped paper bot on Bybit and one on OKX, each with one fill."""
    email, password = make_user(django_db_blocker)

    def make():
        from accounts.models import User
        from exchanges.models import Exchange
        from tests.factories import BotFactory, ExchangeAccountFactory, OrderFactory, TradeFactory

        user = User.objects.get(email=email)
        User.objects.filter(pk=user.pk).update(language=language)
        bots = {}
        for code, name, symbol in (("bybit", "Grid on Bybit", "BTCUSDT"), ("okx", "Grid on OKX", "ETHUSDT")):
            account = ExchangeAccountFactory(user=user, exchange=Exchange.objects.get(code=code), label=f"Paper {code}")
            bot = BotFactory(user=user, exchange_account=account, name=name, symbol=symbol, status="stopped",
                             stop_reason="Stopped by the user")
            TradeFactory(order=OrderFactory(bot=bot, side="Buy", status="filled"))
            bots[code] = bot.pk
        return bots

    return email, password, _db(django_db_blocker, make)


def choose(page, testid: str, option: str) -> None:
    page.get_by_test_id(testid).click()
    page.get_by_role("option", name=option, exact=True).click()


@pytest.mark.parametrize("language", ["ru", "en"])
def test_each_bot_and_fill_shows_its_venue_and_the_lists_filter_by_it(
    page, viewport, language, django_db_blocker, shot
):
    texts = TEXTS[language]
    email, password, bots = user_with_bybit_and_okx_bots(django_db_blocker, language)
    login(page, email, password)
    page.wait_for_url(lambda url: urlparse(url).path == "/dashboard")  # login() also accepts /login?next=/dashboard

    # The bots list: every row names its exchange.
    page.goto("/bots")
    rows = page.get_by_test_id("bot-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Grid on Bybit").get_by_test_id("venue")).to_have_text("Bybit")
    expect(rows.filter(has_text="Grid on OKX").get_by_test_id("venue")).to_have_text("OKX")
    venue_filter = page.get_by_test_id("filter-venue")
    expect(venue_filter).to_contain_text(texts["all"])
    expect(page.locator("label").filter(has_text=re.compile(rf"^{texts['label']}$"))).to_be_visible()
    shot(page, f"venue-01-bots-{language}")

    # Only the exchanges the user has accounts on are offered; choosing one narrows the list.
    venue_filter.click()
    expect(page.get_by_role("option")).to_have_text([texts["all"], "Bybit", "OKX"])
    page.get_by_role("option", name="OKX", exact=True).click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", str(bots["okx"]))
    expect(page).to_have_url(re.compile(r"venue=okx"))

    # The bot's page says where it trades, next to its name.
    rows.first.get_by_test_id("bot-row-name").click()
    page.wait_for_url(re.compile(rf"/bots/{bots['okx']}$"))
    expect(page.get_by_test_id("bot-name")).to_have_text("Grid on OKX")
    expect(page.get_by_test_id("venue").first).to_have_text("OKX")

    # The trade history: each fill's exchange, as a column on a desktop, a line on a phone.
    page.goto("/trades")
    trades = page.get_by_test_id("trade-row")
    expect(trades).to_have_count(2, timeout=20_000)  # the page loads its rows after the shell
    where = "trade-venue" if viewport == "desktop" else "trade-venue-line"
    hidden = "trade-venue-line" if viewport == "desktop" else "trade-venue"
    expect(trades.get_by_test_id(where)).to_have_text(["OKX", "Bybit"])  # newest first
    for cell in trades.get_by_test_id(hidden).all():
        expect(cell).to_be_hidden()
    if viewport == "desktop":
        expect(page.get_by_role("columnheader", name=texts["label"])).to_be_visible()
    shot(page, f"venue-02-trades-{language}")

    choose(page, "filter-venue", "Bybit")
    expect(trades).to_have_count(1)
    expect(trades.get_by_test_id(where)).to_have_text("Bybit")
    expect(page).to_have_url(re.compile(r"venue=bybit"))
    expect(page.get_by_test_id("export-csv")).to_have_attribute("href", re.compile(r"venue=bybit"))
    shot(page, f"venue-03-trades-bybit-{language}")
    assert not page.errors, page.errors
