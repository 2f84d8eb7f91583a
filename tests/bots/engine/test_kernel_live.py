"""The backtest kernel == a live bot on the simulator, on the same real candles.

The live bot is the real thing: the services (bot_start, bot_tick: reconcile, store fills,
metrics, targets, plan_tick, write, send) trading through the real Bybit adapter over HTTP with
the simulator on 127.0.0.1. The simulator walks each candle's path with its own code
(exchanges/simulator/feed.py: set_price point by point with the candle's volume share, as its
replay does) and the bot ticks after every point that filled something, so it answers each fill
before the price moves on, as the backtest assumes. The kernel then replays the same candles:
the exchange's executions (ids, sides, prices, quantities, fees, the point they happened at)
must be the kernel's fills, the bot page's cycles and grid profit (metrics: the profit book)
must be the kernel's, and so must the open orders and the account's coins."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.engine import Candle
from bots.engine.backtest import backtest
from bots.models import Bot
from bots.services import bot_start, bot_tick
from bots.services.common import client_for_bot
from exchanges.client import Category
from exchanges.simulator import feed
from tests.factories import BotFactory, grid_config
from tests.market_data import BTCUSDT_2021

from .conftest import load_candles

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.slow,
    pytest.mark.skipif(not BTCUSDT_2021.exists(), reason="no real data"),
]

MAY_2 = 1619913600000  # 2021-05-02 00:00 UTC
MINUTES = 45
RANGE = {"lower_price": "56200", "upper_price": "57800", "grid_count": 32}


@pytest.fixture(scope="module", autouse=True)
def compiled():
    from bots.engine import kernel

    kernel.warm_up()


def executions(sim, uid: int) -> list:
    engine = sim.sim.engine
    return sim.call(
        lambda: [
            (e.order_link_id, e.side, e.exec_price, e.exec_qty, e.exec_fee, e.fee_currency, e.order_qty)
            for e in engine.executions[uid]
        ]
    )


@pytest.mark.parametrize(
    "category,direction",
    [("spot", None), ("linear", "long"), ("linear", "short"), ("linear", "neutral"), ("spot", "stop_loss")],
    ids=["spot", "long", "short", "neutral", "spot-stop-loss"],
)
def test_a_live_bot_on_the_simulator_trades_exactly_as_the_kernel(paper, sim, category, direction):
    account, acc = paper
    candles = load_candles(BTCUSDT_2021.name, start_ms=MAY_2, count=MINUTES)
    sim.control.set_price("BTCUSDT", candles[0].open, category=category)
    stop_loss = direction == "stop_loss"
    if stop_loss:  # a 2 USDT loss stops it 38 minutes in: cancel everything, sell the base at market
        config = grid_config(**RANGE, investment="2000", stop_loss_pnl="2", on_stop="sell_base")
    elif category == "spot":
        config = grid_config(**RANGE, investment="2000")
    else:
        config = grid_config(**RANGE, strategy="linear_grid", investment="1000", direction=direction, leverage="3")
    bot = BotFactory(
        user=account.user, exchange_account=account, category=category, investment=config["investment"], config=config
    )
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, bot.last_error

    # The simulator walks the candles; the bot answers every point that filled. With a stop loss
    # on PnL it also ticks at every new low since its last tick: between fills a spot bot's
    # holdings are fixed and its PnL falls only with the price, so no other point can hit it.
    seen = len(executions(sim, acc.uid))
    points: list[int] = [0] * seen  # the path point of each execution (the launch's at 0)
    low = None
    for i, c in enumerate(candles):
        sim_candle = feed.Candle(c.time * 1000, c.open, c.high, c.low, c.close, c.volume)
        for j, (price, volume) in enumerate(sim_candle.path()):
            if i == 0 and j == 0:
                continue  # the launch point
            sim.control.set_price("BTCUSDT", price, volume=volume, category=category)
            now = len(executions(sim, acc.uid))
            new_low = stop_loss and (low is None or price < low)
            if now != seen or new_low:
                points += [4 * i + j] * (now - seen)
                bot_tick(bot_id=bot.pk)
                low = price
                after = len(executions(sim, acc.uid))
                points += [4 * i + j] * (after - len(points))  # the close order, if the stop hit
                seen = after
                assert stop_loss or seen == len(points), "a counter order filled on placement"
            if stop_loss and Bot.objects.get(pk=bot.pk).status != Bot.Status.RUNNING:
                break
        else:
            continue
        break
    bot.refresh_from_db()
    if stop_loss:
        assert bot.status == Bot.Status.STOPPED, bot.last_error
        assert "2" in bot.stop_reason
    else:
        bot_tick(bot_id=bot.pk)
        bot.refresh_from_db()
        assert bot.status == Bot.Status.RUNNING, bot.last_error

    client = client_for_bot(bot)
    cat = Category(category)
    rules = client.instrument_rules(category=cat, symbol="BTCUSDT")
    fees = client.fee_rates(category=cat, symbol="BTCUSDT")
    from bots.engine.config import GridConfig

    result = backtest(
        GridConfig.from_json(config),
        rules,
        [Candle(c.time, c.open, c.high, c.low, c.close, c.volume) for c in candles],
        fees=fees,
        bot_id=bot.pk,
        generation=bot.generation,
    )
    assert result.engine == "kernel"

    live = executions(sim, acc.uid)
    assert all(qty == order_qty for *_, qty, _fee, _coin, order_qty in live), "the simulator filled partially"
    ours = [(f.client_order_id, f.side.value, f.price, f.qty, f.fee, f.fee_coin) for f in result.fills]
    assert [e[:6] for e in live] == ours
    assert points == [f.point for f in result.fills]
    assert len(ours) > 20, "45 minutes inside the range must trade"
    if stop_loss:
        assert result.stop is not None and (result.stop.kind, result.stop.code) == ("stop_loss", "pnl")
        assert result.fills[-1].purpose == "close" and live[-1][0] == result.fills[-1].client_order_id

    from metrics.models import BotMetrics

    row = BotMetrics.objects.get(bot=bot)
    assert (row.cycle_count, row.grid_profit) == (result.cycle_count, result.grid_profit)
    assert result.cycle_count >= 5
    ledger = sim.control.ledger(acc.uid)
    assert sorted(o["orderLinkId"] for o in ledger["open_orders"]) == sorted(
        o.client_order_id for o in result.open_orders
    )
    if category == "spot":  # the account's coins: funded 10,000 USDT, the bot's share moved
        balances = {k: Decimal(v) for k, v in ledger["balances"].items()}
        assert balances["BTC"] == result.base_balance
        assert balances["USDT"] == Decimal(10000) - result.investment + result.quote_balance
    else:
        size = sum(
            Decimal(str(p["size"])) * (1 if p.get("side") == "Buy" else -1)
            for p in ledger["positions"]
            if p.get("symbol") == "BTCUSDT"
        )
        assert size == result.base_balance
