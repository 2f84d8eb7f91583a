"""Stops of many bots run in the background, per exchange account; an order that reaches the
exchange after its bot stopped is swept without the bot running again."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from bots import tasks as bots_tasks
from bots.engine.ids import grid_order_id
from bots.models import Bot, BotEvent
from bots.services import (
    bot_stop,
    bot_tick,
    bots_stop_all,
    stop_run_continue,
    stop_run_get,
    stop_run_progress,
    stopped_orders_sweep,
)
from bots.services.common import client_for_account
from bots.sharding import HOLD_KEY
from bots.tasks import bot_tick_task, bots_tick_all_task
from exchanges.client import Category, OrderType, PlaceOrder, Side
from tests.bots.conftest import assert_books_match_exchange, ledger_open_ids
from tests.bots.conftest import launched as _launch
from tests.factories import BotFactory, UserFactory
from trading.models import Order, Trade


def _late_order(account, bot: Bot, *, generation: int, price: str = "50000") -> str:
    """An order of the bot's generation that the exchange accepts now (sent before the stop)."""
    client_order_id = grid_order_id(bot.pk, generation, 0, Side.BUY, 9)
    client_for_account(account).place_order(
        PlaceOrder(
            category=Category.SPOT,
            symbol="BTCUSDT",
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            qty=Decimal("0.001"),
            price=Decimal(price),
            client_order_id=client_order_id,
        )
    )
    return client_order_id


