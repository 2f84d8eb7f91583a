"""The streams supervisor: one stream per account with running bots, a fill event enqueues the
bot's tick, a (re)connect enqueues a resync, and a refused stream is reopened, not kept dead."""

from decimal import Decimal

import pytest

from bots.models import Bot, BotPosition
from bots.streams import StreamsSupervisor
from tests.factories import BotFactory


class FakeStream:
    def __init__(self, account, on_event, on_reconnect):
        self.account, self.on_event, self.on_reconnect = account, on_event, on_reconnect
        self.auth_failed = False
        self.closed = False

    def close(self):
        self.closed = True


@pytest.fixture
def supervisor():
    opened, ticks = [], []

    def factory(account, on_event, on_reconnect):
        stream = FakeStream(account, on_event, on_reconnect)
        opened.append(stream)
        return stream

    sup = StreamsSupervisor(enqueue=ticks.append, stream_factory=factory)
    sup.opened, sup.ticks = opened, ticks
    return sup


@pytest.mark.django_db
def test_a_fill_event_enqueues_only_its_bots_tick(supervisor):
    bot = BotFactory(status=Bot.Status.RUNNING)
    BotFactory(status=Bot.Status.STOPPED)
    supervisor.refresh()
    assert len(supervisor.opened) == 1 and supervisor.ticks == [bot.pk]  # the resync on open
    supervisor.ticks.clear()
    supervisor.opened[0].on_event("execution", [{"orderLinkId": f"sk{bot.pk}-1-3B1"}, {"orderLinkId": "manual-order"}])
    assert supervisor.ticks == [bot.pk]


@pytest.mark.django_db
def test_order_messages_tick_only_for_ends_without_a_trade(supervisor):
    """Our own placement coming back (New, open) and a trade's order message (Filled, closed:
    its execution message ticks) ask nothing; a cancel or a rejection nobody asked for does."""
    bot = BotFactory(status=Bot.Status.RUNNING)
    supervisor.refresh()
    supervisor.ticks.clear()
    stream = supervisor.opened[0]
    link = f"sk{bot.pk}-1-3B1"
    for state in ("New", "open", "PartiallyFilled", "Filled", "closed", "Untriggered"):
        stream.on_event("order", [{"orderLinkId": link, "orderStatus": state}])
    assert supervisor.ticks == []
    for state in ("Cancelled", "canceled", "Rejected", "Deactivated", "expired", "SomethingNew"):
        stream.on_event("order", [{"orderLinkId": link, "orderStatus": state}])
    assert supervisor.ticks == [bot.pk] * 6
    supervisor.ticks.clear()
    stream.on_event("execution", [{"orderLinkId": link, "orderStatus": "Filled"}])
    assert supervisor.ticks == [bot.pk]


@pytest.mark.django_db
def test_a_funding_settlement_enqueues_the_ticks_of_the_accounts_bots_on_its_symbol(supervisor):
    bot = BotFactory(status=Bot.Status.RUNNING, category=Bot.Category.LINEAR, symbol="BTCUSDT")
    account = bot.exchange_account
    # the same account's spot bot and linear bot on another symbol have nothing to settle
    BotFactory(status=Bot.Status.RUNNING, user=bot.user, exchange_account=account, symbol="BTCUSDT")
    ether = BotFactory(
        status=Bot.Status.RUNNING,
        user=bot.user,
        exchange_account=account,
        category=Bot.Category.LINEAR,
        symbol="ETHUSDT",
    )
    BotFactory(status=Bot.Status.RUNNING)  # another account: its stream stays quiet
    supervisor.refresh()
    supervisor.ticks.clear()
    stream = next(s for s in supervisor.opened if s.account.pk == bot.exchange_account_id)
    stream.on_event("execution", [{"orderLinkId": "", "execType": "Funding", "symbol": "BTCUSDT"}])
    assert supervisor.ticks == [bot.pk]
    supervisor.ticks.clear()
    stream.on_event(
        "execution",
        [
            {"orderLinkId": "", "execType": "Funding", "symbol": "BTCUSDT"},
            {"orderLinkId": "", "execType": "Funding", "symbol": "ETHUSDT"},
        ],
    )
    assert sorted(supervisor.ticks) == sorted([bot.pk, ether.pk])


