"""Profit across crashes and runs, and the grid state's snapshot: a crash between writing the
plan and sending it changes nothing a user sees; take profit fires on the bot page's figure,
which counts every run of the bot; a run without a snapshot is rebuilt to the same state."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction

import bots.services.common as common
import bots.services.place as place_module
from bots.engine.state import GridState
from bots.models import Bot, BotEvent, GridSnapshot
from bots.services import bot_start, bot_stop, bot_tick, bots_restart_due
from bots.services.grid_state import StaleGridState, grid_state_load, grid_state_save, grid_state_sync
from metrics.models import BotMetrics
from metrics.selectors import metrics_figures
from metrics.services import metrics_recompute, metrics_total_pnl
from tests.factories import BotFactory, grid_config
from tests.trading.fake_exchange import FakeExchange
from trading.models import Order, Trade

pytestmark = pytest.mark.django_db

PATH = ["53500", "56500", "52500", "57500", "51000", "58000", "54000", "56200", "53100"]
FIGURES = ("grid_profit", "realized_pnl", "fees_quote", "base_position", "cost_basis", "trade_count", "cycle_count")


@pytest.fixture
def exchanges(monkeypatch):
    """One fake exchange per account (execution ids kept apart), so two bots can see the same
    market without sharing a wallet."""
    fakes: dict[int, FakeExchange] = {}
    monkeypatch.setattr(common, "client_for_account", lambda account: fakes[account.pk])

    def new_bot(**config) -> tuple[Bot, FakeExchange]:
        bot = BotFactory(config=grid_config(**config))
        fake = FakeExchange()
        fake._ids = itertools.count(1 + 1_000_000 * len(fakes))
        fakes[bot.exchange_account_id] = fake
        bot_start(bot=bot)
        assert bot_tick(bot_id=bot.pk).ran
        bot.refresh_from_db()
        assert bot.status == Bot.Status.RUNNING, bot.last_error
        return bot, fake

    return new_bot


def figures(bot) -> dict:
    row = BotMetrics.objects.get(bot=bot)
    return {name: getattr(row, name) for name in FIGURES}


def test_a_crash_between_writing_the_plan_and_sending_it_changes_no_figure(exchanges, monkeypatch):
    calm, calm_ex = exchanges()
    crashed, crashed_ex = exchanges()
    real_send = place_module.orders_send_pending
    for step, price in enumerate(PATH):
        for bot, fake in ((calm, calm_ex), (crashed, crashed_ex)):
            fake.set_price(price)
            if bot is crashed and step in (1, 4):
                # The process dies after the plan and its state committed, before any send.
                def die(**kwargs):
                    raise RuntimeError("worker killed")

                monkeypatch.setattr(place_module, "orders_send_pending", die)
                bot_tick(bot_id=bot.pk)
                monkeypatch.setattr(place_module, "orders_send_pending", real_send)
                bot.refresh_from_db()
                assert bot.status == Bot.Status.ERROR
                assert Order.objects.filter(bot=bot, status=Order.Status.PENDING).exists()
                assert bots_restart_due(now=bot.next_restart_at + timedelta(seconds=1)) == 1
            bot_tick(bot_id=bot.pk)
    for bot in (calm, crashed):
        bot_tick(bot_id=bot.pk)
        bot.refresh_from_db()
        assert bot.status == Bot.Status.RUNNING, bot.last_error
    # Same fills, same figures, to the last unit; no order sent twice, none left pending.
    assert crashed_ex.placed_ids == [cid.replace(f"sk{calm.pk}g", f"sk{crashed.pk}g", 1) for cid in calm_ex.placed_ids]
    assert len(set(crashed_ex.placed_ids)) == len(crashed_ex.placed_ids)
    assert not Order.objects.filter(bot=crashed, status=Order.Status.PENDING).exists()
    assert figures(crashed) == figures(calm)
    assert figures(calm)["cycle_count"] >= 3
    price = Decimal(PATH[-1])
    assert metrics_total_pnl(bot=crashed, price=price) == metrics_total_pnl(bot=calm, price=price)
    # and the incremental figures equal a recomputation from every stored fill
    truth = metrics_recompute(bot=crashed)
    assert {k: truth[k] for k in FIGURES} == figures(crashed)


def test_take_profit_counts_every_run_of_the_bot(exchanges):
    bot, fake = exchanges()
    for price in ["53900", "55100"] * 4 + ["55000"]:  # run 1: buy 54k -> sell 55k, four times
        fake.set_price(price)
        bot_tick(bot_id=bot.pk)
    assert BotMetrics.objects.get(bot=bot).cycle_count >= 3
    bot_stop(bot=bot, close_action="keep")
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED
    first_run = metrics_total_pnl(bot=bot, price=Decimal("55000"))
    assert first_run > Decimal("2"), first_run
    # Run 2 aims a little above what run 1 already made: only the sum of both runs reaches it.
    target = first_run + Decimal("0.5")
    bot.config = {**bot.config, "take_profit_pnl": str(target)}
    bot.save(update_fields=["config"])
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING and bot.generation == 2
    for price in ["53900", "55100"] * 3:
        fake.set_price(price)
        bot_tick(bot_id=bot.pk)
        bot.refresh_from_db()
        if bot.status != Bot.Status.RUNNING:
            break
    assert bot.status in (Bot.Status.STOPPING, Bot.Status.STOPPED), "take profit never fired"
    hit = BotEvent.objects.get(bot=bot, kind="target_hit")
    shown = metrics_figures(bot=bot, metrics=BotMetrics.objects.get(bot=bot), with_24h=False)
    fired_at = Decimal(hit.data["total_pnl"])
    assert fired_at >= target and "Take profit" in hit.message
    # The figure it fired on is the bot page's total (at that price), and run 2 alone is short of it.
    assert fired_at == metrics_total_pnl(bot=bot, price=Decimal(hit.data["price"]))
    assert shown["total_pnl"] == fired_at
    state, _ = grid_state_load(bot=bot, levels=())
    grid_state_sync(bot=bot, state=state)
    second_run_only = state.cash + state.base * Decimal(hit.data["price"])
    assert second_run_only < target


def test_a_run_without_a_snapshot_is_rebuilt_to_the_same_state(exchanges):
    bot, fake = exchanges()
    for price in ["54500", "55600", "53400"]:
        fake.set_price(price)
        bot_tick(bot_id=bot.pk)
    fake.fill_partial(
        Order.objects.filter(bot=bot, status="open", side="Buy").order_by("-price").first().client_order_id, "0.0005"
    )
    bot_tick(bot_id=bot.pk)
    kept = GridSnapshot.objects.get(bot=bot).data
    orders = Order.objects.filter(bot=bot).count()
    GridSnapshot.objects.filter(bot=bot).delete()  # a bot that ran before snapshots existed
    bot_tick(bot_id=bot.pk)
    rebuilt = GridState.from_json(GridSnapshot.objects.get(bot=bot).data)
    assert Order.objects.filter(bot=bot).count() == orders, "the rebuilt state planned again"
    kept = GridState.from_json(kept)
    assert (kept.launch_price, rebuilt.launch_price) == (Decimal("55000"), None)  # launch facts are not history
    rebuilt.launch_price, rebuilt.qty_per_grid = kept.launch_price, kept.qty_per_grid
    assert rebuilt == kept  # Decimal values equal (the rows' 18-place strings aside)
    assert kept.watched and any(0 < w.filled < w.qty for w in kept.watched.values())


def test_a_stale_snapshot_write_rolls_back_the_pending_orders_with_it(running_bot, fake):
    from bots.engine.planner import PlannedOrder
    from exchanges.client import OrderType, Side
    from trading.services import order_write_pending

    state, version = grid_state_load(bot=running_bot, levels=())
    GridSnapshot.objects.filter(bot=running_bot).update(version=version + 1)  # someone else wrote
    planned = PlannedOrder(
        f"sk{running_bot.pk}-{running_bot.generation}-0B1", Side.BUY, OrderType.LIMIT, Decimal("50000"),
        Decimal("0.001"), 0, "grid",
    )  # fmt: skip
    with pytest.raises(StaleGridState), transaction.atomic():
        order_write_pending(bot=running_bot, planned=planned)
        state.placed(planned)
        grid_state_save(bot=running_bot, state=state, version=version)
    assert not Order.objects.filter(client_order_id=planned.client_order_id).exists()
    assert not Trade.objects.filter(bot=running_bot, order__client_order_id=planned.client_order_id).exists()


def test_stop_loss_counts_every_run_of_the_bot(exchanges):
    bot, fake = exchanges()
    for price in ["53900", "52900"]:  # run 1: two buys fill on the way down
        fake.set_price(price)
        bot_tick(bot_id=bot.pk)
    bot_stop(bot=bot, close_action="keep")  # the coins stay: their loss stays the bot's
    bot_tick(bot_id=bot.pk)
    first_run = metrics_total_pnl(bot=bot, price=Decimal("52900"))
    assert first_run < Decimal("-10"), first_run
    limit = -first_run + Decimal("1")  # one more USDT lost across both runs stops it
    bot.refresh_from_db()
    bot.config = {**bot.config, "stop_loss_pnl": str(limit)}
    bot.save(update_fields=["config"])
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING
    for price in ["52700", "52500", "52300"]:
        fake.set_price(price)
        bot_tick(bot_id=bot.pk)
        bot.refresh_from_db()
        if bot.status != Bot.Status.RUNNING:
            break
    hit = BotEvent.objects.get(bot=bot, kind="target_hit")
    fired_at = Decimal(hit.data["total_pnl"])
    assert "Stop loss" in hit.message and fired_at <= -limit
    assert fired_at == metrics_total_pnl(bot=bot, price=Decimal(hit.data["price"]))
    state, _ = grid_state_load(bot=bot, levels=())
    grid_state_sync(bot=bot, state=state)
    assert state.cash + state.base * Decimal(hit.data["price"]) > -limit  # run 2 alone lost far less
