"""The safety net per exchange account (bots.services.account_sync) on the Bybit twin: a quiet
pass costs two requests for all of an account's bots, a fill the stream missed is found and its
counter order placed once, executions are stored once however often passes overlap, and beat
passes reconnected, quiet and stream-less accounts at once and every account once per safety
interval; a refused key falls back to each bot's own tick."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from bots.models import AccountSync, Bot
from bots.services import bot_start, bot_tick
from bots.services.account_sync import (
    account_sync,
    accounts_due_for_sync,
    stream_reconnected,
    stream_seen,
)
from bots.services.common import PRICE_KEY
from metrics.models import BotMetrics
from tests.bots.conftest import launched
from tests.factories import BotFactory, grid_config
from trading.models import Order, Trade

pytestmark = pytest.mark.django_db


def a_pass(account):
    queued: list[int] = []
    result = account_sync(account_id=account.pk, enqueue=lambda bot_id, _account_id: queued.append(bot_id))
    assert not result.failed, result.failed
    return result, queued


def spent_on(sim, fn):
    before = Counter(sim.sim.requests_by_path)
    out = fn()
    return out, Counter(sim.sim.requests_by_path) - before


@pytest.fixture
def three_bots(paper, sim):
    account, acc = paper
    sim.control.set_price("BTCUSDT", "55000")
    bots = [
        launched(account),  # lines every 1000: buys from 54000 down
        launched(account, grid_count=20),  # lines every 500: its top buy at 54500
        launched(account, lower_price="50200", upper_price="59200", grid_count=9),  # top buy 54200
    ]
    yield account, acc, bots
    sim.control.set_price("BTCUSDT", "55000")


def test_a_quiet_pass_costs_two_requests_for_every_bot_and_marks_each_reconciled(three_bots, sim):
    account, _acc, bots = three_bots
    cache.delete_many([PRICE_KEY.format("bybit", account.environment, "spot", "BTCUSDT")])
    sim.control.set_price("BTCUSDT", "55010")
    (result, queued), spent = spent_on(sim, lambda: a_pass(account))
    # one open-orders and one executions request for the whole account, none per bot; one
    # ticker read revalues every bot of the symbol
    assert spent == Counter({"/v5/order/realtime": 1, "/v5/execution/list": 1, "/v5/market/tickers": 1})
    assert queued == [] and sorted(result.reconciled) == sorted(b.pk for b in bots)
    assert all(b.reconciled_at is not None for b in Bot.objects.filter(pk__in=[b.pk for b in bots]))
    assert set(Bot.objects.filter(pk__in=[b.pk for b in bots]).values_list("last_price", flat=True)) == {
        Decimal("55010")
    }
    assert set(BotMetrics.objects.filter(bot__in=bots).values_list("last_price", flat=True)) == {Decimal("55010")}
    _, spent = spent_on(sim, lambda: a_pass(account))  # the next pass within seconds: the price is shared
    assert spent == Counter({"/v5/order/realtime": 1, "/v5/execution/list": 1})
    state = AccountSync.objects.get(exchange_account=account, category="spot")
    assert state.passed_at is not None and state.fills_seen_until is not None and state.failures == 0


def test_a_fill_the_stream_missed_is_found_and_its_counter_order_placed_once(three_bots, sim):
    account, acc, bots = three_bots
    filled_bot = bots[1]
    top_buy = Order.objects.get(bot=filled_bot, purpose="grid", side="Buy", price=Decimal("54500"))
    sim.control.set_price("BTCUSDT", "54400")  # only the second bot has a buy at or above it; no stream runs
    (_, queued), spent = spent_on(sim, lambda: a_pass(account))
    assert queued == [filled_bot.pk] and spent["/v5/order/realtime"] == spent["/v5/execution/list"] == 1
    assert sum(spent.values()) - spent["/v5/market/tickers"] == 2  # the others' price is shared, at most one read
    _, queued_again = a_pass(account)  # the tick has not run yet: still news, still only that bot
    assert queued_again == [filled_bot.pk]
    bot_tick(bot_id=filled_bot.pk)  # the queued tick (the unchanged path)
    counter = Order.objects.get(bot=filled_bot, purpose="grid", side="Sell", level=top_buy.level + 1)
    assert counter.status == Order.Status.OPEN
    result, queued_after = a_pass(account)
    assert queued_after == [] and filled_bot.pk in result.reconciled
    ledger = sim.control.ledger(acc.uid)
    open_ids = [o["orderLinkId"] for o in ledger["open_orders"]]
    assert open_ids.count(counter.client_order_id) == 1 and len(open_ids) == len(set(open_ids))
    trades = Trade.objects.filter(bot__in=bots)
    theirs = {e["execId"] for e in ledger["executions"] if e["execType"] != "Funding"}
    assert sorted(t.exec_id for t in trades) == sorted(theirs)  # every execution stored, each once
    assert Trade.objects.filter(order=top_buy).count() >= 1


def test_executions_are_stored_once_across_overlapping_passes(three_bots, sim):
    account, acc, bots = three_bots
    sim.control.set_price("BTCUSDT", "53900")  # every bot's top buy fills
    for _ in range(3):
        _, queued = a_pass(account)
        for bot_id in sorted(set(queued)):
            bot_tick(bot_id=bot_id)
    _, queued = a_pass(account)  # the overlap reads the same executions again: stored, not news
    assert queued == []
    ledger = sim.control.ledger(acc.uid)
    theirs = Counter(e["execId"] for e in ledger["executions"] if e["execType"] != "Funding")
    ours = Counter(Trade.objects.filter(bot__in=bots).values_list("exec_id", flat=True))
    assert ours == theirs and set(ours.values()) == {1}
    assert all(Trade.objects.filter(bot=b).exists() for b in bots)


def test_a_row_the_open_list_no_longer_shows_ticks_its_bot(three_bots, sim):
    account, _acc, bots = three_bots
    gone = Order.objects.filter(bot=bots[2], status=Order.Status.OPEN).first()
    Order.objects.filter(pk=gone.pk).update(client_order_id=gone.client_order_id + "x")  # unknown to the exchange
    _, queued = a_pass(account)
    # the renamed row is not listed; the real order is listed without a row (an orphan)
    assert queued == [bots[2].pk]


def test_a_refused_key_falls_back_to_each_bots_own_tick(paper, sim):
    account, _acc = paper
    bots = [launched(account), launched(account, grid_count=20)]
    account.api_secret = "wrong-secret-wrong-secret-wrong-secret"
    account.save()
    queued: list[int] = []
    result = account_sync(account_id=account.pk, enqueue=lambda bot_id, _a: queued.append(bot_id))
    assert result.failed and sorted(queued) == sorted(b.pk for b in bots)
    assert AccountSync.objects.get(exchange_account=account, category="spot").failures == 1
    bot_tick(bot_id=bots[0].pk)  # the bot's own tick meets the refusal and its owner is told
    assert Bot.objects.get(pk=bots[0].pk).status != Bot.Status.RUNNING


# --- which accounts beat passes, and which bots still tick by themselves --------------------------


def test_beat_passes_reconnected_quiet_and_stream_less_accounts_at_once(settings):
    from exchanges.models import Exchange
    from tests.factories import ExchangeAccountFactory

    settings.SETKA_SAFETY_SECONDS = 30
    settings.SETKA_BOT_TICK_SECONDS = 5
    now = timezone.now()
    healthy, quiet, reconnected, stale = (BotFactory(status=Bot.Status.RUNNING) for _ in range(4))
    mexc = Exchange.objects.get_or_create(code="mexc", defaults={"name": "MEXC", "is_active": True})[0]
    streamless = BotFactory(status=Bot.Status.RUNNING, exchange_account=ExchangeAccountFactory(exchange=mexc))
    never = BotFactory(status=Bot.Status.RUNNING)
    BotFactory(status=Bot.Status.STOPPED)  # no running bot: never passed
    for bot in (healthy, quiet, reconnected, streamless):
        AccountSync.objects.create(exchange_account=bot.exchange_account, category="spot", passed_at=now)
    AccountSync.objects.create(
        exchange_account=stale.exchange_account, category="spot", passed_at=now - timedelta(seconds=31)
    )
    t = now.timestamp()
    stream_seen(account_ids=[healthy.exchange_account_id, stale.exchange_account_id, never.exchange_account_id], at=t)
    stream_seen(account_ids=[quiet.exchange_account_id], at=t - 11)
    stream_reconnected(account_id=reconnected.exchange_account_id, at=t + 0.5)
    due = set(accounts_due_for_sync(now=now + timedelta(seconds=1)))
    assert due == {
        quiet.exchange_account_id,
        reconnected.exchange_account_id,
        streamless.exchange_account_id,
        stale.exchange_account_id,
        never.exchange_account_id,
    }
    # Every account is due three beats before its safety interval ends, so beat's queueing and the
    # worker draining the passes due together still land inside it: 15 s after the last pass of a
    # 30 s interval.
    stream_seen(account_ids=[healthy.exchange_account_id], at=t + 14)  # its stream still talking
    assert healthy.exchange_account_id not in accounts_due_for_sync(now=now + timedelta(seconds=14))
    assert healthy.exchange_account_id in accounts_due_for_sync(now=now + timedelta(seconds=16))


def test_the_streams_supervisor_passes_a_reconnected_account_instead_of_ticking_its_bots():
    from bots.streams import StreamsSupervisor

    bots = [BotFactory(status=Bot.Status.RUNNING)]
    bots.append(BotFactory(status=Bot.Status.RUNNING, exchange_account=bots[0].exchange_account, user=bots[0].user))
    ticks: list[int] = []
    passes: list[int] = []

    class Stream:
        auth_failed = False

        def is_connected(self):
            return True

        def close(self):
            pass

    sup = StreamsSupervisor(
        enqueue=ticks.append, enqueue_sync=passes.append, stream_factory=lambda account, on_event, on_rec: Stream()
    )
    sup.refresh()
    assert passes == [bots[0].exchange_account_id] and ticks == []  # opening resyncs with one pass
    due = accounts_due_for_sync(now=timezone.now())
    assert bots[0].exchange_account_id in due  # reconnected (opened) and never passed
    AccountSync.objects.create(exchange_account=bots[0].exchange_account, category="spot", passed_at=timezone.now())
    sup.refresh()  # the heartbeat: connected, nothing new
    assert bots[0].exchange_account_id not in accounts_due_for_sync(now=timezone.now())


def test_only_bots_that_need_their_own_tick_are_ticked_by_beat(settings):
    from bots.selectors import bot_ids_due_for_fallback_tick

    settings.SETKA_SAFETY_SECONDS = 30
    settings.SETKA_BOT_REFRESH_SECONDS = 600
    now = timezone.now()
    in_line = BotFactory(status=Bot.Status.RUNNING, last_tick_at=now - timedelta(minutes=5), reconciled_at=now)
    BotFactory(status=Bot.Status.RUNNING, last_tick_at=now, reconciled_at=None)
    BotFactory(status=Bot.Status.RUNNING, last_tick_at=now, config=grid_config(stop_loss_price=None))
    failing = BotFactory(
        status=Bot.Status.RUNNING,
        last_tick_at=now - timedelta(seconds=100),
        reconciled_at=now - timedelta(seconds=91),
    )
    stale_refresh = BotFactory(status=Bot.Status.RUNNING, last_tick_at=now - timedelta(minutes=11), reconciled_at=now)
    target = BotFactory(status=Bot.Status.RUNNING, last_tick_at=now, config=grid_config(stop_loss_price="45000"))
    starting = BotFactory(status=Bot.Status.STARTING, last_tick_at=now)
    new = BotFactory(status=Bot.Status.RUNNING)
    due = {bot_id for bot_id, _ in bot_ids_due_for_fallback_tick(now=now)}
    assert due == {failing.pk, stale_refresh.pk, target.pk, starting.pk, new.pk}
    assert in_line.pk not in due


def test_the_longest_waiting_accounts_are_passed_first(settings):
    settings.SETKA_SAFETY_SECONDS = 30
    now = timezone.now()
    bots = [BotFactory(status=Bot.Status.RUNNING) for _ in range(3)]
    for bot, ago in zip(bots, (20, 45, 30), strict=True):
        AccountSync.objects.create(
            exchange_account=bot.exchange_account, category="spot", passed_at=now - timedelta(seconds=ago)
        )
    due = accounts_due_for_sync(now=now)
    assert due == [bots[1].exchange_account_id, bots[2].exchange_account_id, bots[0].exchange_account_id]


def test_refresh_ticks_after_a_mass_launch_are_spread_over_the_beats(settings):
    """Every bot of a mass launch falls due for its full tick in the same beat; beat queues a
    budget of them per beat (twice the running bots' share, at least 10), the longest-waiting
    first, while bots that need their tick now are never held back by it."""
    from bots.selectors import bot_ids_due_for_fallback_tick

    settings.SETKA_SAFETY_SECONDS = 30
    settings.SETKA_BOT_TICK_SECONDS = 5
    settings.SETKA_BOT_REFRESH_SECONDS = 300
    now = timezone.now()
    launched = [
        BotFactory(status=Bot.Status.RUNNING, last_tick_at=now - timedelta(seconds=400 + i), reconciled_at=now)
        for i in range(25)
    ]
    starting = [BotFactory(status=Bot.Status.STARTING, last_tick_at=now) for _ in range(12)]
    due = [bot_id for bot_id, _ in bot_ids_due_for_fallback_tick(now=now)]
    assert set(b.pk for b in starting) <= set(due)  # not held back by the budget
    refreshed = [pk for pk in due if pk in {b.pk for b in launched}]
    assert refreshed == [b.pk for b in reversed(launched)][:3]  # oldest full tick first
    Bot.objects.filter(pk__in=refreshed).update(last_tick_at=now)
    Bot.objects.filter(pk__in=[b.pk for b in starting]).update(status=Bot.Status.RUNNING, reconciled_at=now)
    nxt = [bot_id for bot_id, _ in bot_ids_due_for_fallback_tick(now=now)]
    assert len(nxt) == 3 and not set(nxt) & set(refreshed)  # the next beat takes the next three


# --- a venue whose reads need a symbol ------------------------------------------------------------


@pytest.fixture(scope="module")
def mexc_twin():
    from exchanges.simulator.testing import running_simulator

    with running_simulator(venue="mexc", control_token="acctrec-mexc-token") as handle:
        yield handle


def test_a_venue_that_needs_a_symbol_costs_one_request_per_symbol_not_per_bot(settings, mexc_twin):
    from exchanges.models import Exchange, ExchangeAccount
    from tests.factories import ExchangeAccountFactory

    settings.SETKA_VENUE_SIMULATOR_URLS = {
        **getattr(settings, "SETKA_VENUE_SIMULATOR_URLS", {}),
        "mexc": mexc_twin.base_url,
    }
    mexc_twin.control.set_price("BTCUSDT", "55000")
    mexc_twin.control.set_price("ETHUSDT", "3000")
    acc = mexc_twin.control.create_account(funding={"USDT": "10000"})
    mexc = Exchange.objects.get_or_create(code="mexc", defaults={"name": "MEXC", "is_active": True})[0]
    account = ExchangeAccountFactory(
        exchange=mexc, environment=ExchangeAccount.Environment.PAPER, api_key=acc.api_key, api_secret=acc.api_secret
    )
    eth = {"lower_price": "2500", "upper_price": "3500", "grid_count": 5, "investment": "500"}
    bots = [launched(account, grid_count=5, investment="500"), launched(account, grid_count=4, investment="500")]
    for _ in range(2):
        bot = BotFactory(user=account.user, exchange_account=account, symbol="ETHUSDT", config=grid_config(**eth))
        bot_start(bot=bot)
        bot_tick(bot_id=bot.pk)
        bots.append(bot)
    assert set(Bot.objects.filter(pk__in=[b.pk for b in bots]).values_list("status", flat=True)) == {"running"}

    before = Counter(mexc_twin.sim.requests_by_path)
    result, queued = a_pass(account)
    spent = Counter(mexc_twin.sim.requests_by_path) - before
    # four bots on two symbols: two open-orders and two executions requests, none per bot
    assert (spent["/api/v3/openOrders"], spent["/api/v3/myTrades"]) == (2, 2)
    assert queued == [] and sorted(result.reconciled) == sorted(b.pk for b in bots)


def test_beat_queues_one_pass_per_due_account_on_its_shard_queue(settings, monkeypatch):
    import bots.services.account_sync as service
    from bots.tasks import account_sync_task, accounts_sync_due_task

    settings.SETKA_SHARDS = 2
    bot = BotFactory(status=Bot.Status.RUNNING)
    account_id = bot.exchange_account_id
    sent: list[tuple[int, str | None]] = []
    monkeypatch.setattr(account_sync_task, "apply_async", lambda args, **kw: sent.append((args[0], kw.get("queue"))))
    assert accounts_sync_due_task() == 1
    assert sent == [(account_id, f"ticks.{account_id % 2}")]  # next to the account's ticks and stream
    assert accounts_sync_due_task() == 0  # queued and not started yet: no pile-up
    monkeypatch.setattr(service, "account_sync", lambda **kwargs: None)
    account_sync_task.run(account_id)  # the queued pass starts
    assert accounts_sync_due_task() == 1
    settings.SETKA_ACCOUNT_SYNC = False  # the old safety net: beat ticks every bot instead
    account_sync_task.run(account_id)
    assert accounts_sync_due_task() == 0


def test_setup_schedules_adds_the_account_pass_to_beat(settings):
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    settings.SETKA_BOT_TICK_SECONDS = 4
    call_command("setup_schedules")
    task = PeriodicTask.objects.get(task="bots.tasks.accounts_sync_due_task")
    assert task.enabled and task.interval.every == 4


def test_a_fill_the_stream_dropped_is_found_by_one_pass_after_the_reconnect(three_bots, sim, settings):
    """The real Bybit stream on the twin: its execution and order messages are dropped, then
    the socket drops; the reconnect queues ONE pass of the account (no tick per bot), beat sees
    the account as reconnected since its last pass, and the pass ticks only the bot that filled."""
    import time

    from bots.streams import StreamsSupervisor

    settings.SETKA_SAFETY_SECONDS = 30
    account, _acc, bots = three_bots
    a_pass(account)  # passed just now: due again only when something happens
    passes: list[int] = []
    ticks: list[int] = []
    supervisor = StreamsSupervisor(enqueue=ticks.append, enqueue_sync=passes.append)
    supervisor.refresh()
    try:
        assert passes == [account.pk] and ticks == []  # opening the stream resyncs with one pass
        passes.clear()
        sim.control.inject_fault("ws_drop", path="execution")
        sim.control.inject_fault("ws_drop", path="order")
        sim.control.set_price("BTCUSDT", "54400")  # the second bot's top buy fills; nobody hears it
        sim.control.clear_faults()
        sim.control.inject_fault("ws_disconnect", channel="private")
        deadline = time.monotonic() + 15
        while not passes and time.monotonic() < deadline:
            time.sleep(0.05)
        assert passes == [account.pk] and ticks == []  # the messages were dropped; one pass, no tick per bot
        assert account.pk in accounts_due_for_sync()  # and beat would pass it too
        _, queued = a_pass(account)
        assert queued == [bots[1].pk]
        bot_tick(bot_id=bots[1].pk)
        _, queued = a_pass(account)
        assert queued == [] and account.pk not in accounts_due_for_sync()
    finally:
        supervisor.stop()
        for account_id in list(supervisor.streams):
            supervisor._close(account_id)


def test_a_fills_tick_takes_the_shared_price_and_a_full_tick_reads_and_shares_a_fresh_one(three_bots, sim):
    account, _acc, bots = three_bots
    filled_bot = bots[1]
    key = PRICE_KEY.format("bybit", account.environment, "spot", "BTCUSDT")
    sim.control.set_price("BTCUSDT", "54400")  # the second bot's top buy (54500) fills
    cache.set(key, "54450", 5)  # what another process read a moment ago
    result, spent = spent_on(sim, lambda: bot_tick(bot_id=filled_bot.pk, urgent=True))
    # the counter order goes without a ticker read of its own (one request less before it)
    assert result.placed == 1 and result.new_trades == 1
    assert not spent["/v5/market/tickers"], spent
    filled_bot.refresh_from_db()
    assert filled_bot.last_price == Decimal("54450")
    _, spent = spent_on(sim, lambda: bot_tick(bot_id=filled_bot.pk))  # beat's full tick: a fresh price
    assert spent["/v5/market/tickers"] == 1
    filled_bot.refresh_from_db()
    assert filled_bot.last_price == Decimal("54400") and cache.get(key) == "54400"
