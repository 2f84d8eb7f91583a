"""A user's whole path in a real browser, on a phone and on a desktop:
register with an access code -> confirm the email with the e-mailed code -> sign in ->
create a paper account -> configure a grid bot on BTCUSDT and read its warnings -> launch it ->
see its orders -> the simulator's price moves and a fill arrives live -> stop it ->
find the trades in the history and download them as CSV.
Every page is screenshotted and checked with axe-core; the dashboard's JavaScript is weighed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, issue_access_code, js_transfer, new_email, outbox_code

# The marker makes pytest-django create the test database the stack runs on; the test itself writes
# through its own autocommit connections (conftest._db).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]  # rows the stack commits are flushed when the module ends (conftest)

PASSWORD = "Grid-Trader-2026!"
JS_BUDGET_KB = 300


def field(page, testid: str):
    """The <input> inside a Nuxt UI field marked with data-testid (the attribute lands on the input or its wrapper)."""
    loc = page.locator(f'[data-testid="{testid}"]')
    inner = loc.locator("input")
    return inner if inner.count() else loc


def check_a11y(page, name: str, found: dict):
    found[name] = axe_violations(page)


def test_user_journey(page, base_url, sim_control, base_price, django_db_blocker, shot, viewport, capsys):
    a11y: dict[str, list] = {}
    p0 = base_price
    sim_control.set_price("BTCUSDT", str(p0))  # each run starts from the same price (the stack is shared)
    thousands = f"{int(p0) // 1000}"
    email = new_email()
    code = issue_access_code(django_db_blocker)

    # --- register with an access code -----------------------------------------------------------
    page.goto("/register")
    expect(page.get_by_role("heading", name="Регистрация")).to_be_visible()
    field(page, "email").fill(email)
    field(page, "password").fill(PASSWORD)
    field(page, "access-code").fill(code)
    shot(page, "01-register")
    check_a11y(page, "register", a11y)
    page.get_by_test_id("submit").click()

    # --- confirm the email with the code from the outbox ------------------------------------------
    page.wait_for_url(re.compile(r"/verify-email"))
    expect(field(page, "email")).to_have_value(email)
    field(page, "code").fill(outbox_code(django_db_blocker, email))
    shot(page, "02-verify-email")
    check_a11y(page, "verify-email", a11y)
    page.get_by_test_id("submit").click()

    # --- sign in ------------------------------------------------------------------------------------
    page.wait_for_url(re.compile(r"/login"))
    expect(field(page, "email")).to_have_value(email)
    field(page, "password").fill(PASSWORD)
    shot(page, "03-login")
    check_a11y(page, "login", a11y)
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r"/dashboard"))
    expect(page.get_by_role("heading", name="Панель")).to_be_visible()

    # The dashboard's first load, weighed in a fresh tab of the same session.
    fresh = page.context.new_page()
    fresh.goto("/dashboard", wait_until="networkidle")
    expect(fresh.get_by_role("heading", name="Панель")).to_be_visible()
    kb, files = js_transfer(fresh)
    fresh.close()
    with capsys.disabled():
        print(f"\n[{viewport}] dashboard first load: {kb:.1f} KB of gzipped JavaScript in {len(files)} files "
              f"(budget {JS_BUDGET_KB} KB); largest: " + ", ".join(f"{n} {s:.1f}" for n, s in files[:6]))
    assert 0 < kb < JS_BUDGET_KB
    shot(page, "04-dashboard-empty")
    check_a11y(page, "dashboard", a11y)

    # --- a paper account, one click -------------------------------------------------------------------
    page.goto("/profile")
    page.get_by_test_id("create-paper").click()
    account = page.get_by_test_id("exchange-account").first
    expect(account).to_be_visible()
    expect(account).to_contain_text("10")  # funded with 10,000 USDT
    expect(account).to_contain_text("USDT")
    shot(page, "05-profile")
    check_a11y(page, "profile", a11y)

    # --- configure a grid bot and read the warnings ----------------------------------------------------
    page.goto("/bots/create")
    expect(page.get_by_test_id("last-price")).to_contain_text(thousands)
    field(page, "lower").fill(str(p0 - 1000))
    field(page, "upper").fill(str(p0 + 1000))
    # A grid so dense that fees eat each grid's profit: the report must warn.
    field(page, "grids").fill("150")
    field(page, "investment").fill("1000")
    expect(page.get_by_test_id("warning").first).to_be_visible(timeout=15_000)
    warnings = page.get_by_test_id("warning").all_inner_texts()
    assert warnings and all(w.strip() for w in warnings)
    shot(page, "06-create-warnings")
    check_a11y(page, "bots-create", a11y)

    # A sane grid: 10 intervals of 200 USDT around the price.
    with page.expect_response(lambda r: "/api/bots/preview/" in r.url and r.request.method == "POST") as preview:
        field(page, "grids").fill("10")
    assert preview.value.ok
    assert len(preview.value.json()["levels"]) == 11
    # the report of these settings (the page marks it stale from the first keystroke)
    expect(page.get_by_test_id("report-pending")).to_have_count(0, timeout=15_000)
    expect(page.get_by_test_id("profit-per-grid")).to_contain_text("%", timeout=15_000)
    expect(page.get_by_test_id("blocking")).to_have_count(0)
    expect(page.get_by_test_id("balance-check")).to_be_visible()
    launch = page.get_by_test_id("launch")
    expect(launch).to_be_disabled()  # not before the warnings are accepted
    page.get_by_role("checkbox", name=re.compile("принимаю риски")).click()
    expect(launch).to_be_enabled()
    shot(page, "07-create-ready")
    launch.click()

    # --- the bot runs and shows its orders --------------------------------------------------------------
    page.wait_for_url(re.compile(r"/bots/\d+$"))
    expect(page.get_by_test_id("bot-status")).to_have_attribute("data-status", "running", timeout=30_000)
    orders = page.get_by_test_id("active-orders").get_by_test_id("order-row")
    expect(orders.first).to_be_visible(timeout=30_000)
    assert orders.count() >= 5
    expect(page.get_by_test_id("live-online")).to_be_visible()
    shot(page, "08-bot-running")
    check_a11y(page, "bot-detail", a11y)

    # --- the price moves: a buy fills and arrives without a reload ---------------------------------------
    # Lines every 200 from p0-1000: the buy at p0-200 fills when the price drops to p0-300, and
    # its trade row appears without a reload (live event -> refetch).
    fill = int(p0) - 200
    fill_price = re.compile(rf"{fill // 1000}\s?{fill % 1000:03d}\.00")
    fill_row = page.locator('[data-testid="trade-table"] [data-testid="trade-row"]').filter(has_text=fill_price)
    expect(fill_row).to_have_count(0)
    sim_control.set_price("BTCUSDT", str(p0 - 300))
    expect(fill_row).to_have_count(1, timeout=30_000)
    expect(fill_row).to_contain_text("Покупка")
    shot(page, "09-bot-fill")

    # --- the dashboard shows it running, with its profit and a stop button at hand ----------------------------
    bot_url = page.url
    page.goto("/dashboard")
    card = page.get_by_test_id("bot-card").first
    expect(card.get_by_test_id("bot-status")).to_have_attribute("data-status", "running")
    expect(card.get_by_test_id("stop")).to_be_visible()
    expect(page.get_by_test_id("trade-row").first).to_be_visible()  # the fill among the latest trades
    shot(page, "10-dashboard-running")
    page.goto(bot_url)

    # --- stop it ---------------------------------------------------------------------------------------------
    page.get_by_test_id("stop").click()
    # The stop asks first and says what happens to the coins (a spot bot keeps them by default).
    expect(page.get_by_test_id("stop-consequence")).to_contain_text("останутся")
    page.get_by_test_id("confirm-stop").click()
    expect(page.get_by_test_id("bot-status")).to_have_attribute("data-status", re.compile("stopp"), timeout=30_000)
    expect(page.get_by_test_id("bot-status")).to_have_attribute("data-status", "stopped", timeout=30_000)
    shot(page, "11-bot-stopped")

    # --- the trade history and its CSV ------------------------------------------------------------------------
    page.goto("/trades")
    rows = page.locator('[data-testid="trade-row"]')
    expect(rows.first).to_be_visible()
    assert "BTCUSDT" in rows.first.inner_text()
    shot(page, "12-trades")
    check_a11y(page, "trades", a11y)
    with page.expect_download() as dl:
        page.get_by_test_id("export-csv").click()
    csv_text = open(dl.value.path(), encoding="utf-8").read()
    assert "BTCUSDT" in csv_text
    assert len([ln for ln in csv_text.splitlines() if ln.strip()]) >= 2  # header + at least the fill

    page.goto("/settings")
    expect(page.get_by_role("heading", name="Настройки")).to_be_visible()
    shot(page, "13-settings")
    check_a11y(page, "settings", a11y)

    with capsys.disabled():
        counts = {k: len(v) for k, v in a11y.items()}
        print(f"[{viewport}] axe serious/critical violations per page: {counts}")
        for name, found in a11y.items():
            for v in found:
                print(f"  {name}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}")
    bad = {k: v for k, v in a11y.items() if v}
    assert not bad, bad
    assert not page.errors, page.errors
