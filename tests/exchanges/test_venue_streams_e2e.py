"""A grid bot on the OKX, Binance and KuCoin twins learns of its fill from the venue's private stream:
the streams supervisor (the real one, with the real factory and ccxt.pro stream) enqueues the
bot's tick the moment the fill is pushed, and that tick stores the trade well before the 5 s
safety tick would have. No beat runs here: a tick happens only when the stream asks for one.
The same fill met again by the REST reconciliation of a later tick is not stored twice. MEXC
(protobuf stream) falls back to REST: its stream pushes nothing and the safety tick stores it."""

from __future__ import annotations

import queue
import time

import pytest

from bots.models import Bot
from bots.services import bot_start, bot_tick
from bots.streams import StreamsSupervisor
from exchanges import services
from exchanges.factory import RestOnlyStream, stream_for_account
from tests.exchanges.conftest import CONTROL_TOKEN
from tests.factories import BotFactory, grid_config
from trading.models import Order, Trade

SAFETY_TICK_SECONDS = 5.0
pytestmark = pytest.mark.django_db(transaction=True)  # the stream's thread reads the bot's rows


@pytest.fixture
def twins(settings, venue_simulators):
    twins = {code: venue_simulators[code] for code in ("okx", "binance", "mexc", "kucoin")}
    settings.SETKA_VENUE_SIMULATOR_URLS = {code: twin.base_url for code, twin in twins.items()}
    settings.SETKA_SIMULATOR_CONTROL_TOKEN = CONTROL_TOKEN
    settings.SETKA_EXCHANGE_TIMEOUT = 2.0
    for twin in twins.values():
        twin.control.clear_faults()
        twin.control.set_price("BTCUSDT", "55000")
    return twins


def launch(user, venue_code):
    account = services.exchange_account_create_paper(user=user, exchange=venue_code)
    bot = BotFactory(user=user, exchange_account=account, config=grid_config())
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, (bot.last_error, list(bot.events.values_list("message", flat=True)))
    return bot


def drain(ticks: queue.Queue) -> None:
    while True:
        try:
            ticks.get_nowait()
        except queue.Empty:
            return


@pytest.mark.parametrize("venue_code", ["okx", "binance", "kucoin"])
def test_a_pushed_fill_reaches_the_bots_trades_before_the_safety_tick(twins, user, venue_code):
    twin = twins[venue_code]
    bot = launch(user, venue_code)
    ticks: queue.Queue = queue.Queue()
    supervisor = StreamsSupervisor(enqueue=ticks.put)  # the worker's queue; this thread is the worker
    try:
        supervisor.refresh()
        stream = supervisor.streams[bot.exchange_account_id]
        assert not isinstance(stream, RestOnlyStream) and stream.wait_ready(10)
        drain(ticks)  # the resync tick queued on open
        top_buy = Order.objects.filter(bot=bot, purpose="grid", side="Buy").order_by("-price").first()
        assert not Trade.objects.filter(order=top_buy).exists()

        started = time.monotonic()
        twin.control.set_price("BTCUSDT", top_buy.price - 10)
        ticked = ticks.get(timeout=SAFETY_TICK_SECONDS)  # only the stream can ask for this tick
        assert ticked == bot.pk
        bot_tick(bot_id=bot.pk, urgent=True)
        drain(ticks)
        elapsed = time.monotonic() - started
        trade = Trade.objects.get(order=top_buy)
        assert elapsed < SAFETY_TICK_SECONDS, elapsed
        top_buy.refresh_from_db()
        assert top_buy.status == "filled" and trade.qty == top_buy.qty

        bot_tick(bot_id=bot.pk)  # the safety tick's REST reconciliation meets the same fill
        assert Trade.objects.filter(order=top_buy).count() == 1
        assert Trade.objects.filter(exec_id=trade.exec_id).count() == 1
    finally:
        supervisor.stop()
        for account_id in list(supervisor.streams):
            supervisor._close(account_id)  # noqa: SLF001 - what run_forever does on its way out


def test_mexc_falls_back_to_rest_polling(twins, user):
    bot = launch(user, "mexc")
    events = []
    stream = stream_for_account(bot.exchange_account, lambda topic, data: events.append(topic), lambda: None)
    assert isinstance(stream, RestOnlyStream) and stream.wait_ready(0)
    top_buy = Order.objects.filter(bot=bot, purpose="grid", side="Buy").order_by("-price").first()
    twins["mexc"].control.set_price("BTCUSDT", top_buy.price - 10)
    assert events == []  # nothing is pushed for MEXC...
    bot_tick(bot_id=bot.pk)  # ...the periodic tick's REST reconciliation stores the fill
    assert Trade.objects.filter(order=top_buy).count() == 1
    bot_tick(bot_id=bot.pk)
    assert Trade.objects.filter(order=top_buy).count() == 1
    stream.close()
