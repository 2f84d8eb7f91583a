"""Planner, live tick and backtest speed. Run: scripts/bench planner
(or DATABASE_URL=... REDIS_URL=... .venv/bin/python -m tests.benchmarks.bench_planner)

Prints
1. one plan_tick on a 200-level spot grid from the typed grid state (p50/p99 over ticks that each
   answer one fill, the order history growing as a live bot's does), beside the old per-order
   replay on the same history (tests/bots/engine/reference_planner.py);
2. the whole live tick (bots.services.bot_tick on PostgreSQL against an in-memory exchange:
   reconcile, store the fill, metrics, targets, grid state, plan, write, send) for a bot with
   10 past orders and one with 100,000 past orders, each tick answering one fill;
3. the backtest throughput (candles per second) over real BTC 1-minute candles."""

from __future__ import annotations

import csv
import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from bots.engine import Candle, GridConfig, GridState, LevelOrder, backtest, launch_plan, plan_tick, size_grid
from exchanges.client import Category, FeeRates, InstrumentRules, Side
from tests.market_data import BTCUSDT_2021, open_text

D = Decimal
DATA = BTCUSDT_2021
RULES = InstrumentRules(
    "BTCUSDT", Category.SPOT, "BTC", "USDT", D("0.01"), D("0.000001"), D("0.000048"), D("100"), D("5")
)
FEES = FeeRates(D("0.001"), D("0.001"))


def bench_tick(levels_count: int = 200, ticks: int = 2000, seed: int = 7) -> dict:
    from tests.bots.engine.reference_planner import reference_plan_tick

    config = GridConfig.from_json(
        {
            "strategy": "spot_grid",
            "lower_price": "40000",
            "upper_price": "60000",
            "grid_count": levels_count,
            "spacing": "geometric",
            "investment": "1000000",
        }
    )
    price = D(50000)
    sizing = size_grid(config, RULES, price=price, fees=FEES)
    plan = launch_plan(config, RULES, price=price, sizing=sizing, bot_id=1, generation=1)
    levels = sizing.levels
    state = GridState.new(bot_id=1, generation=1, spot=True, levels=levels, fees=FEES)
    orders: dict[str, LevelOrder] = {}
    for o in plan.ladder:
        orders[o.client_order_id] = LevelOrder(o.client_order_id, o.level, o.side, o.price, o.qty, D(0), True)
        state.placed(o)
    rng = random.Random(seed)
    idx = sizing.empty_level
    times: list[float] = []
    replay: list[float] = []
    for i in range(ticks):
        idx = max(0, min(levels_count, idx + rng.choice((-1, 1))))
        p = levels[idx]
        hit = [
            o
            for o in orders.values()
            if o.is_open and ((o.side is Side.BUY and o.price >= p) or (o.side is Side.SELL and o.price <= p))
        ]
        t0 = time.perf_counter()
        for o in hit:  # the events of this tick, O(1) each
            fee = o.qty * FEES.maker if o.side is Side.BUY else None
            state.observe(o.client_order_id, filled=o.qty, is_open=False, base_fee=fee, settled=True)
        tp = plan_tick(config, RULES, state=state, bot_id=1, generation=1)
        for o in tp.place:
            state.placed(o)
        times.append(time.perf_counter() - t0)
        for o in hit:
            fee = o.qty * FEES.maker if o.side is Side.BUY else None
            orders[o.client_order_id] = LevelOrder(
                o.client_order_id, o.level, o.side, o.price, o.qty, o.qty, False, fee
            )
        if i % 100 == 99:  # the old replay on the same history, now and then (it is slow)
            view = list(orders.values())
            t0 = time.perf_counter()
            old = reference_plan_tick(config, RULES, levels=levels, orders=view, bot_id=1, generation=1, fees=FEES)
            replay.append(time.perf_counter() - t0)
            assert old == tp, "the state planner and the replay disagree"
        for o in tp.place:
            orders[o.client_order_id] = LevelOrder(o.client_order_id, o.level, o.side, o.price, o.qty, D(0), True)
    times.sort()
    return {
        "levels": levels_count,
        "ticks": ticks,
        "orders_at_end": len(orders),
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": times[int(len(times) * 0.99) - 1] * 1000,
        "max_ms": times[-1] * 1000,
        "replay_last_ms": replay[-1] * 1000 if replay else float("nan"),
        "replay_first_ms": replay[0] * 1000 if replay else float("nan"),
    }


