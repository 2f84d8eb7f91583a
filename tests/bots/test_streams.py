"""The streams supervisor: one stream per account with running bots, a fill event enqueues the
bot's tick, a (re)connect enqueues a resync, and a refused stream is reopened, not kept dead."""

import pytest

from bots.models import Bot
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
def test_a_funding_settlement_enqueues_the_ticks_of_the_accounts_bots(supervisor):
    bot = BotFactory(status=Bot.Status.RUNNING, category=Bot.Category.LINEAR)
    BotFactory(status=Bot.Status.RUNNING)  # another account: its stream stays quiet
    supervisor.refresh()
    supervisor.ticks.clear()
    stream = next(s for s in supervisor.opened if s.account.pk == bot.exchange_account_id)
    stream.on_event("execution", [{"orderLinkId": "", "execType": "Funding", "symbol": "BTCUSDT"}])
    assert supervisor.ticks == [bot.pk]


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
