"""The bots page and what hangs off it, in a real browser on a phone and a desktop (issue 9):
stopped bots stay visible (the dashboard no longer says "no bots yet"), filters, clone into a
prefilled form, a restart that shows a fresh report and needs a confirmation (the API refuses it
without), stop dialogs that say what happens to the coins, and the futures panel of a running
linear bot on the simulator, with its liquidation price from the exchange's position stream."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _db, axe_violations, login, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]  # rows the stack commits are flushed when the module ends


API = """async ([method, path, body]) => {
  const read = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1]
  if (!read()) await fetch('/api/auth/csrf/', { credentials: 'include' })
  const r = await fetch(path, { method, credentials: 'include',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': read() || '' },
    body: method === 'GET' ? undefined : JSON.stringify(body || {}) })
  let json = null
  try { json = await r.json() } catch (e) {}
  return { status: r.status, body: json }
}"""


def api(page, method: str, path: str, body: dict | None = None) -> dict:
    """A call of the app's API from the signed-in page (its cookies and CSRF token)."""
    return page.evaluate(API, [method, path, body])


def field(page, testid: str):
    loc = page.locator(f'[data-testid="{testid}"]')
    inner = loc.locator("input")
    return inner if inner.count() else loc


def signed_in_with_paper_account(page, django_db_blocker, *, language: str = "ru") -> int:
    email, password = make_user(django_db_blocker)
    if language != "ru":
        from accounts.models import User

        _db(django_db_blocker, lambda: User.objects.filter(email=email).update(language=language))
    login(page, email, password)
    page.wait_for_url(lambda url: urlparse(url).path == "/dashboard")  # login() also accepts /login?next=/dashboard
    created = api(page, "POST", "/api/exchange-accounts/paper/", {})
    assert created["status"] == 201, created
    return created["body"]["id"]


def spot_config(p0, **extra) -> dict:
    return {
        "strategy": "spot_grid",
        "lower_price": str(p0 - 1000),
        "upper_price": str(p0 + 1000),
        "grid_count": 10,
        "spacing": "arithmetic",
        "investment": "1000",
        "on_stop": "keep",
        **extra,
    }


def create_bot(page, account: int, *, name: str, symbol: str = "BTCUSDT", category: str = "spot", config: dict) -> dict:
    created = api(
        page,
        "POST",
        "/api/bots/",
        {
            "name": name,
            "exchange_account": account,
            "symbol": symbol,
            "category": category,
            "config": config,
            "accept_warnings": True,
        },
    )
    assert created["status"] == 201, created
    return created["body"]


def mark_stopped(django_db_blocker, bot_id: int) -> None:
    """A bot the user stopped earlier (its history is what the page must keep showing)."""
    from datetime import timedelta

    from django.utils import timezone

    from bots.models import Bot

    now = timezone.now()
    _db(
        django_db_blocker,
        lambda: Bot.objects.filter(pk=bot_id).update(
            status="stopped", started_at=now - timedelta(hours=3), stopped_at=now, stop_reason="Stopped by the user"
        ),
    )


def test_bots_page_history_filters_and_clone(page, base_price, django_db_blocker, shot):
    account = signed_in_with_paper_account(page, django_db_blocker)
    p0 = int(base_price)
    stopped = create_bot(page, account, name="Old grid", config=spot_config(p0, take_profit_price=str(p0 + 3000)))
    mark_stopped(django_db_blocker, stopped["id"])
    draft = create_bot(page, account, name="Draft grid", config=spot_config(p0, grid_count=8))

    # The dashboard lists active bots only, but never tells this user they have none.
    page.goto("/dashboard")
    expect(page.get_by_test_id("no-active-bots")).to_be_visible()
    expect(page.get_by_test_id("no-bots")).to_have_count(0)
    expect(page.get_by_test_id("all-bots")).to_contain_text("2")
    shot(page, "bots-01-dashboard-no-active")
    page.get_by_test_id("all-bots").click()

    # The bots page: the stopped bot with its reason, and the draft.
    page.wait_for_url(re.compile(r"/bots$"))
    rows = page.get_by_test_id("bot-row")
    expect(rows).to_have_count(2)
    old = rows.filter(has_text="Old grid")
    expect(old).to_have_attribute("data-status", "stopped")
    expect(old).to_contain_text("Stopped by the user")
    expect(old.get_by_test_id("restart")).to_be_visible()
    shot(page, "bots-02-list")
    assert axe_violations(page) == []

    # Filter by status (the select), then by pair (typed); the URL keeps the filters.
    page.get_by_test_id("filter-status").click()
    page.get_by_role("option", name="Остановлены").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Old grid")
    expect(page).to_have_url(re.compile(r"status=stopped"))
    field(page, "filter-symbol").fill("ETHUSDT")
    expect(page.get_by_test_id("bots-empty")).to_be_visible()
    field(page, "filter-symbol").fill("")
    expect(rows).to_have_count(1)
    page.goto("/bots")
    expect(rows).to_have_count(2)
    assert {r.get_attribute("data-id") for r in rows.all()} == {str(stopped["id"]), str(draft["id"])}

    # Clone: the create form opens with the stopped bot's market and settings, and a fresh report.
    rows.filter(has_text="Old grid").get_by_test_id("clone").click()
    page.wait_for_url(re.compile(rf"/bots/create\?clone={stopped['id']}"))
    expect(page.get_by_test_id("clone-note")).to_contain_text("Old grid")
    expect(field(page, "lower")).to_have_value(str(p0 - 1000))
    expect(field(page, "upper")).to_have_value(str(p0 + 1000))
    expect(field(page, "name")).to_have_value("Old grid (копия)")
    expect(page.get_by_test_id("profit-per-grid")).to_contain_text("%", timeout=15_000)
    expect(page.get_by_test_id("timeframes")).to_be_visible()
    shot(page, "bots-03-clone")
    assert not page.errors, page.errors


