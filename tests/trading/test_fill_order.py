"""Executions of the same millisecond are folded in the venue's order.

A batch of counter orders whose items fill at once (taker on arrival, one request) gives the
executions one timestamp. On a linear bot a sell and a buy of the same instant give another
average entry, hence another grid profit, in the other order; the venue's own position follows
its execution sequence (OKX's trade id, Bybit's `seq`), and so must the bot's book. Ordering
them by exec_id does not: Bybit's are random UUIDs, and OKX's trade ids compare as strings
("…-100" before "…-99")."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from bots.engine.ids import grid_order_id
from exchanges.client import Category, Fill, Side
from metrics.services import metrics_recompute
from tests.factories import BotFactory, OrderFactory, grid_config
from trading.services import fills_store

pytestmark = pytest.mark.django_db

OPEN_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SAME_MS = datetime(2026, 11, 30, 12, 5, 0, 123000, tzinfo=UTC)

# (exec id of the sell, exec id of the buy); the sell executed first (lower sequence)
OKX_IDS = ("okx-linear-BTC-USDT-SWAP-99", "okx-linear-BTC-USDT-SWAP-100")
BYBIT_IDS = ("f3a1c9e0-0000-4000-8000-000000000001", "0b7d2e44-0000-4000-8000-000000000002")  # UUIDs sort reversed


def _linear_bot():
    config = grid_config(
        lower_price="45000", upper_price="55000", grid_count=10, strategy="linear_grid", direction="long", leverage="3"
    )
    return BotFactory(category="linear", investment=D("1000"), config=config)


def _order(bot, level, side, seq, qty, price):
    cid = grid_order_id(bot.pk, bot.generation, level, side, seq)
    return OrderFactory(bot=bot, client_order_id=cid, side=side.value, level=level, qty=D(qty), price=D(price))


def _fill(order, exec_id, seq, price, at):
    return Fill(
        exec_id=exec_id,
        order_id=f"x{order.pk}",
        client_order_id=order.client_order_id,
        category=Category.LINEAR,
        symbol="BTCUSDT",
        side=Side(order.side),
        price=D(price),
        qty=order.qty,
        fee=D(0),
        fee_coin="USDT",
        is_maker=False,
        executed_at=at,
        seq=seq,
    )


@pytest.mark.parametrize("ids", [OKX_IDS, BYBIT_IDS], ids=["okx-trade-ids", "bybit-uuids"])
@pytest.mark.parametrize("given", ["venue-order", "reversed"])
def test_a_sell_and_a_buy_of_one_instant_fold_in_the_venues_sequence(ids, given):
    bot = _linear_bot()
    opening = _order(bot, 1, Side.BUY, 0, "0.002", "50000")
    sell = _order(bot, 2, Side.SELL, 1, "0.001", "48000")  # both crossed the market on arrival:
    buy = _order(bot, 1, Side.BUY, 2, "0.001", "50000")  # taker fills at 49,000, one millisecond
    fills_store(bot=bot, fills=[_fill(opening, "okx-linear-BTC-USDT-SWAP-7", 7, "50000", OPEN_AT)])
    same_instant = [_fill(sell, ids[0], 99, "49000", SAME_MS), _fill(buy, ids[1], 100, "49000", SAME_MS)]
    if given == "reversed":
        same_instant.reverse()
    fills_store(bot=bot, fills=same_instant)

    bot.metrics.refresh_from_db()
    # the venue closed 0.001 of the long entered at 50,000 at 49,000 (−1.00), then bought at
    # 49,000: entry 49,500. In the other order the sell would have closed at the 49,666.67
    # average (−0.67) and left the entry at 49,666.67.
    assert bot.metrics.grid_profit == D("-1")
    assert bot.metrics.book["entry_price"] == "49500.000000000000000000"
    assert bot.metrics.cycle_count == 1
    # the from-scratch recomputation (the drift check) agrees with the incremental fold
    assert metrics_recompute(bot=bot)["grid_profit"] == D("-1")
