"""Order bookkeeping against an in-memory exchange: placement, fills stored once, counter
orders, partial fills, crashes between writing and sending, ambiguous outcomes, 5xx, 10006."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bots.models import Bot, BotEvent
from bots.services import bot_tick
from exchanges.errors import AmbiguousOutcome, RateLimited, TemporaryExchangeError
from trading.models import Order, Trade

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the tick catches it, as with a SIGKILL."""


def assert_books_match(bot, fake):
    """No duplicate order on the exchange; our trades are exactly the exchange's executions."""
    dups = [cid for cid, n in Counter(fake.placed_ids).items() if n > 1]
    assert dups == []
    ours = {t.exec_id: (t.qty, t.price, t.fee) for t in Trade.objects.filter(bot=bot)}
    theirs = {f.exec_id: (f.qty, f.price, f.fee) for f in fake.executions}
    assert ours == theirs
    open_rows = set(
        Order.objects.filter(bot=bot, status__in=["open", "partially_filled"]).values_list("client_order_id", flat=True)
    )
    assert open_rows == set(fake.open_ids())


def expire_lease(bot):
    Bot.objects.filter(pk=bot.pk).update(lease_until=timezone.now() - timedelta(seconds=1))


def test_start_places_initial_market_buy_then_the_ladder(running_bot, fake):
    orders = Order.objects.filter(bot=running_bot)
    initial = orders.get(purpose="initial")
    assert initial.status == "filled" and initial.side == "Buy" and initial.order_type == "Market"
    grid = orders.filter(purpose="grid")
    buys = sorted(o.price for o in grid if o.side == "Buy")
    sells = sorted(o.price for o in grid if o.side == "Sell")
    assert buys and sells and max(buys) < Decimal("55000") < min(sells)
    assert all(o.status == "open" for o in grid)
    assert fake.placed_ids[0] == initial.client_order_id  # base bought before the sells
    assert_books_match(running_bot, fake)
    assert running_bot.instrument["tick_size"] == "0.01"


def test_a_filled_buy_gets_its_counter_sell_one_line_up(running_bot, fake):
    top_buy = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("-price").first()
    fake.set_price(top_buy.price - 1)
    bot_tick(bot_id=running_bot.pk)
    top_buy.refresh_from_db()
    assert top_buy.status == "filled"
    counter = Order.objects.get(bot=running_bot, side="Sell", level=top_buy.level + 1, status="open")
    assert counter.qty <= top_buy.qty  # spot: the base fee was paid in BTC
    assert counter.client_order_id in fake.open_ids()
    # A second tick with nothing new plans nothing new.
    before = len(fake.placed_ids)
    bot_tick(bot_id=running_bot.pk)
    assert len(fake.placed_ids) == before
    # Back up through the sell: one cycle completed, with a positive realised profit.
    fake.set_price(counter.price + 1)
    bot_tick(bot_id=running_bot.pk)
    sell_trade = Trade.objects.get(order=counter)
    assert sell_trade.realized_pnl > 0
    from metrics.models import BotMetrics

    metrics = BotMetrics.objects.get(bot=running_bot)
    assert metrics.cycle_count == 1
    assert metrics.grid_profit == sell_trade.realized_pnl
    assert Order.objects.filter(bot=running_bot, side="Buy", level=top_buy.level, status="open").exists()
    assert BotEvent.objects.filter(bot=running_bot, kind="replaced").exists()
    assert_books_match(running_bot, fake)


def test_partial_fill_is_stored_and_countered_for_what_filled(running_bot, fake):
    top_buy = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("-price").first()
    fake.set_price("54500")  # between the lines: nothing crosses
    half = (top_buy.qty / 2).quantize(Decimal("0.000001"))
    fake.fill_partial(top_buy.client_order_id, half)
    bot_tick(bot_id=running_bot.pk)
    top_buy.refresh_from_db()
    assert top_buy.status == "partially_filled" and top_buy.filled_qty == half
    counter = Order.objects.get(bot=running_bot, side="Sell", level=top_buy.level + 1, status="open")
    assert counter.qty <= half
    fake.fill_partial(top_buy.client_order_id, top_buy.qty - half)
    bot_tick(bot_id=running_bot.pk)
    top_buy.refresh_from_db()
    assert top_buy.status == "filled"
    total_sell = sum(o.qty for o in Order.objects.filter(bot=running_bot, side="Sell", level=top_buy.level + 1))
    assert top_buy.qty * Decimal("0.99") < total_sell <= top_buy.qty
    assert_books_match(running_bot, fake)


