"""Browser: a visitor arrives by a partner link, signs up (the code rides through email
verification and login), pays on the fake YooKassa page with the referral discount, and the
partner sees the sign-up, the paying user and the accrued reward on the partner page. After the
refund window the partner asks for a payout to a card; an operator approves it in admin; the
worker sends it through YooKassa Payouts; YooKassa confirms it and the partner sees it paid.
On a phone and a desktop, in Russian and English (the visitor switches the sign-up page to
English; the partner's profile says English).

Its own small stack (the web process and a worker; the fake YooKassa delivers its callbacks to
the web process), on the test database: nothing leaves 127.0.0.1."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import time

import pytest
from playwright.sync_api import expect

from billing.fakes.yookassa import FakeYooKassa
from tests.e2e.conftest import (  # noqa: F401 - _orm_beside_playwright is this module's autouse fixture
    ARTIFACTS,
    DIST,
    STACK_APPNAME,
    VIEWPORTS,
    _build_frontend,
    _close_db_sessions,
    _db,
    _flush,
    _need_browser,
    _orm_beside_playwright,
    _reference_rows_committed,
    login,
    make_user,
    new_email,
    outbox_code,
)
from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db]
PASSWORD = "Grid-Trader-2026!"
SHOP, SECRET = "100500", "test_setka_fake_secret"

LANGUAGES = ("ru", "en")
TEXTS = {
    "ru": {
        "invited": "Вас пригласил партнёр",
        "title": "Партнёрская программа",
        "transfer": "Перевод",
        "requested": "Ждёт оператора",
        "sending": "Отправляется",
        "paid": "Выплачено",
    },
    "en": {
        "invited": "You were invited by a partner",
        "title": "Partner programme",
        "transfer": "Transfer",
        "requested": "Waiting for an operator",
        "sending": "Being sent",
        "paid": "Paid",
    },
}


@pytest.fixture(scope="module")
def yoo():
    fake = FakeYooKassa(shop_id=SHOP, secret_key=SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def e2e_stack(django_db_setup, django_db_blocker, yoo):
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
        "SETKA_REGISTRATION_MODE": "open",
        "SETKA_YOOKASSA_API_URL": f"{yoo.url}/v3",
        "SETKA_PAYOUT_MIN_RUB": "100.00",  # the rail's floor; the tier's minimum is lowered below
    }
    log_dir = ARTIFACTS / "e2e-referrals-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    stack = Stack(env=env, log_dir=log_dir)
    stack.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    try:
        web = stack.start("web", timeout=90)
        stack.start("worker", concurrency=1, purge=True)  # sends approved payouts (payout_send_task)
        yoo.webhook_url = f"{web.url}/api/billing/webhooks/yookassa/"
        yield stack
    except Exception:
        print(stack.all_logs())
        raise
    finally:
        stack.stop_all()
        _close_db_sessions(db["NAME"], django_db_blocker)
        _flush(django_db_blocker)
        _close_db_sessions(db["NAME"], django_db_blocker)


@pytest.fixture(scope="module")
def base_url(e2e_stack) -> str:
    return e2e_stack.procs["web"].url


def field(pg, testid: str):
    loc = pg.locator(f'[data-testid="{testid}"]')
    inner = loc.locator("input")
    return inner if inner.count() else loc


def _partner(django_db_blocker, language: str) -> tuple[str, str, str]:
    email, password = make_user(django_db_blocker)

    def make():
        from django.apps import apps

        from accounts.models import User
        from referrals import services
        from referrals.models import PartnerTier

        if not PartnerTier.objects.filter(is_default=True).exists():  # flushed by an earlier stack
            importlib.import_module("referrals.migrations.0002_guards_and_default_tier").seed(apps, None)
        User.objects.filter(email=email).update(language=language)
        partner = services.partner_ensure(user=User.objects.get(email=email))
        return partner.codes.get(custom=False).code

    return email, password, _db(django_db_blocker, make)


def _refund_window_over():
    """Rewards mature (the window is 14 days); this test's tier pays out from 100.00 RUB."""
    from datetime import timedelta

    from django.utils import timezone

    from referrals import services
    from referrals.models import PartnerTier

    PartnerTier.objects.filter(is_default=True).update(min_payout_rub="100.00")
    services.rewards_mature(now=timezone.now() + timedelta(days=15))