def test_stop_all_of_two_bots_on_one_account_answers_at_once_and_the_run_cancels_both(paper, sim):
    account, acc = paper
    first, second = _launch(account), _launch(account, lower_price="52000")
    open_before = len(ledger_open_ids(sim, acc.uid))
    assert open_before >= 20

    assert bots_stop_all(actor=UserFactory(is_superuser=True), reason="incident") == 2
    # the request made no exchange call and marked nobody: the worker does both
    assert len(ledger_open_ids(sim, acc.uid)) == open_before
    assert set(Bot.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {"running"}
    progress = stop_run_progress(stop_run_get())
    assert progress["bots_to_stop"] == 2 and progress["stopped"] == 0 and progress["finished_at"] is None

    run = stop_run_continue(run_id=stop_run_get().id)
    assert run.marked == 2 and run.orders_cancelled == open_before and run.failures == 0
    assert ledger_open_ids(sim, acc.uid) == []
    for bot in (first, second):  # marked in one update: each bot's log says why it is stopping
        line = BotEvent.objects.get(bot=bot, data__code="stopping")
        assert line.message.endswith("incident") and line.data["params"] == {"reason_code": "halt"}
    for bot in (first, second):
        bot_tick(bot_id=bot.pk)  # each bot's stop tick records the cancels and stops it
    progress = stop_run_progress(stop_run_get())
    assert progress["stopped"] == 2 and progress["remaining"] == 0 and progress["orders_open"] == 0
    # a retried run (the worker died after its work) changes nothing
    again = stop_run_continue(run_id=run.id)
    assert again.marked == 2 and again.orders_cancelled == open_before


def test_the_run_queues_each_stop_tick_after_its_accounts_cancels(paper, sim, monkeypatch):
    """The stop ticks come after the account's cancels: they find nothing left to cancel and do
    not race the run for the account's and the IP's budgets."""
    from bots.services import stop_run as stop_run_module

    account, acc = paper
    # bots that sell their coins on stop: the run cannot finish them, their stop ticks do
    bots = [_launch(account, on_stop="sell_base"), _launch(account, lower_price="52000", on_stop="sell_base")]
    open_at_enqueue: list[tuple[int, int]] = []
    swept: list[int] = []
    beat_ticks: list[int] = []
    monkeypatch.setattr(bots_tasks, "tick_enqueue", lambda bot_id, **kwargs: beat_ticks.append(bot_id))

    def enqueue(bot_id, urgent=False, held=False, **kwargs):
        assert urgent and held  # the stop tick ends the run's hold on the bot's ticks
        if kwargs.get("swept"):
            swept.append(bot_id)
        bots_tick_all_task()  # beat, while the run is on: the stopping bots are the run's
        before = sum(sim.sim.requests_by_path.values())
        bot_tick_task(bot_id, urgent=True)  # the stream's tick for a cancelled order: nothing done
        assert sum(sim.sim.requests_by_path.values()) == before
        assert Bot.objects.get(pk=bot_id).status == Bot.Status.STOPPING
        open_at_enqueue.append((bot_id, len(ledger_open_ids(sim, acc.uid))))

    monkeypatch.setattr(stop_run_module, "enqueue_tick", enqueue)
    bots_stop_all(actor=UserFactory(is_superuser=True), reason="incident")
    stop_run_continue(run_id=stop_run_get().id)
    assert sorted(bot_id for bot_id, _ in open_at_enqueue) == sorted(b.pk for b in bots)
    assert {n for _, n in open_at_enqueue} == {0}  # every order of the account was cancelled first
    assert beat_ticks == []  # 305 bots' stop all took 1,113 ticks when beat ticked them too
    assert set(Bot.objects.filter(pk__in=[b.pk for b in bots]).values_list("status", flat=True)) == {"stopping"}
    # what the venue said it cancelled is cancelled in the books: the stop ticks ask no order's state
    assert not Order.objects.filter(bot__in=bots, status__in=Order.OPEN_STATUSES).exists()
    # the run read the account's open orders and executions once per symbol for both bots
    assert sorted(swept) == sorted(b.pk for b in bots)
    before = Counter(sim.sim.requests_by_path)
    for bot in bots:
        bot_tick_task(bot.pk, urgent=True, held=True, swept=True)  # the ticks the run queued
    spent = Counter(sim.sim.requests_by_path) - before
    # each asks only what its sale needs: its balance, the market sell of the coins its launch
    # bought, then that order's reconcile (executions, open orders, the sell's own state); the
    # open orders and executions up to the cancels are not asked again, nothing is cancelled
    assert spent == Counter(
        {"/v5/account/wallet-balance": 2, "/v5/order/create": 2, "/v5/execution/list": 2, "/v5/order/realtime": 4}
    ), spent
    assert set(Bot.objects.filter(pk__in=[b.pk for b in bots]).values_list("status", flat=True)) == {"stopped"}
    assert not any(cache.get(HOLD_KEY.format(b.pk)) for b in bots)  # the hold ended with the ticks


def test_a_fill_before_stop_all_is_stored_once_by_the_run_and_the_stop_tick_reads_nothing_again(
    paper, sim, monkeypatch
):
    """The run reads the account's executions after its cancels (once per symbol for all its
    bots): a fill no tick had seen is stored by it, exactly once, and the stop tick asks neither
    the open orders nor the executions again."""
    from bots.services import stop_run as stop_run_module

    account, acc = paper
    bot = _launch(account)
    buys = Order.objects.filter(bot=bot, purpose="grid", side="Buy")
    top_buy = buys.get(price=max(buys.values_list("price", flat=True)))
    queued: list[tuple[int, dict]] = []
    monkeypatch.setattr(stop_run_module, "enqueue_tick", lambda bot_id, **kwargs: queued.append((bot_id, kwargs)))
    sim.control.set_price("BTCUSDT", str(top_buy.price - 1))  # it fills; no tick runs before the stop
    try:
        bots_stop_all(actor=UserFactory(is_superuser=True), reason="incident")
        stop_run_continue(run_id=stop_run_get().id)
    finally:
        sim.control.set_price("BTCUSDT", "55000")
    assert queued == [(bot.pk, {"urgent": True, "held": True, "swept": True})]
    assert Trade.objects.filter(order=top_buy).count() == 1  # stored by the run

    before = Counter(sim.sim.requests_by_path)
    bot_tick_task(bot.pk, urgent=True, held=True, swept=True)
    spent = Counter(sim.sim.requests_by_path) - before
    assert not spent["/v5/order/realtime"] and not spent["/v5/execution/list"], spent
    assert not spent["/v5/order/history"], spent
    bot.refresh_from_db()
    top_buy.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED and top_buy.status == Order.Status.FILLED
    assert Trade.objects.filter(order=top_buy).count() == 1
    assert_books_match_exchange(bot, sim, acc.uid)


def test_a_swept_stop_tick_reads_the_executions_of_a_row_the_run_did_not_settle(paper, sim):
    """A row sent after the run's read (a tick that was already running) has no executions
    stored: the stop tick reads them before settling the row, so its fill is not lost."""
    account, acc = paper
    bot = _launch(account)
    # that tick holds the bot's lease: the run leaves the bot to its stop tick
    Bot.objects.filter(pk=bot.pk).update(
        lease_owner="a running tick", lease_until=timezone.now() + timedelta(minutes=1)
    )
    bots_stop_all(actor=UserFactory(is_superuser=True), reason="incident")
    stop_run_continue(run_id=stop_run_get().id)
    assert Bot.objects.get(pk=bot.pk).status == Bot.Status.STOPPING
    late = _late_order(account, bot, generation=bot.generation, price="56000")  # at 55000: it fills at once
    Order.objects.create(
        bot=bot,
        user=bot.user,
        symbol=bot.symbol,
        client_order_id=late,
        purpose="grid",
        side="Buy",
        price=Decimal("56000"),
        qty=Decimal("0.001"),
        status=Order.Status.OPEN,
        send_attempts=1,
        level=9,
    )
    Bot.objects.filter(pk=bot.pk).update(lease_owner="", lease_until=None)  # that tick ended
    bot_tick_task(bot.pk, urgent=True, held=True, swept=True)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED
    row = Order.objects.get(client_order_id=late)
    assert row.status == Order.Status.FILLED and Trade.objects.filter(order=row).count() == 1
    assert_books_match_exchange(bot, sim, acc.uid)


def test_an_order_accepted_after_its_bot_stopped_is_swept_without_running_the_bot(paper, sim):
    account, acc = paper
    stopped = _launch(account)
    bot_stop(bot=stopped, user=stopped.user)
    bot_tick(bot_id=stopped.pk)
    stopped.refresh_from_db()
    assert stopped.status == Bot.Status.STOPPED and ledger_open_ids(sim, acc.uid) == []
    running = _launch(account, lower_price="52000")  # another bot of the same account keeps trading
    running_ids = ledger_open_ids(sim, acc.uid)
    late = _late_order(account, stopped, generation=stopped.generation)
    orders_before = Order.objects.filter(bot=stopped).count()

    assert stopped_orders_sweep() == 1
    assert ledger_open_ids(sim, acc.uid) == running_ids  # the late one only; the running bot's stay
    assert late not in ledger_open_ids(sim, acc.uid)
    stopped.refresh_from_db()
    assert stopped.status == Bot.Status.STOPPED and Order.objects.filter(bot=stopped).count() == orders_before
    running.refresh_from_db()
    assert running.status == Bot.Status.RUNNING
    assert stopped_orders_sweep() == 0  # nothing left to sweep


def test_the_sweep_leaves_a_restarted_bots_new_orders_alone(paper, sim):
    account, acc = paper
    bot = _launch(account)
    bot_stop(bot=bot, user=bot.user)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED
    newer = _late_order(account, bot, generation=bot.generation + 1)  # not this generation's
    assert stopped_orders_sweep() == 0
    assert ledger_open_ids(sim, acc.uid) == [newer]


def test_a_held_bots_ticks_are_not_even_queued_except_the_runs_own(db, monkeypatch):
    """While a stop run holds a bot, the stream's tick for each order the run cancels is not
    queued at all (the worker dropped 2,000 such tasks at stop all of 1,000 bots); the run's stop
    tick is."""
    from bots.sharding import ticks_hold

    bot = BotFactory()
    sent: list[dict] = []
    monkeypatch.setattr(bots_tasks.bot_tick_task, "apply_async", lambda args, kwargs, **options: sent.append(kwargs))
    bots_tasks.tick_enqueue(bot.pk, urgent=True)
    assert len(sent) == 1
    ticks_hold([bot.pk], seconds=60)
    bots_tasks.tick_enqueue(bot.pk, urgent=True)
    bots_tasks.tick_enqueue(bot.pk)
    assert len(sent) == 1
    bots_tasks.tick_enqueue(bot.pk, urgent=True, held=True, swept=True)
    assert sent[-1]["held"] and sent[-1]["swept"] and len(sent) == 2


def test_a_retried_run_cancels_for_the_bots_it_had_marked_and_frees_a_bot_that_stopped(paper, sim, monkeypatch):
    """The worker died after marking: the retried run cancels the stopping bot's orders and queues
    its stop tick without marking or logging it twice; a bot its owner stopped meanwhile gets no
    stop tick and is not held (its owner may start it again at once)."""
    from bots.services import stop_run as stop_run_module
    from bots.services.stop import mark_stopping_many

    account, acc = paper
    first, second = _launch(account), _launch(account, lower_price="52000")
    queued: list[int] = []
    monkeypatch.setattr(stop_run_module, "enqueue_tick", lambda bot_id, **kwargs: queued.append(bot_id))
    bots_stop_all(actor=UserFactory(is_superuser=True), reason="incident")
    assert mark_stopping_many(bot_ids=[first.pk], reason="incident", actor="ops", code="halt") == [first.pk]
    bot_stop(bot=second, user=second.user)
    bot_tick(bot_id=second.pk)
    assert Bot.objects.get(pk=second.pk).status == Bot.Status.STOPPED
    first_orders = [cid for cid in ledger_open_ids(sim, acc.uid) if cid.startswith(f"sk{first.pk}g")]
    assert first_orders

    run = stop_run_continue(run_id=stop_run_get().id)
    assert run.marked == 0
    assert ledger_open_ids(sim, acc.uid) == []
    # the run finished the stop of the bot it had marked (a spot bot keeping its coins, nothing
    # left open): no tick queued for either, one line of each kind, no hold left on either
    assert queued == [] and Bot.objects.get(pk=first.pk).status == Bot.Status.STOPPED
    assert BotEvent.objects.filter(bot=first, data__code="stopping").count() == 1
    assert BotEvent.objects.filter(bot=first, data__code="stopped").count() == 1
    assert not cache.get(HOLD_KEY.format(second.pk)) and not cache.get(HOLD_KEY.format(first.pk))


def test_the_run_stops_spot_bots_that_keep_their_coins_itself_and_queues_ticks_for_the_rest(paper, sim, monkeypatch):
    """A spot bot that keeps its coins and has no row left open needs nothing more from the
    exchange once the run has cancelled its orders and read its executions: the run stops it
    (no stop tick, 700 of them held the worker for ~30 s at stop all of 1,000 bots). A bot that
    sells its coins, and one whose lease a running tick holds, get their stop ticks."""
    from bots.services import stop_run as stop_run_module

    account, acc = paper
    kept = _launch(account)
    sells = _launch(account, lower_price="52000", on_stop="sell_base")
    busy = _launch(account, lower_price="51000")
    Bot.objects.filter(pk=busy.pk).update(
        lease_owner="a running tick", lease_until=timezone.now() + timedelta(minutes=1)
    )
    queued: list[tuple[int, dict]] = []
    monkeypatch.setattr(stop_run_module, "enqueue_tick", lambda bot_id, **kwargs: queued.append((bot_id, kwargs)))

    bots_stop_all(actor=UserFactory(is_superuser=True), reason="incident")
    requests = Counter(sim.sim.requests_by_path)
    run = stop_run_continue(run_id=stop_run_get().id)
    assert run.marked == 3 and run.failures == 0
    assert ledger_open_ids(sim, acc.uid) == []
    assert sorted(queued) == sorted(
        [
            (sells.pk, {"urgent": True, "held": True, "swept": True}),
            (busy.pk, {"urgent": True, "held": True, "swept": True}),
        ]
    )
    # the run's own requests: one open-orders read, the batch cancels, one executions read
    spent = Counter(sim.sim.requests_by_path) - requests
    assert spent["/v5/order/realtime"] == 1 and spent["/v5/execution/list"] == 1, spent

    kept.refresh_from_db()
    assert kept.status == Bot.Status.STOPPED and kept.stopped_at is not None and kept.stop_code == "halt"
    line = BotEvent.objects.get(bot=kept, data__code="stopped")
    assert line.message == "Stopped: incident. All orders cancelled." and line.data["params"]["reason_code"] == "halt"
    assert not Order.objects.filter(bot=kept, status__in=Order.OPEN_STATUSES).exists()
    assert not cache.get(HOLD_KEY.format(kept.pk))  # its owner may start it again at once
    for bot in (sells, busy):  # left to their stop ticks, still held from beat
        assert Bot.objects.get(pk=bot.pk).status == Bot.Status.STOPPING and cache.get(HOLD_KEY.format(bot.pk))
    progress = stop_run_progress(stop_run_get())
    assert progress["stopped"] == 1 and progress["remaining"] == 2 and progress["orders_open"] == 0

    Bot.objects.filter(pk=busy.pk).update(lease_owner="", lease_until=None)  # that tick ended
    for bot in (sells, busy):
        bot_tick_task(bot.pk, urgent=True, held=True, swept=True)
        assert Bot.objects.get(pk=bot.pk).status == Bot.Status.STOPPED
        assert BotEvent.objects.filter(bot=bot, data__code__in=["stopped", "stopped_closed"]).count() == 1
    # a retried run finds nobody to stop and stops nobody twice
    stop_run_continue(run_id=run.id)
    assert BotEvent.objects.filter(bot=kept, data__code="stopped").count() == 1


def test_the_worker_run_ticks_the_stop_ticks_itself_and_every_bot_is_stopped_when_it_ends(
    paper, sim, monkeypatch, transactional_db
):
    """The control worker's run ticks the bots it could not finish itself on its own threads,
    as each account's cancels are done: nothing waits for the runtime worker's two processes (at
    stop all of 1,000 bots the queued stop ticks took 280 ms each and held both for 50 s). When
    the task ends every bot is stopped, its coins sold at market, and no hold is left."""
    from bots.services import stop_run as stop_run_module

    account, acc = paper
    bots = [_launch(account, on_stop="sell_base"), _launch(account, lower_price="52000", on_stop="sell_base")]
    queued: list[int] = []
    monkeypatch.setattr(stop_run_module, "enqueue_tick", lambda bot_id, **kwargs: queued.append(bot_id))
    monkeypatch.setattr(bots_tasks, "tick_enqueue", lambda bot_id, **kwargs: queued.append(bot_id))

    bots_stop_all(actor=UserFactory(is_superuser=True), reason="incident")
    bots_tasks.stop_run_task(stop_run_get().id)  # as the control worker runs it

    assert queued == []
    assert set(Bot.objects.filter(pk__in=[b.pk for b in bots]).values_list("status", flat=True)) == {"stopped"}
    assert ledger_open_ids(sim, acc.uid) == []
    for bot in bots:  # the coins its launch bought were sold at market, and its log says so
        sale = Order.objects.get(bot=bot, purpose=Order.Purpose.CLOSE)
        assert sale.status == Order.Status.FILLED and Trade.objects.filter(order=sale).exists()
        line = BotEvent.objects.get(bot=bot, data__code="stopped_closed")
        assert line.message.startswith("Stopped: incident")
        assert not cache.get(HOLD_KEY.format(bot.pk))
    progress = stop_run_progress(stop_run_get())
    assert progress["stopped"] == 2 and progress["orders_open"] == 0 and progress["finished_at"]


def test_a_stop_tick_that_fails_in_the_run_is_queued_for_a_worker(paper, sim, monkeypatch):
    from bots.services import stop_run as stop_run_module

    account, _acc = paper
    bot = _launch(account, on_stop="sell_base")
    queued: list[tuple[int, dict]] = []
    monkeypatch.setattr(stop_run_module, "enqueue_tick", lambda bot_id, **kwargs: queued.append((bot_id, kwargs)))

    def tick(bot_id, **kwargs):
        raise RuntimeError("database went away")

    bots_stop_all(actor=UserFactory(is_superuser=True), reason="incident")
    stop_run_continue(run_id=stop_run_get().id, tick=tick)
    assert queued == [(bot.pk, {"urgent": True, "held": True, "swept": True})]
    assert Bot.objects.get(pk=bot.pk).status == Bot.Status.STOPPING and cache.get(HOLD_KEY.format(bot.pk))


def test_a_tick_sending_when_operators_halt_trading_sends_no_more_grid_orders(paper, sim):
    """"Stop all" halts trading when the operator presses it; its run marks the bots stopping a
    few seconds later. A tick already sending its pending rows in between (a backlog after an
    exchange fault) sends nothing more: at stop all of 1,000 bots five grid orders went out in
    those seconds. The rows stay pending, never sent, and the stop cancels them."""
    from bots.services.tick_context import still_running
    from trading.services import orders_send_pending

    account, acc = paper
    bot = _launch(account)
    open_before = ledger_open_ids(sim, acc.uid)
    row = Order.objects.create(  # a counter order the tick wrote before the halt, not sent yet
        bot=bot,
        user=bot.user,
        symbol=bot.symbol,
        client_order_id=grid_order_id(bot.pk, bot.generation, 0, Side.BUY, 7),
        level=0,
        side=Side.BUY,
        price=Decimal("50000"),
        qty=Decimal("0.001"),
        status=Order.Status.PENDING,
    )
    client = client_for_account(account)
    bots_stop_all(actor=UserFactory(is_superuser=True), reason="incident")  # the run has not started
    assert Bot.objects.get(pk=bot.pk).status == Bot.Status.RUNNING
    assert orders_send_pending(bot=bot, client=client, still_running=still_running(bot), batch=True) == []
    assert ledger_open_ids(sim, acc.uid) == open_before
    row.refresh_from_db()
    assert row.status == Order.Status.PENDING and row.send_attempts == 0 and row.sent_at is None

    stop_run_continue(run_id=stop_run_get().id)
    row.refresh_from_db()
    assert row.status == Order.Status.CANCELLED and row.sent_at is None
    assert Bot.objects.get(pk=bot.pk).status == Bot.Status.STOPPED and ledger_open_ids(sim, acc.uid) == []