@pytest.mark.django_db
def test_a_refused_stream_is_closed_and_reopened(supervisor):
    BotFactory(status=Bot.Status.RUNNING)
    supervisor.refresh()
    first = supervisor.opened[0]
    first.auth_failed = True
    supervisor.refresh()
    assert first.closed
    assert len(supervisor.opened) == 2 and not supervisor.opened[1].closed


@pytest.mark.django_db
def test_streams_close_when_the_last_bot_stops(supervisor):
    bot = BotFactory(status=Bot.Status.RUNNING)
    supervisor.refresh()
    Bot.objects.filter(pk=bot.pk).update(status=Bot.Status.STOPPED)
    supervisor.refresh()
    assert supervisor.opened[0].closed and supervisor.streams == {}


@pytest.mark.django_db(transaction=True)
def test_stream_threads_give_their_database_connection_back(supervisor):
    """Each venue stream calls back on its own thread; a position push writes the bot's
    position there. The streams process must not keep a PostgreSQL connection per account
    (at 100+ accounts it would exhaust the server): the thread's connection is closed after each
    callback, and the position is still recorded."""
    import threading

    from django.db import connections

    bots = [BotFactory(status=Bot.Status.RUNNING, category=Bot.Category.LINEAR) for _ in range(3)]
    supervisor.refresh()
    held = []

    def push(stream):
        push_item = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "size": "0.01", "avgPrice": "50000"}
        stream.on_event("position.linear", [push_item])
        held.append(connections["default"].connection is not None)

    threads = [threading.Thread(target=push, args=(stream,)) for stream in supervisor.opened]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert held == [False, False, False]
    assert sorted(BotPosition.objects.filter(bot__in=bots).values_list("size", flat=True)) == [Decimal("0.01")] * 3


def test_a_fills_tick_runs_in_the_streams_process_and_a_waiting_one_is_not_doubled():
    """The counter order leaves from the process that heard of the fill: the tick runs on the
    streams process's threads, not queued for a worker. Messages for a bot whose tick has not
    started yet ask for nothing more (that tick reads them); once it runs, a new message asks
    for one more."""
    import threading

    from bots.streams import InlineTicks

    started, release = threading.Event(), threading.Event()
    ran, queued = [], []

    def tick(bot_id, *, urgent, queued_at):
        assert urgent and queued_at
        ran.append((bot_id, threading.current_thread().name))
        if bot_id == 1:
            started.set()
            release.wait(10)

    inline = InlineTicks(threads=1, fallback=queued.append, tick=tick, backlog=10)
    try:
        inline(1)
        assert started.wait(10)
        inline(2)  # waits behind bot 1's tick on the one thread
        inline(2)  # already waiting: not asked twice
        inline(1)  # bot 1's tick runs: a new message asks for one more
        release.set()
        inline.pool.shutdown(wait=True)
    finally:
        release.set()
    assert sorted(bot for bot, _ in ran) == [1, 1, 2]
    assert all(name.startswith("stream-tick") for _, name in ran)
    assert queued == []


def test_a_full_or_failing_stream_tick_goes_to_a_worker():
    """Past its backlog, and when a tick raises, the streams process queues the tick for a
    worker: a burst never piles up there and no fill's tick is lost."""
    import threading

    from bots.streams import InlineTicks

    release = threading.Event()
    queued = []

    def tick(bot_id, *, urgent, queued_at):
        if bot_id == 9:
            raise RuntimeError("database went away")
        release.wait(10)

    inline = InlineTicks(threads=1, fallback=queued.append, tick=tick, backlog=2)
    try:
        inline(1)
        inline(2)
        inline(3)  # two running or waiting already: the worker takes it
        assert queued == [3]
        release.set()
        inline.pool.shutdown(wait=True)
    finally:
        release.set()
    assert queued == [3] and inline.busy == 0 and not inline.waiting
    failing = InlineTicks(threads=1, fallback=queued.append, tick=tick, backlog=2)
    failing(9)
    failing.pool.shutdown(wait=True)
    assert queued == [3, 9] and failing.busy == 0
