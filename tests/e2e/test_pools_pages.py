"""Pools in a real browser on a phone and a desktop, in Russian and English: an investor finds
the open pool in the list (a paper pool: its badge says so), reads its page (track record
labelled simulated, risks in plain words), sees the pre-launch report for their amount, joins,
and their follower bot starts on their own paper account (the real worker ticks it); the list
then shows their place in the pool. Not being an approved manager, the investor sees the manager
application (their record from fills) instead of the publish form, applies, and once an operator
approves them the publish form shows. A manager whose investors have paid their fees (invoiced
and paid on the fake Crypto Pay, credited through billing) sees what is available, takes part of
it as plan credit and finds it in the payout history."""

from __future__ import annotations

import time
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from billing.fakes.cryptopay import FakeCryptoPay
from tests.e2e.conftest import _db, login, new_email
from tests.e2e.test_bots_pages import api, field, spot_config

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]  # rows the stack commits are flushed when the module ends

LANGUAGES = ("ru", "en")
TEXTS = {
    "ru": {
        "title": "Инвестиционные пулы",
        "risk": "Средний риск",
        "paper": "Бумажная торговля",
        "simulated": "Смоделированные результаты (бумажная торговля), не реальные деньги.",
        "drawdown": "Наибольшее падение",
        "verified": "на бумажном симуляторе",
        "custody": "Ваши деньги остаются на вашем аккаунте биржи",
        "rule": "За бумажным пулом следуют только с бумажным аккаунтом",
        "amount_error": "Укажите сумму между минимальной и максимальной суммой пула.",
        "report": "Что будет делать ваш бот",
        "joined": "Вы вступили в пул",
        "following": "Следует",
        "not_sent": "не отправлена",
        "pending": "на рассмотрении",
        "live": "Реальные деньги",
        "publish": "Опубликовать пул",
        "payouts": "Выплаты моих комиссий",
        "plan_credit": "Зачесть в счёт тарифа",
        "payout_paid": "Выплачено",
    },
    "en": {
        "title": "Investment pools",
        "risk": "Medium risk",
        "paper": "Paper trading",
        "simulated": "Simulated results (paper trading), not real money.",
        "drawdown": "Largest fall",
        "verified": "on the paper simulator",
        "custody": "Your money stays on your exchange account",
        "rule": "A paper pool is followed only with a paper account",
        "amount_error": "Choose an amount between the pool's minimum and maximum.",
        "report": "What your bot will do",
        "joined": "You joined the pool",
        "following": "Following",
        "not_sent": "not sent",
        "pending": "under review",
        "live": "Live (real money)",
        "publish": "Publish a pool",
        "payouts": "Payouts of my fees",
        "plan_credit": "Credit towards my plan",
        "payout_paid": "Paid",
    },
}


@pytest.fixture(scope="module")
def investors(e2e_stack, django_db_blocker) -> dict[tuple[str, str], tuple[str, str]]:
    """Investors on the Start plan (the free plan joins no pool), one per browser run
    ({(viewport, language): (email, password)}, each reading the app in that language). Made
    before any test's transaction opens: that transaction re-seeds the plans and holds their
    rows locked, so a subscription written beside it would wait for it."""

    def make():
        from billing.models import Plan
        from billing.services import subscription_comp
        from tests.factories import DEFAULT_PASSWORD, UserFactory

        out = {}
        for viewport in ("phone", "desktop"):
            for language in LANGUAGES:
                user = UserFactory(email=new_email(), language=language)
                subscription_comp(user=user, plan=Plan.objects.get(code="start"), days=30)
                out[viewport, language] = (user.email, DEFAULT_PASSWORD)
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
        from pools.services import manager_apply, manager_approve
        from tests.factories import BotFactory, ExchangeAccountFactory, UserFactory

        manager = UserFactory(email=new_email())
        application = manager_apply(user=manager, experience="Years of grid trading on the simulator.")
        manager_approve(application=application, by=UserFactory(email=new_email(), is_staff=True))
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


