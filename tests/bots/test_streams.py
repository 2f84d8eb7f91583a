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


def bybit_execution(link: str, **fields) -> dict:
    """One trade execution as Bybit's private stream (and the simulator's) pushes it."""
    return {
        "category": "spot",
        "symbol": "BTCUSDT",
        "execId": "c0ffee-1",
        "orderId": "1900000000000000001",
        "orderLinkId": link,
        "side": "Buy",
        "execPrice": "54000",
        "execQty": "0.0185",
        "execFee": "0.0000185",
        "feeCurrency": "BTC",
        "execType": "Trade",
        "execTime": "1767225600000",
        "isMaker": True,
        "seq": 42,
        **fields,
    }


@pytest.mark.django_db
def test_a_bybit_execution_is_handed_to_the_fills_tick_as_the_tick_reads_it(supervisor):
    from exchanges.client import Fill

    pushed = []
    supervisor.enqueue_fills = lambda bot_id, fills: pushed.append((bot_id, fills))
    bot = BotFactory(status=Bot.Status.RUNNING)
    supervisor.refresh()
    supervisor.ticks.clear()
    link = f"sk{bot.pk}g1o3B1"
    supervisor.opened[0].on_event("execution", [bybit_execution(link), bybit_execution("manual-order")])
    assert supervisor.ticks == []
    ((bot_id, fills),) = pushed
    (fill,) = [Fill.from_wire(item) for item in fills]
    assert bot_id == bot.pk and fill.client_order_id == link and fill.exec_id == "c0ffee-1"
    assert (fill.price, fill.qty, fill.fee, fill.fee_coin, fill.seq) == (
        Decimal("54000"),
        Decimal("0.0185"),
        Decimal("0.0000185"),
        "BTC",
        42,
    )
    assert fill.executed_at.isoformat() == "2026-01-01T00:00:00+00:00"


@pytest.mark.django_db
def test_an_execution_the_tick_cannot_take_as_it_is_asks_for_a_tick_that_reads(supervisor):
    """No fee coin (REST's read knows it from the instrument), another kind of execution, or one
    such item among the bot's executions in a message: the plain fill's tick, which reads."""
    pushed = []
    supervisor.enqueue_fills = lambda bot_id, fills: pushed.append((bot_id, fills))
    bot = BotFactory(status=Bot.Status.RUNNING)
    supervisor.refresh()
    supervisor.ticks.clear()
    stream, link = supervisor.opened[0], f"sk{bot.pk}g1o3B1"
    stream.on_event("execution", [bybit_execution(link, feeCurrency="")])
    stream.on_event("execution", [bybit_execution(link, execType="AdlTrade")])
    stream.on_event("execution", [bybit_execution(link), bybit_execution(link, execId="")])
    assert pushed == [] and supervisor.ticks == [bot.pk] * 3


@pytest.mark.django_db
def test_another_venues_execution_message_asks_for_a_tick_that_reads(supervisor):
    from exchanges.models import Exchange

    pushed = []
    supervisor.enqueue_fills = lambda bot_id, fills: pushed.append((bot_id, fills))
    bot = BotFactory(status=Bot.Status.RUNNING)
    okx, _ = Exchange.objects.get_or_create(code="okx", defaults={"name": "OKX", "is_active": True})
    type(bot.exchange_account).objects.filter(pk=bot.exchange_account_id).update(exchange=okx)
    supervisor.refresh()
    supervisor.ticks.clear()
    supervisor.opened[0].on_event("execution", [bybit_execution(f"sk{bot.pk}g1o3B1")])
    assert pushed == [] and supervisor.ticks == [bot.pk]
