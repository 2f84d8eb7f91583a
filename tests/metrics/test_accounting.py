"""Profit figures on hand-computed cases (every expected number is worked out in the comment)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.models import BotMetrics, Cycle
from metrics.selectors import metrics_figures
from metrics.services import (
    metrics_apply_trades,
    metrics_recompute,
    metrics_reconcile,
    metrics_update_price,
    metrics_update_prices,
)
from tests.factories import BotFactory, OrderFactory, TradeFactory
from trading.models import Trade

pytestmark = pytest.mark.django_db

T0 = timezone.now() - timedelta(hours=2)


def fill(bot, *, side, price, qty, fee, fee_coin, level, purpose="grid", order=None, minutes=0):
    order = order or OrderFactory(
        bot=bot, side=side, price=D(price), qty=D(qty), level=level, purpose=purpose, status="filled"
    )
    return TradeFactory(
        order=order, side=side, price=D(price), qty=D(qty), fee=D(fee), fee_coin=fee_coin,
        executed_at=T0 + timedelta(minutes=minutes),
    )


@pytest.fixture
def bot():
    return BotFactory(status="running", started_at=T0 - timedelta(days=1), investment=D("1000"))


def test_completed_cycle_fee_in_base_on_buy_and_quote_on_sell(bot):
    # Buy 0.01 BTC at 50,000 (level 2), fee 0.00001 BTC: 0.00999 BTC received for 500 USDT.
    buy = fill(bot, side="Buy", price="50000", qty="0.01", fee="0.00001", fee_coin="BTC", level=2)
    metrics_apply_trades(bot=bot, trades=[buy])
    m = BotMetrics.objects.get(bot=bot)
    assert m.base_position == D("0.00999") and m.cost_basis == D("500")
    assert m.cycle_count == 0 and m.grid_profit == 0
    # Sell the 0.00999 at 51,000 (level 3): 509.49 − fee 0.50949 = 508.98051; profit 8.98051.
    sell = fill(bot, side="Sell", price="51000", qty="0.00999", fee="0.50949", fee_coin="USDT", level=3, minutes=5)
    metrics_apply_trades(bot=bot, trades=[sell])
    m.refresh_from_db()
    assert m.grid_profit == D("8.98051")
    assert m.realized_pnl == D("8.98051")
    assert m.cycle_count == 1
    assert m.base_position == 0 and m.cost_basis == 0
    # Fees in quote: 0.00001 BTC × 50,000 = 0.5 plus 0.50949.
    assert m.fees_quote == D("1.00949")
    assert Trade.objects.get(pk=sell.pk).realized_pnl == D("8.98051")
    assert Trade.objects.get(pk=buy.pk).realized_pnl == 0
    figures = metrics_figures(bot=bot, metrics=m)
    assert figures["total_pnl"] == D("8.98051")
    assert figures["roi_percent"] == D("0.8981")  # 8.98051 / 1000 × 100, 4 places
    assert figures["profit_factor"] is None  # no losing cycle yet
    assert figures["cycle_count_24h"] == 1
    assert figures["trade_count"] == 2


def test_partial_fills_of_one_sell_are_one_cycle_with_the_same_profit(bot):
    buy = fill(bot, side="Buy", price="50000", qty="0.01", fee="0.00001", fee_coin="BTC", level=2)
    sell_order = OrderFactory(bot=bot, side="Sell", price=D("51000"), qty=D("0.00999"), level=3, status="filled")
    # 0.005 then 0.00499. First: 255 − 0.255 − 500×0.005/0.00999 (=250.250250250250250250) = 4.494749749749749750
    part1 = fill(bot, side="Sell", price="51000", qty="0.005", fee="0.255", fee_coin="USDT", level=3, order=sell_order, minutes=1)
    part2 = fill(bot, side="Sell", price="51000", qty="0.00499", fee="0.25449", fee_coin="USDT", level=3, order=sell_order, minutes=2)
    metrics_apply_trades(bot=bot, trades=[buy, part1])
    m = BotMetrics.objects.get(bot=bot)
    assert m.grid_profit == D("4.494749749749749750")
    assert m.base_position == D("0.00499")
    assert m.cycle_count == 1
    metrics_apply_trades(bot=bot, trades=[part2])
    m.refresh_from_db()
    # Second: 254.49 − 0.25449 − 249.749749749749749750 = 4.485760250250250250; sum = 8.98051.
    assert Trade.objects.get(pk=part2.pk).realized_pnl == D("4.485760250250250250")
    assert m.grid_profit == D("8.98051")
    assert m.cycle_count == 1  # one sell order, one cycle
    assert Cycle.objects.filter(bot=bot).count() == 1


def test_inventory_pnl_follows_the_price(bot):
    buy = fill(bot, side="Buy", price="50000", qty="0.01", fee="0.00001", fee_coin="BTC", level=2)
    metrics_apply_trades(bot=bot, trades=[buy])
    metrics_update_price(bot=bot, price=D("52000"))
    m = BotMetrics.objects.get(bot=bot)
    assert m.unrealized_pnl == D("19.48")  # 0.00999 × 52,000 − 500
    metrics_update_price(bot=bot, price=D("48000"))
    m.refresh_from_db()
    assert m.unrealized_pnl == D("-20.48")  # 0.00999 × 48,000 − 500
    assert metrics_figures(bot=bot, metrics=m)["total_pnl"] == D("-20.48")


def test_an_account_pass_revalues_many_bots_at_once_as_one_by_one_would(bot, monkeypatch):
    """The account pass revalues every bot of a symbol in one locked read and one write: the
    same unrealized PnL as revaluing each bot alone, one live figures event per bot (with its
    day's cycles), nothing for a bot already at the price, and no statement per bot."""
    from metrics import services

    others = [BotFactory(status="running", started_at=T0, investment=D("1000")) for _ in range(4)]
    for n, b in enumerate([bot, *others]):
        trades = [fill(b, side="Buy", price="50000", qty="0.01", fee="0.00001", fee_coin="BTC", level=2)]
        if n % 2:  # every other bot sold half of it again
            trades.append(
                fill(b, side="Sell", price="51000", qty="0.005", fee="0.255", fee_coin="USDT", level=3, minutes=1)
            )
        metrics_apply_trades(bot=b, trades=trades)
    alone = others.pop()
    metrics_update_price(bot=alone, price=D("52000"))  # the figures of one bot revalued alone
    sent = []
    monkeypatch.setattr(services.events, "emit", lambda *, bot, event, data: sent.append((bot.pk, event, data)))
    group = [bot, *others, alone]
    with CaptureQueriesContext(connection) as few:
        assert metrics_update_prices(bots=group[:2], price=D("52000")) == 2
    with CaptureQueriesContext(connection) as many:
        assert metrics_update_prices(bots=group, price=D("52000")) == 2  # the first two already stand there
    assert len(many.captured_queries) == len(few.captured_queries)  # not a statement per bot
    rows = {m.bot_id: m for m in BotMetrics.objects.filter(bot__in=group)}
    assert rows[alone.pk].unrealized_pnl == D("19.48")  # 0.00999 × 52,000 − 500
    assert rows[others[0].pk].unrealized_pnl.quantize(D("0.01")) == D("9.73")  # 0.00499 × 52,000 − 249.75
    for b in group:  # each the figure recomputed from its own trades at that price
        assert rows[b.pk].last_price == D("52000")
        assert rows[b.pk].unrealized_pnl == metrics_recompute(bot=b, price=D("52000"))["unrealized_pnl"], b.pk
    assert sorted(pk for pk, _, _ in sent) == sorted(b.pk for b in group[:4])
    by_bot = {pk: data for pk, event, data in sent if event == "metrics"}
    assert by_bot[others[0].pk]["cycle_count_24h"] == 1 and by_bot[bot.pk]["cycle_count_24h"] == 0
    assert D(by_bot[others[0].pk]["unrealized_pnl"]) == rows[others[0].pk].unrealized_pnl


def test_fee_in_quote_on_a_buy_is_part_of_the_cost(bot):
    buy = fill(bot, side="Buy", price="50000", qty="0.01", fee="0.5", fee_coin="USDT", level=2)
    sell = fill(bot, side="Sell", price="51000", qty="0.01", fee="0.51", fee_coin="USDT", level=3, minutes=1)
    metrics_apply_trades(bot=bot, trades=[buy, sell])
    m = BotMetrics.objects.get(bot=bot)
    # 510 − 0.51 − (500 + 0.5) = 8.99
    assert m.grid_profit == D("8.99")
    assert m.fees_quote == D("1.01")


def test_losing_stop_is_realized_loss_not_grid_profit_and_sets_profit_factor(bot):
    trades = [
        fill(bot, side="Buy", price="50000", qty="0.01", fee="0.00001", fee_coin="BTC", level=2),
        fill(bot, side="Sell", price="51000", qty="0.00999", fee="0.50949", fee_coin="USDT", level=3, minutes=1),
        fill(bot, side="Buy", price="50000", qty="0.01", fee="0.00001", fee_coin="BTC", level=2, minutes=2),
        # Stop with sell_base at 45,000: 449.55 − 0.44955 − 500 = −50.89955
        fill(bot, side="Sell", price="45000", qty="0.00999", fee="0.44955", fee_coin="USDT", level=None, purpose="close", minutes=3),
    ]
    metrics_apply_trades(bot=bot, trades=trades)
    m = BotMetrics.objects.get(bot=bot)
    assert m.grid_profit == D("8.98051")
    assert m.realized_pnl == D("8.98051") - D("50.89955")
    assert m.gross_loss == D("50.89955")
    assert m.cycle_count == 1
    figures = metrics_figures(bot=bot, metrics=m)
    assert figures["profit_factor"] == D("0.1764")  # 8.98051 / 50.89955
    assert figures["total_pnl"] == D("-41.91904")
    # APRs over one day (started 1 day + 2 h ago, still running): grid 8.98051/1000/d×365.
    days = figures["days_running"]
    assert D("1.08") < days < D("1.09")
    assert figures["grid_apr"] == (D("8.98051") / 1000 / days * 365 * 100).quantize(D("0.0001"))


def test_initial_position_sell_is_realized_against_its_cost(bot):
    init = fill(bot, side="Buy", price="54000", qty="0.02", fee="0.00002", fee_coin="BTC", level=None, purpose="initial")
    sell = fill(bot, side="Sell", price="57000", qty="0.01", fee="0.57", fee_coin="USDT", level=4, minutes=1)
    metrics_apply_trades(bot=bot, trades=[init, sell])
    m = BotMetrics.objects.get(bot=bot)
    # init: 0.01998 BTC for 1080. Sell 0.01: 570 − 0.57 − 1080×0.01/0.01998 (=540.540540540540540541)
    assert m.realized_pnl == D("570") - D("0.57") - D("540.540540540540540541")
    assert m.grid_profit == 0 and m.cycle_count == 0
    assert m.base_position == D("0.00998")


def test_linear_round_trip_realizes_from_average_entry_with_usdt_fees():
    bot = BotFactory(category="linear", status="running", started_at=T0)
    buy1 = fill(bot, side="Buy", price="50000", qty="0.01", fee="0.275", fee_coin="USDT", level=2)
    buy2 = fill(bot, side="Buy", price="49000", qty="0.01", fee="0.2695", fee_coin="USDT", level=1, minutes=1)
    # Average entry 49,500. Sell 0.01 at 51,000 (level 3): 0.01 × 1,500 − 0.2805 − half the open fees (0.27225)
    sell = fill(bot, side="Sell", price="51000", qty="0.01", fee="0.2805", fee_coin="USDT", level=3, minutes=2)
    metrics_apply_trades(bot=bot, trades=[buy1, buy2, sell])
    m = BotMetrics.objects.get(bot=bot)
    assert m.realized_pnl == D("15") - D("0.2805") - D("0.27225")
    assert m.base_position == D("0.01")
    assert m.fees_quote == D("0.825")
    assert m.cycle_count == 1
    metrics_update_price(bot=bot, price=D("50000"))
    m.refresh_from_db()
    assert m.unrealized_pnl == D("5") - D("0.27225")  # 0.01 × (50,000 − 49,500) − remaining open fees


def test_apply_is_idempotent_and_equals_recompute(bot):
    trades = [
        fill(bot, side="Buy", price="50000", qty="0.01", fee="0.00001", fee_coin="BTC", level=2),
        fill(bot, side="Sell", price="51000", qty="0.00999", fee="0.50949", fee_coin="USDT", level=3, minutes=1),
        fill(bot, side="Buy", price="49000", qty="0.01", fee="0.00001", fee_coin="BTC", level=1, minutes=2),
    ]
    metrics_apply_trades(bot=bot, trades=trades[:2])
    metrics_apply_trades(bot=bot, trades=trades)  # a retried tick passes the same trades again
    metrics_apply_trades(bot=bot, trades=trades[2:])
    m = BotMetrics.objects.get(bot=bot)
    assert m.trade_count == 3 and m.cycle_count == 1
    truth = metrics_recompute(bot=bot)
    assert truth["grid_profit"] == m.grid_profit
    assert truth["cost_basis"] == m.cost_basis == D("490")
    assert metrics_reconcile(bot=bot) == ""


def test_reconcile_flags_drift(bot):
    trades = [
        fill(bot, side="Buy", price="50000", qty="0.01", fee="0.00001", fee_coin="BTC", level=2),
        fill(bot, side="Sell", price="51000", qty="0.00999", fee="0.50949", fee_coin="USDT", level=3, minutes=1),
    ]
    metrics_apply_trades(bot=bot, trades=trades)
    BotMetrics.objects.filter(bot=bot).update(grid_profit=D("100"))
    detail = metrics_reconcile(bot=bot)
    assert "grid_profit" in detail
    m = BotMetrics.objects.get(bot=bot)
    assert m.drift_detected_at is not None and "8.98051" in m.drift_detail


def test_snapshot_and_reconcile_tasks(bot):
    from metrics.models import MetricSnapshot
    from metrics.tasks import metrics_reconcile_task, metrics_snapshot_task

    trades = [fill(bot, side="Buy", price="50000", qty="0.01", fee="0.00001", fee_coin="BTC", level=2)]
    metrics_apply_trades(bot=bot, trades=trades)
    metrics_update_price(bot=bot, price=D("51000"))
    assert metrics_snapshot_task() == 1
    snap = MetricSnapshot.objects.get(bot=bot)
    assert snap.equity == D("1009.49") and snap.total_pnl == D("9.49") and snap.price == D("51000")
    assert metrics_reconcile_task() == 0
    BotMetrics.objects.filter(bot=bot).update(trade_count=5)
    assert metrics_reconcile_task(bot.pk) == 1


def test_emit_never_breaks_the_callers_transaction(bot):
    from bots import events

    events.emit(bot=bot, event="trade", data={"odd": {1, 2}})  # a set is not JSON: logged, not raised
    with pytest.raises(ValueError):
        events.emit(bot=bot, event="no.such.event", data={})  # a programming error is loud