@pytest.mark.parametrize("language", LANGUAGES)
def test_find_a_pool_read_it_and_join_with_your_own_account(
    page, e2e_stack, sim_control, base_price, django_db_blocker, shot, investors, viewport, language
):
    texts = TEXTS[language]
    p0 = int(Decimal(str(base_price)))
    pool_id, name = open_pool(django_db_blocker, sim_control, p0)
    email, password = investors[viewport, language]
    login(page, email, password)
    page.wait_for_url(lambda url: urlparse(url).path == "/dashboard")
    assert api(page, "POST", "/api/exchange-accounts/paper/", {})["status"] == 201

    page.goto("/pools")
    expect(page.get_by_role("heading", name=texts["title"])).to_be_visible()
    card = page.get_by_test_id("pool-card").filter(has_text=name)
    expect(card).to_be_visible()
    expect(card.get_by_test_id("pool-risk")).to_have_text(texts["risk"])
    expect(card.get_by_test_id("paper-badge")).to_have_text(texts["paper"])
    shot(page, f"pools-list-{language}")
    card.get_by_role("link", name=name).click()
    page.wait_for_url(f"**/pools/{pool_id}")
    expect(page.get_by_test_id("pool-name")).to_have_text(name)
    expect(page.get_by_test_id("paper-badge")).to_have_text(texts["paper"])
    expect(page.get_by_test_id("simulated")).to_have_text(texts["simulated"])
    expect(page.get_by_test_id("track-record")).to_contain_text(texts["drawdown"])
    expect(page.get_by_test_id("track-record")).to_contain_text(texts["verified"])
    expect(page.get_by_test_id("risks")).to_contain_text(texts["custody"])
    expect(page.get_by_test_id("risks")).to_contain_text("20 %")
    expect(page.get_by_test_id("join-rule")).to_contain_text(texts["rule"])

    # An amount outside the pool's limits is refused in words; then the report for 300.
    field(page, "join-amount").fill("50")
    page.get_by_test_id("join-preview").click()
    expect(page.get_by_text(texts["amount_error"])).to_be_visible()
    field(page, "join-amount").fill("300")
    page.get_by_test_id("join-preview").click()
    report = page.get_by_test_id("join-report")
    expect(report).to_contain_text(texts["report"])
    shot(page, f"pool-report-{language}")
    accept = page.get_by_test_id("join-accept")
    if accept.count():
        accept.click()
    page.get_by_test_id("join-confirm").click()
    expect(page.get_by_test_id("joined")).to_contain_text(texts["joined"])
    expect(page.get_by_test_id("investors")).to_have_text("1")
    shot(page, f"pool-joined-{language}")

    def follower_status():
        from pools.models import PoolMember

        member = PoolMember.objects.select_related("bot").get(pool_id=pool_id, investor__email=email)
        return member.bot.status, member.bot.investment, member.bot.user.email

    wait_for(lambda: _db(django_db_blocker, follower_status)[0] == "running", what="the follower bot to run")
    status, investment, owner = _db(django_db_blocker, follower_status)
    assert investment == Decimal("300") and owner == email

    page.goto("/pools")
    mine = page.get_by_test_id("membership").filter(has_text=name)
    expect(mine).to_contain_text(texts["paper"])
    expect(mine.get_by_test_id("membership-status")).to_have_text(texts["following"])
    shot(page, f"pools-mine-{language}")

    # Not an approved manager: the application (with the record from fills) instead of the form.
    manager_card = page.get_by_test_id("pool-manager")
    expect(manager_card.get_by_test_id("manager-status")).to_have_text(texts["not_sent"])
    expect(manager_card.get_by_test_id("record-live")).to_contain_text(texts["live"])
    expect(page.get_by_test_id("pool-publish")).to_have_count(0)
    field(page, "manager-experience").fill("Two years of grid bots on BTC, always within a range.")
    page.get_by_test_id("manager-apply").click()
    expect(manager_card.get_by_test_id("manager-status")).to_have_text(texts["pending"])
    expect(page.get_by_test_id("manager-apply")).to_have_count(0)
    shot(page, f"pools-manager-pending-{language}")

    def approve():
        from pools.models import PoolManager
        from pools.services import manager_approve
        from tests.factories import UserFactory

        application = PoolManager.objects.get(user__email=email)
        manager_approve(application=application, by=UserFactory(email=new_email(), is_staff=True))

    _db(django_db_blocker, approve)
    page.reload()
    expect(page.get_by_test_id("pool-publish")).to_contain_text(texts["publish"])
    expect(page.get_by_test_id("pool-manager")).to_have_count(0)