def test_worker_killed_after_writing_pending_before_sending(running_bot, fake, monkeypatch):
    import bots.services.place as place

    top_buy = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("-price").first()
    fake.set_price(top_buy.price - 1)

    def killed(**kwargs):
        raise WorkerKilled

    monkeypatch.setattr(place, "orders_send_pending", killed)
    with pytest.raises(WorkerKilled):
        bot_tick(bot_id=running_bot.pk)
    pending = Order.objects.get(bot=running_bot, side="Sell", level=top_buy.level + 1)
    assert pending.status == "pending" and pending.client_order_id not in fake.orders
    monkeypatch.undo()
    import bots.services.common as common

    monkeypatch.setattr(common, "client_for_account", lambda account: fake)
    expire_lease(running_bot)
    bot_tick(bot_id=running_bot.pk)
    pending.refresh_from_db()
    assert pending.status == "open"
    assert_books_match(running_bot, fake)


def test_timeout_after_the_exchange_accepted_never_duplicates(running_bot, fake, monkeypatch):
    import trading.services as services

    top_buy = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("-price").first()
    fake.set_price(top_buy.price - 1)
    fake.fail_next("place_order", AmbiguousOutcome("read timeout"), after=True)

    def lookup_down(**kwargs):  # and the settling lookup right after fails too
        raise TemporaryExchangeError("502")

    monkeypatch.setattr(services, "order_lookup", lookup_down)
    bot_tick(bot_id=running_bot.pk)
    monkeypatch.undo()
    import bots.services.common as common

    monkeypatch.setattr(common, "client_for_account", lambda account: fake)
    counter = Order.objects.get(bot=running_bot, side="Sell", level=top_buy.level + 1)
    assert counter.status == "pending"  # not failed: unknown outcome
    assert counter.client_order_id in fake.orders  # it did reach the exchange
    bot_tick(bot_id=running_bot.pk)
    counter.refresh_from_db()
    assert counter.status == "open" and counter.exchange_order_id
    assert_books_match(running_bot, fake)


def test_5xx_and_rate_limit_leave_the_bot_running_and_lose_nothing(running_bot, fake):
    top_buy = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("-price").first()
    fake.set_price(top_buy.price - 1)
    fake.fail_next("open_orders", TemporaryExchangeError("HTTP 503", code=503))
    bot_tick(bot_id=running_bot.pk)
    running_bot.refresh_from_db()
    assert running_bot.status == "running"
    assert BotEvent.objects.filter(bot=running_bot, kind="warning").exists()
    fake.fail_next("place_order", RateLimited("too many visits", code=10006, retry_after=0.1))
    bot_tick(bot_id=running_bot.pk)
    assert Order.objects.get(bot=running_bot, side="Sell", level=top_buy.level + 1).status == "pending"
    bot_tick(bot_id=running_bot.pk)
    assert Order.objects.get(bot=running_bot, side="Sell", level=top_buy.level + 1).status == "open"
    running_bot.refresh_from_db()
    assert running_bot.status == "running" and running_bot.transient_errors == 0
    assert_books_match(running_bot, fake)


def test_a_fill_seen_twice_is_stored_once(running_bot, fake):
    from trading.services import fills_store

    top_buy = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("-price").first()
    fake.set_price(top_buy.price - 1)
    bot_tick(bot_id=running_bot.pk)
    again = fills_store(bot=running_bot, fills=list(fake.executions))
    assert again == []
    assert Trade.objects.filter(bot=running_bot).count() == len(fake.executions)


def test_order_unknown_to_the_exchange_becomes_missing_and_is_replaced(running_bot, fake):
    victim = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("price").first()
    del fake.orders[victim.client_order_id]  # the exchange lost it
    Order.objects.filter(pk=victim.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    bot_tick(bot_id=running_bot.pk)
    victim.refresh_from_db()
    assert victim.status == "missing"
    replacement = Order.objects.get(bot=running_bot, level=victim.level, side="Buy", status="open")
    assert replacement.client_order_id != victim.client_order_id
    assert replacement.client_order_id in fake.open_ids()


def test_an_order_that_reaches_the_exchange_after_we_gave_up_on_it_is_cancelled(running_bot, fake):
    """A placement that timed out, was never found, and was closed on our side, then shows up
    open on the exchange (a very late request): the next reconciliation cancels it."""
    victim = Order.objects.filter(bot=running_bot, purpose="grid", side="Buy").order_by("price").first()
    Order.objects.filter(pk=victim.pk).update(status="cancelled")  # we gave up on it
    assert victim.client_order_id in fake.open_ids()  # ...but it is live on the exchange
    bot_tick(bot_id=running_bot.pk)
    assert victim.client_order_id not in fake.open_ids()
