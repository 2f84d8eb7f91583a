"""Browser: open sign-up -> choose a plan -> pay on the fake YooKassa page -> the callback
arrives -> plan active; a second live bot refused on the free plan and allowed on the paid one;
expiry -> grace -> expired: the bot keeps running with its protective orders (no new cycles).

Its own stack (simulator, web, worker) so that the fakes and a "live" (mainnet) Bybit environment
routed to the simulator are in every process's environment: nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.fakes.cryptopay import FakeCryptoPay
from billing.fakes.yookassa import FakeYooKassa
from tests.e2e.conftest import (
    ARTIFACTS,
    CONTROL_TOKEN,
    DIST,
    STACK_APPNAME,
    _build_frontend,
    _close_db_sessions,
    _db,
    _flush,
    _need_browser,
    _reference_rows_committed,
    new_email,
    outbox_code,
)
from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db]  # the stack commits; flushed at module end
PASSWORD = "Grid-Trader-2026!"
SHOP, SECRET, TOKEN = "100500", "test_setka_fake_secret", "1234:AAsetkaFakeCryptoPayToken"


@pytest.fixture(scope="module")
def fakes():
    yoo = FakeYooKassa(shop_id=SHOP, secret_key=SECRET).start()
    crypto = FakeCryptoPay(token=TOKEN).start()
    yield yoo, crypto
    yoo.stop()
    crypto.stop()


@pytest.fixture(scope="module")
def e2e_stack(django_db_setup, django_db_blocker, fakes):
    _need_browser()
    _build_frontend()
    _reference_rows_committed(django_db_blocker)
    from django.db import connection

    yoo, crypto = fakes
    db = connection.settings_dict  # the test database (pytest-django renamed it)
    env = {
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"),
        "SETKA_SIMULATOR_CONTROL_TOKEN": CONTROL_TOKEN,
        "SETKA_FRONTEND_DIST": str(DIST),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "PGAPPNAME": STACK_APPNAME,
        "SETKA_REGISTRATION_MODE": "open",
        "SETKA_YOOKASSA_API_URL": f"{yoo.url}/v3",
        "SETKA_CRYPTOPAY_API_URL": f"{crypto.url}/api",
    }
    log_dir = ARTIFACTS / "e2e-billing-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    stack = Stack(env=env, log_dir=log_dir)
    stack.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    try:
        sim = stack.start("simulator", state="", replay="")
        stack.env["SETKA_SIMULATOR_URL"] = sim.url
        ws = sim.url.replace("http://", "ws://")
        stack.env["SETKA_BYBIT_ENDPOINTS_JSON"] = json.dumps({"mainnet": [sim.url, ws]})
        web = stack.start("web", timeout=90)
        stack.start("worker", concurrency=2, timeout=90)
        yoo.webhook_url = f"{web.url}/api/billing/webhooks/yookassa/"
        crypto.webhook_url = f"{web.url}/api/billing/webhooks/cryptopay/"
        from exchanges.simulator.control import SimulatorControl

        stack.control = SimulatorControl(sim.url, CONTROL_TOKEN)
        yield stack
    except Exception:
        print(stack.all_logs())
        raise
    finally:
        stack.stop_all()
        _close_db_sessions(db["NAME"], django_db_blocker)
        _flush(django_db_blocker)
        _close_db_sessions(db["NAME"], django_db_blocker)


def field(page, testid: str):
    loc = page.locator(f'[data-testid="{testid}"]')
    inner = loc.locator("input")
    return inner if inner.count() else loc


def _live_bots(django_db_blocker, email: str, control) -> tuple[int, int]:
    """A mainnet account (routed to the simulator) and two draft spot bots of 200 USDT each."""
    price = control.price("BTCUSDT")
    lower, upper = (price * Decimal("0.95")).quantize(Decimal(1)), (price * Decimal("1.05")).quantize(Decimal(1))
    sim_account = control.create_account(funding={"USDT": "5000"})

    def make():
        from accounts.models import User
        from exchanges.models import ExchangeAccount
        from tests.factories import BotFactory, ExchangeAccountFactory, grid_config

        user = User.objects.get(email=email)
        account = ExchangeAccountFactory(
            user=user,
            environment=ExchangeAccount.Environment.MAINNET,
            api_key=sim_account.api_key,
            api_secret=sim_account.api_secret,
            label="Bybit (live)",
        )
        config = grid_config(lower_price=str(lower), upper_price=str(upper), grid_count=6, investment="200")
        return tuple(
            BotFactory(
                user=user, exchange_account=account, name=f"Live {n}", config=config, investment=Decimal("200")
            ).pk
            for n in (1, 2)
        )

    return _db(django_db_blocker, make)


def _wait_quiet(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    return None


def _api_post(page, path: str):
    token = next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
    return page.request.post(path, headers={"X-CSRFToken": token})


def _wait(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


def test_pay_for_a_plan_and_run_a_second_live_bot(page, e2e_stack, fakes, django_db_blocker, shot):
    yoo, _ = fakes
    email = new_email()

    # --- open sign-up: no access code needed ------------------------------------------------------
    page.goto("/pricing")
    expect(page.get_by_role("heading", name="Тарифы")).to_be_visible()
    expect(page.get_by_test_id("plan-start")).to_contain_text("990")
    shot(page, "billing-01-pricing-anonymous")
    page.goto("/register")
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

    # --- on the free plan: one live bot runs, the second is refused with an upgrade path -----------
    first, second = _live_bots(django_db_blocker, email, e2e_stack.control)
    assert _api_post(page, f"/api/bots/{first}/start/").status == 202
    refused = _api_post(page, f"/api/bots/{second}/start/")
    assert refused.status == 402 and refused.json()["code"] == "plan_limit_live_bots"
    assert refused.json()["fields"]["upgrade_url"] == ["/pricing"]

    # --- choose a plan, pay on the fake YooKassa page, the callback arrives -------------------------
    page.goto("/pricing")
    expect(page.get_by_test_id("plan-free")).to_contain_text("Ваш тариф")
    page.get_by_test_id("choose-start").click()
    page.wait_for_url(re.compile(re.escape(yoo.url) + r"/checkout/"))
    expect(page.get_by_test_id("fake-amount")).to_have_text("990.00 RUB")
    shot(page, "billing-02-provider-page")
    page.get_by_test_id("fake-pay").click()
    page.wait_for_url(re.compile(r"/billing\?payment="))
    expect(page.get_by_test_id("payment-succeeded")).to_be_visible()
    expect(page.get_by_test_id("current-plan")).to_have_text("Старт")
    expect(page.get_by_test_id("plan-status")).to_have_text("Активен")
    shot(page, "billing-03-plan-active")
    paid_id = page.url.split("payment=")[1]
    from_web = _db(
        django_db_blocker,
        lambda: __import__("billing.models", fromlist=["Payment"]).Payment.objects.get(pk=paid_id).provider_payment_id,
    )
    assert [(e, s) for e, obj, s in yoo.delivered if obj == from_web] == [("payment.succeeded", 200)]

    # --- the second live bot is allowed on the paid plan ---------------------------------------------
    assert _api_post(page, f"/api/bots/{second}/start/").status == 202

    def running_with_orders():
        from bots.models import Bot
        from trading.models import Order

        bot = Bot.objects.get(pk=second)
        return bot.status == "running" and Order.objects.filter(bot=bot, status="open").count() >= 2

    _wait(lambda: _db(django_db_blocker, running_with_orders), timeout=60)

    # --- expiry -> past due -> grace -> expired: the bot keeps its protective orders -----------------
    def advance(days):

        from accounts.models import User
        from billing import services
        from billing.models import Subscription

        user = User.objects.get(email=email)
        end = Subscription.objects.get(user=user).period_end
        return services.subscription_advance(user=user, now=end + timedelta(days=days)).status

    assert _db(django_db_blocker, lambda: advance(0)) == "past_due"
    assert _db(django_db_blocker, lambda: advance(1)) == "grace"
    page.goto("/billing")
    expect(page.get_by_test_id("plan-status")).to_have_text("Льготный период")

    def open_orders():
        from trading.models import Order

        return sorted(Order.objects.filter(bot_id=second, status="open").values_list("client_order_id", flat=True))

    before = _db(django_db_blocker, open_orders)
    assert _db(django_db_blocker, lambda: advance(8)) == "expired"
    page.goto("/billing")
    expect(page.get_by_test_id("held-bots")).to_be_visible()
    expect(page.get_by_test_id("current-plan")).to_have_text("Бесплатный")
    shot(page, "billing-04-expired-held")

    def state():
        from billing.models import CycleHold
        from bots.models import Bot

        bot = Bot.objects.get(pk=second)
        return bot.status, list(CycleHold.objects.filter(bot__user=bot.user).values_list("bot_id", flat=True))

    status, held = _db(django_db_blocker, state)
    assert status == "running" and held == [second]  # the newest live bot beyond the free plan
    assert set(before) <= set(_db(django_db_blocker, open_orders))  # nothing was cancelled

    # The price falls through a buy line: the counter SELL (closing what was bought) is placed;
    # when the price climbs back through it, no new BUY (a new cycle) follows.
    from bots.tasks import bot_tick_task
    from config.celery import app as _celery  # noqa: F401 - the broker of the stack

    def orders():
        from trading.models import Order

        return list(Order.objects.filter(bot_id=second).order_by("id").values("id", "side", "price", "status"))

    rows = _db(django_db_blocker, orders)
    mark = max(r["id"] for r in rows)
    top_buy = max(Decimal(r["price"]) for r in rows if r["side"] == "Buy" and r["status"] == "open")

    def tick_until(predicate, timeout=90):
        """Queue the bot's tick every few seconds (no beat in this stack) until predicate holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bot_tick_task.apply_async(args=[second])
            value = _wait_quiet(lambda: _db(django_db_blocker, predicate), 4)
            if value:
                return value
        raise AssertionError("the bot did not get there in time")

    e2e_stack.control.set_price("BTCUSDT", str(top_buy - 1))
    sell = tick_until(lambda: next((r for r in orders() if r["id"] > mark and r["side"] == "Sell"), None))
    e2e_stack.control.set_price("BTCUSDT", str(Decimal(sell["price"]) + 1))

    def sold():
        from trading.models import Order

        return Order.objects.get(pk=sell["id"]).status == "filled"

    tick_until(sold)
    from django.utils import timezone

    after_fill = timezone.now()

    def ticked_since():
        from bots.models import Bot

        return (Bot.objects.get(pk=second).last_tick_at or after_fill) > after_fill

    tick_until(ticked_since)  # a tick has run after the fill: it had its chance to place a new buy
    new_buys = [r for r in _db(django_db_blocker, orders) if r["id"] > mark and r["side"] == "Buy"]
    assert new_buys == []
    assert (
        _db(django_db_blocker, lambda: __import__("bots.models", fromlist=["Bot"]).Bot.objects.get(pk=second).status)
        == "running"
    )
    assert page.errors == []
