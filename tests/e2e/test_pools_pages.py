"""Pools in a real browser on a phone and a desktop: an investor finds the open pool in the
list, reads its page (verified track record, risks in plain words), sees the pre-launch report
for their amount, joins, and their follower bot starts on their own paper account (the real
worker ticks it); the list then shows their place in the pool."""

from __future__ import annotations

import time
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _db, login, new_email
from tests.e2e.test_bots_pages import api, field, spot_config

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]  # rows the stack commits are flushed when the module ends


@pytest.fixture(scope="module")
def investors(e2e_stack, django_db_blocker) -> list[tuple[str, str]]:
    """Investors on the Start plan (the free plan joins no pool), one per browser run. Made
    before any test's transaction opens: that transaction re-seeds the plans and holds their
    rows locked, so a subscription written beside it would wait for it."""

    def make():
        from billing.models import Plan
        from billing.services import subscription_comp
        from tests.factories import DEFAULT_PASSWORD, UserFactory

        out = []
        for _ in range(2):
            user = UserFactory(email=new_email())
            subscription_comp(user=user, plan=Plan.objects.get(code="start"), days=30)
            out.append((user.email, DEFAULT_PASSWORD))
        return out

    return _db(django_db_blocker, make)


def wait_for(predicate, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def open_pool(django_db_blocker, sim_control, p0) -> tuple[int, str]:
    """A manager's running bot on the simulator, published and approved as a pool."""

    def make_bot():
        from bots.services import bot_start
        from exchanges.models import ExchangeAccount
        from tests.factories import BotFactory, ExchangeAccountFactory, UserFactory

        manager = UserFactory(email=new_email())
        acc = sim_control.create_account(funding={"USDT": "10000"})
        account = ExchangeAccountFactory(
            user=manager, environment=ExchangeAccount.Environment.PAPER, api_key=acc.api_key, api_secret=acc.api_secret
        )
        bot = BotFactory(user=manager, exchange_account=account, config=spot_config(p0), investment=Decimal("1000"))
        bot_start(bot=bot)
        return bot.pk

    bot_id = _db(django_db_blocker, make_bot)

    def running() -> bool:
        from bots.models import Bot

        return _db(django_db_blocker, lambda: Bot.objects.get(pk=bot_id).status) == "running"

    wait_for(running, what="the manager's bot to run")
    name = f"Спокойный BTC {bot_id}"

    def publish():
        from bots.models import Bot
        from pools.services import pool_approve, pool_create

        bot = Bot.objects.get(pk=bot_id)
        pool = pool_create(
            manager=bot.user,
            bot=bot,
            name=name,
            description="Нейтральная сетка на BTC в узком диапазоне.",
            risk_level="medium",
            min_investment=Decimal("100"),
            max_investment=Decimal("5000"),
            performance_fee_percent=Decimal("20"),
        )
        pool_approve(pool=pool)
        return pool.pk

    return _db(django_db_blocker, publish), name


def test_find_a_pool_read_it_and_join_with_your_own_account(
    page, e2e_stack, sim_control, base_price, django_db_blocker, shot, investors, viewport
):
    p0 = int(Decimal(str(base_price)))
    pool_id, name = open_pool(django_db_blocker, sim_control, p0)
    email, password = investors[0 if viewport == "phone" else 1]
    login(page, email, password)
    page.wait_for_url(lambda url: urlparse(url).path == "/dashboard")
    assert api(page, "POST", "/api/exchange-accounts/paper/", {})["status"] == 201

    page.goto("/pools")
    expect(page.get_by_role("heading", name="Инвестиционные пулы")).to_be_visible()
    card = page.get_by_test_id("pool-card").filter(has_text=name)
    expect(card).to_be_visible()
    expect(card.get_by_test_id("pool-risk")).to_have_text("Средний риск")
    shot(page, "pools-list")
    card.get_by_role("link", name=name).click()
    page.wait_for_url(f"**/pools/{pool_id}")
    expect(page.get_by_test_id("pool-name")).to_have_text(name)
    expect(page.get_by_test_id("track-record")).to_contain_text("Наибольшее падение")
    expect(page.get_by_test_id("track-record")).to_contain_text("по сделкам управляющего на бирже")
    expect(page.get_by_test_id("risks")).to_contain_text("Ваши деньги остаются на вашем аккаунте биржи")
    expect(page.get_by_test_id("risks")).to_contain_text("20 %")

    # An amount outside the pool's limits is refused in words; then the report for 300.
    field(page, "join-amount").fill("50")
    page.get_by_test_id("join-preview").click()
    expect(page.get_by_text("Укажите сумму между минимальной и максимальной суммой пула.")).to_be_visible()
    field(page, "join-amount").fill("300")
    page.get_by_test_id("join-preview").click()
    report = page.get_by_test_id("join-report")
    expect(report).to_contain_text("Что будет делать ваш бот")
    shot(page, "pool-report")
    accept = page.get_by_test_id("join-accept")
    if accept.count():
        accept.click()
    page.get_by_test_id("join-confirm").click()
    expect(page.get_by_test_id("joined")).to_contain_text("Вы вступили в пул")
    expect(page.get_by_test_id("investors")).to_have_text("1")
    shot(page, "pool-joined")

    def follower_status():
        from pools.models import PoolMember

        member = PoolMember.objects.select_related("bot").get(pool_id=pool_id, investor__email=email)
        return member.bot.status, member.bot.investment, member.bot.user.email

    wait_for(lambda: _db(django_db_blocker, follower_status)[0] == "running", what="the follower bot to run")
    status, investment, owner = _db(django_db_blocker, follower_status)
    assert investment == Decimal("300") and owner == email

    page.goto("/pools")
    mine = page.get_by_test_id("membership")
    expect(mine).to_contain_text(name)
    expect(mine.get_by_test_id("membership-status")).to_have_text("Следует")
    shot(page, "pools-mine")
