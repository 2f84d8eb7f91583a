"""In a real browser, on a phone and on a desktop: a user opens a paper account on OKX (its twin
in the stack), sees it marked OKX, configures a grid on it and runs it; the orders land on the
OKX twin with client ids OKX accepts, and the stop cancels them there."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, login, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def field(page, testid: str):
    loc = page.locator(f'[data-testid="{testid}"]')
    inner = loc.locator("input")
    return inner if inner.count() else loc


def test_a_user_runs_a_grid_on_an_okx_paper_account(page, e2e_stack, base_price, django_db_blocker, shot):
    okx = e2e_stack.okx_control
    okx.set_price("BTCUSDT", str(base_price))
    email, password = make_user(django_db_blocker)
    login(page, email, password, next_path="/profile")

    # --- the exchange picker offers what the registry offers; OKX paper in one click -----------
    page.get_by_test_id("paper-exchange").click()
    options = page.get_by_role("option")
    expect(options).to_have_count(5)
    assert {o.strip() for o in options.all_inner_texts()} == {"Bybit", "OKX", "Binance", "MEXC", "KuCoin"}
    page.get_by_role("option", name="OKX").click()
    page.get_by_test_id("create-paper").click()
    account = page.get_by_test_id("exchange-account").first
    expect(account).to_contain_text("Paper OKX")
    expect(account.get_by_test_id("account-exchange")).to_have_text("OKX")
    expect(account).to_contain_text("USDT")
    shot(page, "okx-01-profile")
    assert axe_violations(page) == []

    # --- a grid on it, around the twin's price ------------------------------------------------
    p0 = int(base_price)
    page.goto("/bots/create")
    expect(page.get_by_test_id("last-price")).to_contain_text(re.compile(r"\d"))
    field(page, "lower").fill(str(p0 - 1000))
    field(page, "upper").fill(str(p0 + 1000))
    field(page, "grids").fill("10")
    field(page, "investment").fill("1000")
    # the report of these settings (the page marks it stale from the first keystroke)
    expect(page.get_by_test_id("report-pending")).to_have_count(0, timeout=15_000)
    expect(page.get_by_test_id("profit-per-grid")).to_contain_text("%", timeout=15_000)
    expect(page.get_by_test_id("blocking")).to_have_count(0)
    shot(page, "okx-02-create")
    # Accept the risks of the report on screen. A report refreshed with other warnings (the
    # new paper account's balance arriving, for one) asks again, as it should: accept again.
    accept = page.get_by_role("checkbox", name=re.compile("принимаю риски"))
    launch = page.get_by_test_id("launch")
    for attempt in range(3):
        if not accept.is_checked():
            accept.click()
        try:
            expect(launch).to_be_enabled(timeout=5_000)
            launch.click(timeout=5_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise

    page.wait_for_url(re.compile(r"/bots/\d+$"))
    expect(page.get_by_test_id("bot-status")).to_have_attribute("data-status", "running", timeout=30_000)
    orders = page.get_by_test_id("active-orders").get_by_test_id("order-row")
    expect(orders.first).to_be_visible(timeout=30_000)
    assert orders.count() >= 5
    shot(page, "okx-03-running")

    # the orders are on the OKX twin, under ids OKX accepts (up to 32 letters and digits)
    bot_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    uid = _twin_account_of(okx, bot_id)
    # (the page lists an order from the moment it is written, before the twin has it: wait)
    deadline = time.monotonic() + 30
    while len(open_ids := [o["orderLinkId"] for o in okx.ledger(uid)["open_orders"]]) < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(open_ids) >= 5 and all(re.fullmatch(r"[A-Za-z0-9]{1,32}", i) for i in open_ids)

    page.get_by_test_id("stop").click()
    page.get_by_test_id("confirm-stop").click()  # the stop dialog says what happens, then stops
    expect(page.get_by_test_id("bot-status")).to_have_attribute("data-status", "stopped", timeout=30_000)
    assert okx.ledger(uid)["open_orders"] == []


def _twin_account_of(okx, bot_id: int) -> int:
    """The twin account holding the bot's orders (its ids start with sk<bot>g)."""
    for uid in range(100001, 100001 + int(okx.status()["accounts"])):
        if any(o["orderLinkId"].startswith(f"sk{bot_id}g") for o in okx.ledger(uid)["open_orders"]):
            return uid
    raise AssertionError(f"no twin account holds the orders of bot {bot_id}")