def test_restart_shows_a_fresh_report_and_needs_confirmation(page, base_price, sim_control, django_db_blocker, shot):
    account = signed_in_with_paper_account(page, django_db_blocker)
    p0 = int(base_price)
    sim_control.set_price("BTCUSDT", str(p0))
    bot = create_bot(page, account, name="Restart me", config=spot_config(p0))
    mark_stopped(django_db_blocker, bot["id"])

    # The server insists on the confirmation, whatever the page does.
    assert api(page, "POST", f"/api/bots/{bot['id']}/start/")["body"]["code"] == "restart_needs_confirmation"
    refused = api(page, "POST", f"/api/bots/{bot['id']}/restart/", {})
    assert refused["status"] == 400 and refused["body"]["code"] == "restart_not_confirmed"

    # The price moved since the first launch: the dialog's report is built at the new one.
    moved = p0 + 300
    sim_control.set_price("BTCUSDT", str(moved))
    page.goto(f"/bots/{bot['id']}")
    expect(page.get_by_test_id("bot-status")).to_have_attribute("data-status", "stopped")
    expect(page.get_by_test_id("start")).to_have_count(0)  # no one-tap start for a stopped bot
    page.get_by_test_id("restart").click()
    dialog = page.get_by_test_id("restart-dialog")
    expect(dialog.get_by_test_id("report")).to_be_visible(timeout=15_000)
    expect(dialog.get_by_test_id("restart-price")).to_contain_text(re.compile(rf"{moved // 1000}\s?{moved % 1000:03d}"))
    confirm = page.get_by_test_id("confirm-restart")
    expect(confirm).to_be_disabled()
    shot(page, "bots-04-restart-dialog")
    dialog.get_by_test_id("restart-accept").click()
    expect(confirm).to_be_enabled()
    assert axe_violations(page) == []  # the dialog too
    confirm.click()
    expect(page.get_by_test_id("bot-status")).to_have_attribute("data-status", "running", timeout=30_000)

    # The dashboard's stop button asks too (and stopping nothing when the user backs out).
    bot_url = page.url
    page.goto("/dashboard")
    card = page.get_by_test_id("bot-card").filter(has_text="Restart me")
    card.get_by_test_id("stop").click()
    expect(page.get_by_test_id("stop-dialog")).to_be_visible()
    expect(page.get_by_test_id("stop-consequence")).to_contain_text("останутся на вашем счёте")
    page.get_by_test_id("stop-cancel").click()
    expect(card.get_by_test_id("bot-status")).to_have_attribute("data-status", "running")
    page.goto(bot_url)

    # The stop asks first and says the coins stay (spot, keep); nothing is said about closing at market.
    page.get_by_test_id("emergency-stop").click()
    consequence = page.get_by_test_id("stop-consequence")
    expect(consequence).to_contain_text("останутся на вашем счёте")
    expect(consequence).not_to_contain_text("по рынку")
    page.get_by_test_id("stop-cancel").click()
    page.get_by_test_id("stop").click()
    page.get_by_role("radio", name="Продать монеты по рынку").click()
    expect(consequence).to_contain_text("проданы по рынку")
    shot(page, "bots-05-stop-dialog")
    page.get_by_role("radio", name="Оставить монеты на счёте").click()
    page.get_by_test_id("confirm-stop").click()
    expect(page.get_by_test_id("bot-status")).to_have_attribute("data-status", "stopped", timeout=30_000)
    assert not page.errors, page.errors