def _staff_session(django_db_blocker) -> str:
    """An operator's signed-in admin session (staff sign in with a TOTP code; the test starts
    from the session)."""

    def make():
        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        from tests.factories import UserFactory

        staff = UserFactory(email=new_email(), is_staff=True, is_superuser=True)
        session = SessionStore()
        session[SESSION_KEY] = str(staff.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = staff.get_session_auth_hash()
        session.create()
        return session.session_key

    return _db(django_db_blocker, make)


CYRILLIC = re.compile(r"[А-Яа-яЁё]+")


def speaks(pg, language: str) -> None:
    """In English nothing on the page is left in Russian (no Cyrillic word anywhere in its text)
    but the sellers' registered legal names (a Russian company is named as registered)."""
    if language == "en":
        from django.conf import settings

        legal = {w for name in settings.SETKA_BILLING_SELLERS.values() for w in CYRILLIC.findall(name)}
        pg.wait_for_load_state("networkidle")
        assert [w for w in CYRILLIC.findall(pg.locator("body").inner_text()) if w not in legal] == [], pg.url


def _sent_payout(yoo, timeout: float = 30) -> dict:
    """The payout the worker sent to the fake YooKassa (awaited: the worker picks the task up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = [p for p in list(yoo.payouts.values()) if p["status"] == "pending"]
        if pending:
            assert len(pending) == 1, pending
            return pending[0]
        time.sleep(0.1)
    raise AssertionError("the worker sent no payout to YooKassa")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_visitor_by_a_partner_link_signs_up_pays_and_the_partner_sees_the_reward(
    page, browser, base_url, viewport, language, e2e_stack, yoo, django_db_blocker, shot
):
    texts = TEXTS[language]
    partner_email, partner_password, code = _partner(django_db_blocker, language)
    email = new_email()

    # --- the partner's link: counted, the code kept through sign-up -----------------------------
    page.goto(f"/r/{code}")
    page.wait_for_url(re.compile(rf"/register\?ref={code}"))
    if language != "ru":  # the visitor reads the sign-up page in their language (the profile keeps it)
        page.get_by_role("button", name="EN").click()  # the switch names the language it offers
    expect(page.get_by_test_id("referral-invite")).to_contain_text(texts["invited"])
    expect(page.get_by_test_id("referral-invite")).to_contain_text(code)
    speaks(page, language)
    shot(page, f"referrals-01-invited-{language}")
    field(page, "email").fill(email)
    field(page, "password").fill(PASSWORD)
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r"/verify-email"))
    field(page, "code").fill(outbox_code(django_db_blocker, email))
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r"/login"))
    field(page, "password").fill(PASSWORD)
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r"/dashboard"))

    # --- pays on the fake provider: the first payment carries the referral discount (10 %) -------
    page.goto("/pricing")
    speaks(page, language)
    page.get_by_test_id("choose-start").click()
    page.wait_for_url(re.compile(re.escape(yoo.url) + r"/checkout/"))
    expect(page.get_by_test_id("fake-amount")).to_have_text("891.00 RUB")
    page.get_by_test_id("fake-pay").click()
    page.wait_for_url(re.compile(r"/billing\?payment="))
    expect(page.get_by_test_id("payment-succeeded")).to_be_visible()
    speaks(page, language)

    # --- the partner sees the conversion and the accrued reward (20 % of 891.00) -----------------
    context = browser.new_context(
        viewport=page.viewport_size,
        base_url=base_url,
        locale="ru-RU" if language == "ru" else "en-US",
        is_mobile=viewport == "phone",
    )
    context.set_default_timeout(20_000)
    partner_page = context.new_page()
    login(partner_page, partner_email, partner_password, next_path="/partners")
    expect(partner_page.get_by_role("heading", name=texts["title"])).to_be_visible()
    expect(partner_page.get_by_test_id("ref-clicks")).to_contain_text("1")
    expect(partner_page.get_by_test_id("ref-signups")).to_contain_text("1")
    expect(partner_page.get_by_test_id("ref-paying")).to_contain_text("1")
    expect(partner_page.get_by_test_id("ref-revenue")).to_contain_text("891")
    expect(partner_page.get_by_test_id("ref-balance-RUB").get_by_test_id("ref-accrued")).to_contain_text("178")
    expect(partner_page.get_by_test_id("ref-link").first).to_contain_text(f"/r/{code}")
    speaks(partner_page, language)
    shot(partner_page, f"referrals-02-partner-{language}")

    # --- after the refund window the partner asks for 150.00 of the 178.20 to a card ---------------
    _db(django_db_blocker, _refund_window_over)
    partner_page.reload()
    expect(partner_page.get_by_test_id("ref-balance-RUB").get_by_test_id("ref-available")).to_contain_text("178")
    partner_page.get_by_test_id("payout-kind").click()
    partner_page.get_by_role("option", name=texts["transfer"], exact=True).click()
    field(partner_page, "payout-amount").fill("150.00")
    field(partner_page, "payout-destination").fill("4111 1111 1111 1111")
    partner_page.get_by_test_id("payout-submit").click()
    row = partner_page.get_by_test_id("payout-row").first
    expect(row).to_contain_text("•••• 1111")
    expect(row).not_to_contain_text("4111 1111")
    expect(row.get_by_test_id("payout-status")).to_have_text(texts["requested"])
    speaks(partner_page, language)
    shot(partner_page, f"referrals-03-payout-requested-{language}")

    # --- an operator approves it in admin; the worker sends it to YooKassa Payouts -----------------
    staff = browser.new_context(viewport=VIEWPORTS["desktop"], base_url=base_url, locale="en-US")
    staff.add_cookies([{"name": "sessionid", "value": _staff_session(django_db_blocker), "url": base_url}])
    admin = staff.new_page()
    admin.goto("/admin/referrals/payout/?status__exact=requested")
    admin.locator('input[name="_selected_action"]').first.check()
    admin.locator('select[name="action"]').select_option("approve")
    admin.locator('button[name="index"]').click()
    expect(admin.locator(".messagelist")).to_contain_text("1 decided.")
    payout = _sent_payout(yoo)
    assert payout["amount"] == {"value": "150.00", "currency": "RUB"}
    assert payout["payout_destination"]["card"]["last4"] == "1111"
    admin.goto("/admin/referrals/payout/")
    expect(admin.locator("#result_list")).to_contain_text(f"yookassa {payout['id']} sent, waiting for the provider")
    staff.close()
    partner_page.reload()
    status = partner_page.get_by_test_id("payout-row").first.get_by_test_id("payout-status")
    expect(status).to_have_text(texts["sending"])

    # --- YooKassa pays it and says so; the partner sees it paid --------------------------------
    yoo.payout_settle(payout["id"], "succeeded")
    partner_page.reload()
    expect(partner_page.get_by_test_id("payout-row").first.get_by_test_id("payout-status")).to_have_text(texts["paid"])
    balance = partner_page.get_by_test_id("ref-balance-RUB")
    expect(balance.get_by_test_id("ref-paid")).to_have_text("150")
    expect(balance.get_by_test_id("ref-pending")).to_have_text("0")
    expect(balance.get_by_test_id("ref-available")).to_have_text("28.2")
    speaks(partner_page, language)
    shot(partner_page, f"referrals-04-payout-paid-{language}")
    context.close()

    def ledger():
        from referrals import selectors

        return selectors.ledger_unbalanced_entries(), selectors.ledger_total()

    assert _db(django_db_blocker, ledger) == ([], 0)