def bench_live_tick(history: int = 100_000, ticks: int = 40) -> dict:
    """p50 of bot_tick for a fresh bot and for one with `history` past orders (and as many
    executions), on the same market; each measured tick stores one fill and answers it."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    django.setup()
    import itertools
    import uuid

    from django.utils import timezone

    import bots.services.common as common
    import bots.services.start as start
    from accounts.models import User
    from bots.models import Bot
    from bots.services import bot_start, bot_tick
    from tests.factories import BotFactory, UserFactory
    from tests.trading.fake_exchange import FakeExchange
    from trading.models import Order, Trade

    start.enqueue_tick = lambda *a, **k: None  # no Celery: the benchmark ticks by itself
    fakes: dict[int, FakeExchange] = {}
    common.client_for_account = lambda account: fakes[account.pk]
    tag = uuid.uuid4().hex[:8]
    users = []

    def new_bot(n: int) -> Bot:
        user = UserFactory(email=f"bench-tick-{tag}-{n}@example.com")
        users.append(user.pk)
        bot = BotFactory(user=user)
        fake = FakeExchange(usdt="100000")
        fake._ids = itertools.count(1 + 10_000_000 * n + random.randrange(10**6) * 10**8)  # exec ids: unique
        fakes[bot.exchange_account_id] = fake
        bot_start(bot=bot)
        bot_tick(bot_id=bot.pk)
        bot.refresh_from_db()
        assert bot.status == Bot.Status.RUNNING, bot.last_error
        bot.fake = fake
        return bot

    try:
        fresh, old = new_bot(1), new_bot(2)
        # 100,000 past orders of the old bot, filled buy/sell cycles with one execution each,
        # most of them in its current run (the old replay read them all every tick).
        now = timezone.now()
        orders, seqs = [], {}
        for i in range(history):
            level = 2 + (i // 2) % 3
            side = "Buy" if i % 2 == 0 else "Sell"
            line = level if side == "Buy" else level + 1
            gen = old.generation if i >= history // 10 else 0
            seq = seqs[(gen, line, side)] = seqs.get((gen, line, side), 0) + 1
            orders.append(
                Order(
                    bot=old, user_id=old.user_id, symbol="BTCUSDT",
                    client_order_id=f"sk{old.pk}-{gen}-{line}{side[0]}{seq + 1000}", level=line, side=side,
                    price=D(50000 + 1000 * line), qty=D("0.001"), filled_qty=D("0.001"), status="filled",
                    closed_at=now,
                )
            )  # fmt: skip
        Order.objects.bulk_create(orders, batch_size=5000)
        ids = dict(Order.objects.filter(bot=old).values_list("client_order_id", "id"))
        Trade.objects.bulk_create(
            [
                Trade(
                    bot=old, order_id=ids[o.client_order_id], user_id=old.user_id, symbol="BTCUSDT",
                    exec_id=f"hist-{tag}-{k}", side=o.side, price=o.price, qty=o.qty, fee=D(0), fee_coin="USDT",
                    executed_at=now - timedelta(days=30),
                )
                for k, o in enumerate(orders)
            ],
            batch_size=5000,
        )  # fmt: skip
        from django.db import connection

        with connection.cursor() as cursor:  # what autovacuum does after such an insert
            cursor.execute("ANALYZE trading_order; ANALYZE trading_trade")
        history_count = Order.objects.filter(bot=old).count()
        for bot in (fresh, old):
            bot_tick(bot_id=bot.pk)  # the old bot's history settles into its state once
        samples: dict[int, list[float]] = {fresh.pk: [], old.pk: []}
        prices = ["53900", "55100"]
        for i in range(ticks):
            for bot in (fresh, old) if i % 2 else (old, fresh):
                bot.fake.set_price(prices[i % 2])  # fills one order: the tick stores it and answers it
                t0 = time.perf_counter()
                result = bot_tick(bot_id=bot.pk)
                samples[bot.pk].append(time.perf_counter() - t0)
                assert result.ran and result.new_trades >= 1 and result.placed >= 1, (i, bot.pk, result)
        p50 = {pk: statistics.median(v) * 1000 for pk, v in samples.items()}
        return {
            "fresh_orders": Order.objects.filter(bot=fresh).count(),
            "old_orders": history_count,
            "fresh_ms": p50[fresh.pk],
            "old_ms": p50[old.pk],
            "ticks": ticks,
        }
    finally:
        Bot.objects.filter(user_id__in=users).delete()
        User.objects.filter(pk__in=users).delete()


def load(count: int) -> list[Candle]:
    out = []
    with open_text(DATA) as fh:
        for row in csv.DictReader(fh):
            out.append(
                Candle(
                    int(row["timestamp_ms"]) // 1000,
                    D(row["open"]),
                    D(row["high"]),
                    D(row["low"]),
                    D(row["close"]),
                    D(row["volume"]),
                )
            )
            if len(out) >= count:
                break
    return out


def bench_backtest(days: int = 7, grids: int = 50) -> dict:
    candles = load(days * 1440)
    lo = min(c.low for c in candles)
    hi = max(c.high for c in candles)
    config = GridConfig.from_json(
        {
            "strategy": "spot_grid",
            "lower_price": str(lo),
            "upper_price": str(hi),
            "grid_count": grids,
            "spacing": "arithmetic",
            "investment": "100000",
        }
    )
    t0 = time.perf_counter()
    result = backtest(config, RULES, candles, fees=FEES)
    elapsed = time.perf_counter() - t0
    return {
        "candles": len(candles),
        "grids": grids,
        "fills": len(result.fills),
        "cycles": result.cycle_count,
        "seconds": elapsed,
        "candles_per_s": len(candles) / elapsed,
        "grid_profit": str(result.grid_profit.quantize(D("0.01"))),
    }


def main() -> None:
    t = bench_tick()
    print(
        f"plan_tick from the grid state, {t['levels']}-level grid, {t['ticks']} ticks "
        f"({t['orders_at_end']} orders at the end): p50 {t['p50_ms']:.2f} ms, p99 {t['p99_ms']:.2f} ms, "
        f"max {t['max_ms']:.2f} ms; the old per-order replay: {t['replay_first_ms']:.2f} ms at 100 ticks, "
        f"{t['replay_last_ms']:.2f} ms at {t['ticks']}"
    )
    lt = bench_live_tick()
    ratio = lt["old_ms"] / lt["fresh_ms"]
    print(
        f"live bot_tick (one fill stored and answered), p50 of {lt['ticks']}: {lt['fresh_orders']} past orders "
        f"{lt['fresh_ms']:.1f} ms, {lt['old_orders']:,} past orders {lt['old_ms']:.1f} ms "
        f"(ratio {ratio:.2f}, must be within 0.80..1.20: {'OK' if 0.8 <= ratio <= 1.2 else 'FAIL'})"
    )
    b = bench_backtest()
    print(
        f"backtest: {b['candles']} 1m candles, {b['grids']} grids, {b['fills']} fills, {b['cycles']} cycles "
        f"in {b['seconds']:.2f} s = {b['candles_per_s']:,.0f} candles/s (grid profit {b['grid_profit']} USDT)"
    )


if __name__ == "__main__":
    main()