def test_futures_panel_of_a_running_linear_bot(page, base_price, sim_control, django_db_blocker, shot, viewport):
    # English on the desktop run, Russian (the default) on the phone.
    en = viewport == "desktop"
    account = signed_in_with_paper_account(page, django_db_blocker, language="en" if en else "ru")
    p0 = int(base_price)
    sim_control.set_price("BTCUSDT", str(p0))
    config = {
        "strategy": "linear_grid",
        "lower_price": str(p0 - 2000),
        "upper_price": str(p0 + 2000),
        "grid_count": 8,
        "spacing": "arithmetic",
        "investment": "1000",
        "direction": "long",
        "leverage": "3",
        "on_stop": "close_position",
        "stop_loss_price": str(p0 - 3000),
    }
    bot = create_bot(page, account, name="Perp long", category="linear", config=config)
    assert api(page, "POST", f"/api/bots/{bot['id']}/start/")["status"] == 202
    try:
        page.goto(f"/bots/{bot['id']}")
        expect(page.get_by_test_id("bot-status")).to_have_attribute("data-status", "running", timeout=30_000)
        panel = page.get_by_test_id("futures-panel")
        expect(panel).to_be_visible()
        expect(panel.get_by_test_id("pos-direction")).to_have_text("Long" if en else "Лонг")
        expect(panel.get_by_test_id("pos-leverage")).to_have_text("3×")
        # The long grid's initial buy opens the position; the exchange's position message brings
        # the liquidation price (no page reload: the live event updates the panel).
        expect(panel.get_by_test_id("pos-size")).to_contain_text(
            re.compile(r"(Long|Лонг) 0[.,]\d+ BTC"), timeout=30_000
        )
        expect(panel.get_by_test_id("pos-liq")).to_have_text(re.compile(r"\d"), timeout=30_000)
        expect(panel.get_by_test_id("pos-entry")).to_have_text(re.compile(r"\d"))
        expect(panel.get_by_test_id("pos-source")).to_contain_text("Exchange data" if en else "Данные биржи")
        liq = float(re.sub(r"[^\d.]", "", panel.get_by_test_id("pos-liq").inner_text().replace(",", ".")))
        assert 0 < liq < p0  # a long liquidates below the price
        # Minutes after launch there is no annualised figure, only a dash and when it comes.
        expect(page.get_by_test_id("bot-total-apr")).to_have_text("—")
        expect(page.get_by_test_id("timeframes")).to_be_visible()
        # History, not a few candles: the 1h timeframe loads hundreds of hourly candles.
        with page.expect_response(lambda r: "/api/market/klines/" in r.url and "interval=60" in r.url) as kl:
            page.get_by_test_id("timeframes").locator('[data-tf="1h"]').click()
        assert kl.value.ok and len(kl.value.json()) >= 150, len(kl.value.json())
        expect(page.get_by_test_id("timeframes").locator('[data-tf="1h"]')).to_have_attribute("aria-pressed", "true")
        shot(page, "bots-06-futures-panel")
        assert axe_violations(page) == []

        # The stop dialog of a futures bot speaks of the position, not of coins.
        page.get_by_test_id("stop").click()
        expect(page.get_by_test_id("stop-consequence")).to_contain_text(
            "position is closed with a market order" if en else "позиция будет закрыта"
        )
        page.get_by_test_id("confirm-stop").click()
        expect(page.get_by_test_id("bot-status")).to_have_attribute("data-status", "stopped", timeout=30_000)
        expect(page.get_by_test_id("pos-size")).to_have_text("No position" if en else "Нет позиции", timeout=30_000)
    finally:
        api(page, "POST", f"/api/bots/{bot['id']}/emergency-stop/", {})
    assert not page.errors, page.errors


def test_bot_page_draws_equity_and_drawdown_from_its_snapshots(page, base_price, django_db_blocker):
    account = signed_in_with_paper_account(page, django_db_blocker, language="en")
    bot = create_bot(page, account, name="Equity grid", config=spot_config(int(base_price)))

    def snapshots():
        from datetime import timedelta
        from decimal import Decimal as D

        from django.utils import timezone

        from metrics.models import MetricSnapshot

        now = timezone.now()
        for i, equity in enumerate(("1000", "1030", "990", "1010")):
            MetricSnapshot.objects.create(
                bot_id=bot["id"], taken_at=now - timedelta(minutes=10 - i), price=D(base_price), equity=D(equity),
                grid_profit=D("0"), total_pnl=D(equity) - D("1000"),
            )

    _db(django_db_blocker, snapshots)
    page.goto(f"/bots/{bot['id']}")
    chart = page.get_by_test_id("bot-equity")
    expect(chart).to_be_visible(timeout=15000)
    expect(page.get_by_text("Equity and drawdown")).to_be_visible()
    equity, drawdown = chart.locator("polyline").nth(0), chart.locator("polyline").nth(1)
    # four points each; the drawdown line dips at the third snapshot (990 after a 1030 peak)
    expect(equity).to_have_attribute("points", re.compile(r"^(\S+,\S+ ){3}\S+,\S+$"))
    expect(drawdown).to_have_attribute("points", re.compile(r"^(\S+,\S+ ){3}\S+,\S+$"))