CRYPTOPAY_TOKEN = "1234:AAsetkaFakeCryptoPayToken"


@pytest.fixture(scope="module")
def _cryptopay_server():
    fake = FakeCryptoPay(token=CRYPTOPAY_TOKEN).start()
    yield fake
    fake.stop()


def manager_with_paid_fees(django_db_blocker, cryptopay, language: str) -> tuple[str, str]:
    """A pool manager (email, password) whose investor was invoiced two fees on Crypto Pay and paid
    them: 12.345678 + 7.654321 = 19.999999 USDT earned, 19.99 available (never more than earned)."""

    def make():
        from billing.models import Payment
        from billing.services import payment_refresh
        from bots.models import Bot
        from pools import services as pool_services
        from pools.models import PoolFee
        from tests.billing.test_pool_fee_charges import make_fee
        from tests.factories import DEFAULT_PASSWORD

        first = make_fee(amount="12.345678")
        Bot.objects.filter(pk=first.pool.bot_id).update(status=Bot.Status.STOPPED)  # no exchange behind it
        first.manager.__class__.objects.filter(pk=first.manager_id).update(email=new_email(), language=language)
        second = PoolFee.objects.create(
            pool=first.pool,
            member=first.member,
            investor=first.investor,
            manager=first.manager,
            kind=first.kind,
            key="2.2",
            amount=Decimal("7.654321"),
            nav=first.nav,
            units=first.units,
            hwm_before=first.hwm_before,
            created_at=first.created_at,
        )
        for fee in (first, second):
            payment = pool_services.pool_fee_invoice(fee=fee)
            cryptopay.pay(int(payment.provider_payment_id))
            assert payment_refresh(payment=Payment.objects.get(pk=payment.pk)) == "applied"
        first.manager.refresh_from_db()
        return first.manager.email, DEFAULT_PASSWORD

    return _db(django_db_blocker, make)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_manager_takes_paid_in_fees_as_plan_credit(
    page, e2e_stack, django_db_blocker, shot, viewport, language, _cryptopay_server, settings
):
    texts = TEXTS[language]
    settings.SETKA_CRYPTOPAY_API_URL = f"{_cryptopay_server.url}/api"
    settings.SETKA_CRYPTOPAY_TOKEN = CRYPTOPAY_TOKEN
    email, password = manager_with_paid_fees(django_db_blocker, _cryptopay_server, language)
    login(page, email, password, next_path="/pools")

    card = page.get_by_test_id("manager-payouts")
    expect(card.get_by_role("heading", name=texts["payouts"])).to_be_visible()
    expect(card.get_by_test_id("manager-earned")).to_have_text("19.99 USDT")
    expect(card.get_by_test_id("manager-available")).to_have_text("19.99 USDT")
    expect(card.get_by_test_id("manager-paid")).to_have_text("0 USDT")
    expect(card.get_by_test_id("manager-payout-row")).to_have_count(0)

    # Plan credit is the form's first choice; 5.00 of the 19.99 is credited at once.
    expect(card.get_by_test_id("manager-payout-kind")).to_contain_text(texts["plan_credit"])
    field(page, "manager-payout-amount").fill("5.00")
    card.get_by_test_id("manager-payout-submit").click()
    row = card.get_by_test_id("manager-payout-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(texts["plan_credit"])
    expect(row).to_contain_text("5 USDT")
    expect(row.get_by_test_id("manager-payout-status")).to_have_text(texts["payout_paid"])
    expect(card.get_by_test_id("manager-available")).to_have_text("14.99 USDT")
    expect(card.get_by_test_id("manager-paid")).to_have_text("5 USDT")
    shot(page, f"pools-manager-payouts-{language}")

    def credit():
        from billing.models import Subscription

        return Subscription.objects.get(user__email=email).credit_usdt

    assert _db(django_db_blocker, credit) == Decimal("5.00")
    page.reload()  # the history is the server's, not the page's memory
    expect(card.get_by_test_id("manager-payout-row")).to_have_count(1)
    expect(card.get_by_test_id("manager-available")).to_have_text("14.99 USDT")
