"""The bot lifecycle against the simulator (real adapter, real HTTP, PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.models import Bot, BotEvent
from bots.services import bot_start, bot_stop, bot_tick, stop_run_continue, stop_run_get
from tests.bots.conftest import assert_books_match_exchange, ledger_open_ids
from tests.bots.conftest import launched as launch
from tests.factories import BotFactory, grid_config
from trading.models import Order, Trade

pytestmark = pytest.mark.django_db


def test_start_places_initial_order_and_ladder_on_the_exchange(paper, sim):
    account, acc = paper
    bot = launch(account)
    initial = Order.objects.get(bot=bot, purpose="initial")
    assert initial.status == "filled"
    grid = Order.objects.filter(bot=bot, purpose="grid")
    assert grid.count() == 10 and all(o.status == "open" for o in grid)
    assert ledger_open_ids(sim, acc.uid) == sorted(grid.values_list("client_order_id", flat=True))
    assert_books_match_exchange(bot, sim, acc.uid)


def test_a_price_move_fills_a_level_and_the_next_tick_places_the_counter_order(paper, sim):
    account, acc = paper
    bot = launch(account)
    top_buy = Order.objects.filter(bot=bot, purpose="grid", side="Buy").order_by("-price").first()
    sim.control.set_price("BTCUSDT", top_buy.price - 10)
    bot_tick(bot_id=bot.pk)
    top_buy.refresh_from_db()
    assert top_buy.status == "filled"
    counter = Order.objects.get(bot=bot, purpose="grid", side="Sell", level=top_buy.level + 1)
    assert counter.status == "open" and counter.client_order_id in ledger_open_ids(sim, acc.uid)
    assert BotEvent.objects.filter(bot=bot, kind="filled").exists()
    # and back up: the sell completes a cycle, a buy goes back at the lower line
    sim.control.set_price("BTCUSDT", counter.price + 10)
    bot_tick(bot_id=bot.pk)
    counter.refresh_from_db()
    assert counter.status == "filled"
    assert Trade.objects.get(order=counter).realized_pnl > 0
    assert Order.objects.filter(bot=bot, side="Buy", level=top_buy.level, status="open").count() == 1
    assert_books_match_exchange(bot, sim, acc.uid)


@pytest.mark.parametrize("close_action", ["keep", "sell_base"])
def test_stop_cancels_every_order_then_applies_the_close_action(paper, sim, close_action):
    account, acc = paper
    bot = launch(account)
    bot_stop(bot=bot, user=account.user, reason="done", close_action=close_action)
    assert bot.status == Bot.Status.STOPPING
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED and bot.stopped_at
    assert ledger_open_ids(sim, acc.uid) == []
    kinds = list(BotEvent.objects.filter(bot=bot).order_by("id").values_list("kind", flat=True))
    assert kinds[-1] == "stopped" and {"started", "placed", "cancelled"} <= set(kinds)
    assert not Order.objects.filter(bot=bot, status__in=Order.OPEN_STATUSES).exists()
    balances = sim.control.ledger(acc.uid)["balances"]
    btc = Decimal(balances.get("BTC", "0"))
    if close_action == "sell_base":
        assert Order.objects.get(bot=bot, purpose="close").status == "filled"
        assert btc < Decimal("0.0001")  # dust only
    else:
        assert not Order.objects.filter(bot=bot, purpose="close").exists()
        assert btc > Decimal("0.001")
    assert_books_match_exchange(bot, sim, acc.uid)


def test_user_emergency_stop_cancels_at_once_even_while_a_tick_holds_the_lease(paper, sim):
    from bots.services import bot_emergency_stop, lease_acquire

    account, acc = paper
    bot = launch(account)
    assert lease_acquire(bot_id=bot.pk, owner="someone-else")  # a tick is "running"
    bot_emergency_stop(bot=bot, actor=account.user, reason="panic")
    assert ledger_open_ids(sim, acc.uid) == []  # cancelled on the exchange immediately
    Bot.objects.filter(pk=bot.pk).update(lease_owner="", lease_until=None)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED
    assert not Order.objects.filter(bot=bot, status__in=Order.OPEN_STATUSES).exists()


def test_admin_bulk_emergency_stop_of_any_users_bots(paper, sim, client):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    account, acc = paper
    bot = launch(account)
    operator = UserFactory(is_staff=True)
    operator.user_permissions.add(*Permission.objects.filter(codename__in=["stop_bot", "view_bot", "change_bot"]))
    client.force_login(operator)
    response = client.post("/admin/bots/bot/", {"action": "emergency_stop_selected", "_selected_action": [bot.pk]})
    assert response.status_code == 302
    assert ledger_open_ids(sim, acc.uid) != []  # the request only queued the run
    stop_run_continue(run_id=stop_run_get().id)  # what the worker does next
    assert ledger_open_ids(sim, acc.uid) == []
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED and "operator" in bot.stop_reason


def test_operators_stop_all_switch_stops_bots_and_refuses_starts(paper, sim):
    from bots.services import bots_stop_all, trading_resume
    from config.errors import DomainError
    from tests.factories import UserFactory

    account, acc = paper
    bot = launch(account)
    operator = UserFactory(is_superuser=True, is_staff=True)
    assert bots_stop_all(actor=operator, reason="exchange incident") == 1
    assert ledger_open_ids(sim, acc.uid) != []  # answered at once: the worker stops the bots
    with pytest.raises(DomainError):  # but nothing starts from now on
        bot_start(bot=Bot.objects.get(pk=bot.pk))
    run = stop_run_continue(run_id=stop_run_get().id)
    assert run.marked == 1 and run.orders_cancelled > 0 and run.failures == 0
    assert ledger_open_ids(sim, acc.uid) == []
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED
    with pytest.raises(DomainError) as err:
        bot_start(bot=bot)
    assert err.value.code == "trading_halted"
    trading_resume(actor=operator)
    bot_start(bot=bot)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STARTING and bot.generation == 2


def test_user_without_trading_access_cannot_start(paper):
    from django.utils import timezone

    from config.errors import DomainError

    account, _ = paper
    bot = BotFactory(user=account.user, exchange_account=account)
    account.user.access_revoked_at = timezone.now()
    account.user.save()
    with pytest.raises(DomainError) as err:
        bot_start(bot=bot)
    assert err.value.code == "no_access"
    bot.refresh_from_db()
    assert bot.status == Bot.Status.DRAFT


def test_take_profit_price_stops_the_bot_and_leaves_no_order(paper, sim):
    account, acc = paper
    bot = launch(account, take_profit_price="58500", on_stop="sell_base")
    sim.control.set_price("BTCUSDT", "58600")
    bot_tick(bot_id=bot.pk)  # fills sells on the way up, sees the target, stops
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED, list(bot.events.values_list("message", flat=True))
    assert BotEvent.objects.filter(bot=bot, kind="target_hit").exists()
    assert ledger_open_ids(sim, acc.uid) == []
    assert_books_match_exchange(bot, sim, acc.uid)


def test_trigger_price_waits_then_launches_when_the_price_crosses_it(paper, sim):
    account, acc = paper
    bot = BotFactory(user=account.user, exchange_account=account, config=grid_config(trigger_price="54500"))
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STARTING and bot.awaiting_trigger
    assert ledger_open_ids(sim, acc.uid) == [] and not Order.objects.filter(bot=bot).exists()
    assert BotEvent.objects.filter(bot=bot, message__contains="Waiting for the price").count() == 1
    sim.control.set_price("BTCUSDT", "54400")  # crossed 54,500 since the last look
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING
    assert len(ledger_open_ids(sim, acc.uid)) == 10


def test_admin_switch_halts_trading_and_stops_every_bot(paper, sim, client):
    from bots.models import TradingSwitch
    from tests.factories import UserFactory

    account, acc = paper
    bot = launch(account)
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    page = client.get("/admin/bots/tradingswitch/")
    assert b"Trading is ON" in page.content  # one control that shows the state
    response = client.post("/admin/bots/tradingswitch/", {"reason": "exchange maintenance"})
    assert response.status_code == 200 and not TradingSwitch.objects.filter(halted=True).exists()  # not confirmed
    response = client.post("/admin/bots/tradingswitch/", {"reason": "exchange maintenance", "confirm": "on"})
    assert response.status_code == 302, response.content[:500]
    assert TradingSwitch.objects.get().halted
    page = client.get("/admin/bots/tradingswitch/").content.decode()
    assert "Trading is HALTED" in page and str(operator) in page and "exchange maintenance" in page
    assert "Resume trading" in page
    # the progress of the run the switch queued: nothing stopped yet, then the worker's part
    assert '<td data-testid="stop-run-total">1</td>' in page and '<td data-testid="stop-run-stopped">0</td>' in page
    stop_run_continue(run_id=stop_run_get().id)
    assert ledger_open_ids(sim, acc.uid) == []
    page = client.get("/admin/bots/tradingswitch/").content.decode()
    assert (
        '<td data-testid="stop-run-cancelled">10</td>' in page and '<td data-testid="stop-run-failures">0</td>' in page
    )
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED and bot.stop_reason == "exchange maintenance"
    final = client.get("/admin/bots/tradingswitch/").content.decode()
    assert '<td data-testid="stop-run-stopped">1</td>' in final
    # a plain staff user without the permission cannot flip it
    clerk = UserFactory(is_staff=True)
    client.force_login(clerk)
    assert client.post("/admin/bots/tradingswitch/", {"confirm": "on"}).status_code == 403
    assert TradingSwitch.objects.get().halted
    # the operator resumes with the same control
    client.force_login(operator)
    assert client.post("/admin/bots/tradingswitch/", {"confirm": "on"}).status_code == 302
    assert not TradingSwitch.objects.get().halted
    assert b"Trading is ON" in client.get("/admin/bots/tradingswitch/").content


def test_admin_pages_show_bots_orders_trades_and_events_read_only(paper, sim, client):
    from tests.factories import UserFactory

    account, _ = paper
    bot = launch(account)
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    page = client.get(f"/admin/bots/bot/{bot.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    initial = Order.objects.get(bot=bot, purpose="initial")
    assert initial.client_order_id in body and "Started at" in body
    assert client.get("/admin/bots/bot/?status__exact=running").status_code == 200
    assert client.get("/admin/trading/order/").status_code == 200
    trade = Trade.objects.filter(bot=bot).first()
    assert client.get(f"/admin/trading/trade/{trade.pk}/change/").status_code == 200
    assert client.get("/admin/trading/trade/add/").status_code == 403  # trades come from the exchange only
    assert client.get("/admin/bots/botevent/").status_code == 200


def test_partial_fills_are_stored_and_countered_as_they_come(paper, sim):
    account, acc = paper
    # lines off the other tests' (the simulator's book is shared: older orders at a price fill first)
    bot = launch(account, lower_price="50050", upper_price="60050")
    top_buy = Order.objects.filter(bot=bot, purpose="grid", side="Buy").order_by("-price").first()
    part = (top_buy.qty * Decimal("0.6")).quantize(Decimal("0.000001"))
    sim.control.set_price("BTCUSDT", top_buy.price - 10, volume=part)  # only 60% trades at the level
    bot_tick(bot_id=bot.pk)
    top_buy.refresh_from_db()
    assert top_buy.status == "partially_filled" and top_buy.filled_qty == part
    first = Order.objects.get(bot=bot, side="Sell", level=top_buy.level + 1)
    assert first.status == "open" and first.qty <= part
    sim.control.set_price("BTCUSDT", top_buy.price - 20, volume=top_buy.qty)  # the rest
    bot_tick(bot_id=bot.pk)
    top_buy.refresh_from_db()
    assert top_buy.status == "filled"
    sells = Order.objects.filter(bot=bot, side="Sell", level=top_buy.level + 1)
    assert sells.count() == 2
    assert top_buy.qty * Decimal("0.99") < sum(o.qty for o in sells) <= top_buy.qty
    assert Trade.objects.filter(order=top_buy).count() == 2
    assert_books_match_exchange(bot, sim, acc.uid)
