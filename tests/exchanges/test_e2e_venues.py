"""End to end on the other venues: BTCUSDT grids on the OKX, Binance and MEXC twins, run by the REAL
worker, beat and streams processes (tests/stack.py) through the ccxt adapter, replaying a real
day quickly. The worker is killed -9 half way and started again. Then the books must match the
twin's own execution ledger: every fill stored once, no duplicate order, the profit the user
sees equal to the one folded over the venue's executions, nothing left open after the stop."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from bots.models import Bot
from bots.services import bot_start, bot_stop
from exchanges.models import Exchange, ExchangeAccount
from exchanges.simulator.control import SimulatorControl
from tests.bots.ledger import bot_executions, metrics_cycles
from tests.factories import BotFactory, ExchangeAccountFactory, grid_config
from tests.market_data import BTCUSDT_2021
from tests.stack import Stack
from trading.models import Order, Trade

TOKEN = "e2e-venue-control-token"


def wait_for(predicate, timeout: float, what, stack: Stack):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    what = what() if callable(what) else what  # told as it is at the end of the wait
    raise AssertionError(f"timed out waiting for {what}\n{stack.all_logs()}")


def settled(bot, control, uid) -> bool:
    """Every execution stored (Setka's exec ids end in the venue's trade id, the twin's seq),
    nothing pending, our open orders are the exchange's."""
    ledger = control.ledger(uid)
    theirs = {str(e["seq"]) for e in bot_executions(ledger, bot)}
    ours = {exec_id.rsplit("-", 1)[1] for exec_id in Trade.objects.filter(bot=bot).values_list("exec_id", flat=True)}
    open_ids = {o["orderLinkId"] for o in ledger["open_orders"]}
    rows = set(
        Order.objects.filter(bot=bot, status__in=["open", "partially_filled"]).values_list("client_order_id", flat=True)
    )
    return ours == theirs and rows == open_ids and not Order.objects.filter(bot=bot, status="pending").exists()


VENUES = ("okx", "binance", "mexc", "kucoin")
CASES = [
    ("okx", "spot"),
    ("okx", "linear"),
    ("binance", "spot"),
    ("binance", "linear"),
    ("mexc", "spot"),
    ("kucoin", "spot"),
]


@pytest.mark.e2e
@pytest.mark.skipif(not BTCUSDT_2021.exists(), reason="real data not available")
@pytest.mark.django_db(transaction=True)
def test_grids_on_the_venue_twins_on_the_real_processes(tmp_path):
    """Six bots at once (OKX spot and swap, Binance spot and USDⓈ-M, MEXC spot, KuCoin spot) on one stack: one twin per
    venue, one worker, beat and streams, so the whole run costs about one Bybit e2e case."""
    db = settings.DATABASES["default"]
    env = {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"),
        "CELERY_BROKER_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"),
        "SETKA_SIMULATOR_CONTROL_TOKEN": TOKEN,
        "SETKA_BOT_TICK_SECONDS": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
    }
    with Stack(env=env, log_dir=tmp_path) as stack:
        controls = {}
        for venue_code in VENUES:
            twin = stack.start(
                f"sim-{venue_code}",
                "simulator",
                replay="",
                venue=venue_code,
                state=str(tmp_path / f"{venue_code}.sqlite3"),
            )
            stack.env[f"SETKA_SIMULATOR_{venue_code.upper()}_URL"] = twin.url
            settings.SETKA_VENUE_SIMULATOR_URLS = {**settings.SETKA_VENUE_SIMULATOR_URLS, venue_code: twin.url}
            control = controls[venue_code] = SimulatorControl(twin.url, TOKEN)
            control.start_replay("BTCUSDT", csv_path=str(BTCUSDT_2021), speed=0, start=datetime(2021, 5, 2, tzinfo=UTC))
            control.advance("BTCUSDT", 1)
        call_command("setup_schedules", tick_seconds=1)
        stack.start("worker", concurrency=2, purge=True)
        stack.start("beat")
        stack.start("streams")

        range_ = {"lower_price": "55600", "upper_price": "58400", "grid_count": 14}
        runs = []
        for venue_code, category in CASES:
            control = controls[venue_code]
            acc = control.create_account(funding={"USDT": "10000"})
            account = ExchangeAccountFactory(
                exchange=Exchange.objects.get(code=venue_code),
                environment=ExchangeAccount.Environment.PAPER,
                api_key=acc.api_key,
                api_secret=acc.api_secret,
                api_passphrase=acc.passphrase if venue_code in ("okx", "kucoin") else "",
            )
            if category == "spot":
                config = grid_config(**range_, investment="2000")
            else:
                config = grid_config(
                    **range_,
                    strategy="linear_grid",
                    investment="1000",
                    direction="long",
                    leverage="3",
                    on_stop="close_position",
                )
            bot = BotFactory(
                user=account.user,
                exchange_account=account,
                category=category,
                investment=config["investment"],
                config=config,
            )
            bot_start(bot=bot)
            runs.append((venue_code, category, bot, control, acc))

        def all_settled():
            return all(settled(bot, control, acc.uid) for _v, _c, bot, control, acc in runs)

        wait_for(
            lambda: all(Bot.objects.get(pk=r[2].pk).status == Bot.Status.RUNNING for r in runs) and all_settled(),
            90,
            "launch",
            stack,
        )
        for _v, _c, _bot, control, acc in runs:
            launched = {o["orderLinkId"] for o in control.ledger(acc.uid)["open_orders"]}
            assert launched and all(len(cid) <= 32 and cid.isalnum() for cid in launched)  # OKX's clOrdId rule

        step, total = 20, 1440  # one market day on both twins
        for done in range(0, total, step):
            for control in controls.values():
                control.advance("BTCUSDT", step)
            time.sleep(0.4)
            if done == total // 2:
                stack.kill("worker")  # kill -9 mid-replay: acks_late + reconciliation recover
                for control in controls.values():
                    control.advance("BTCUSDT", step)
                stack.start("worker", concurrency=2)
        wait_for(all_settled, 120, "the books to settle", stack)

        from metrics.models import BotMetrics

        def counted(bot, control, uid) -> tuple[int | None, int]:
            row = BotMetrics.objects.filter(bot=bot).first()
            return (row.trade_count if row else None), len(bot_executions(control.ledger(uid), bot))

        # The books and the figures at one quiet moment: a tick queued before the books settled
        # may still trade (CI saw 29 counted of 32 executions read a moment later). A fold that
        # was skipped never catches up, and this wait fails with the counts.
        wait_for(
            lambda: all_settled() and all(len(set(counted(bot, c, a.uid))) == 1 for _v, _c, bot, c, a in runs),
            60,
            lambda: (
                "every execution counted in the bots' figures (counted, executions): "
                + "; ".join(f"{v} {c}: {counted(bot, ctl, a.uid)}" for v, c, bot, ctl, a in runs)
            ),
            stack,
        )

        for venue_code, category, bot, control, acc in runs:
            bot.refresh_from_db()
            assert bot.status == Bot.Status.RUNNING, (venue_code, category, bot.last_error)
            ledger = control.ledger(acc.uid)
            row = BotMetrics.objects.filter(bot=bot).first()
            cycles, profit = metrics_cycles(ledger, bot)
            assert row is not None and row.trade_count == len(bot_executions(ledger, bot)), (venue_code, category)
            assert cycles >= 5, f"{venue_code} {category}: a real day inside the range must complete cycles"
            assert (row.cycle_count, row.grid_profit) == (cycles, profit), (venue_code, category)
            links: dict[str, set] = {}
            for e in bot_executions(ledger, bot):
                links.setdefault(e["orderLinkId"], set()).add(e["orderId"])
            assert all(len(v) == 1 for v in links.values())  # no duplicate order
            print(
                f"\nE2E {venue_code} {category}: {len(bot_executions(ledger, bot))} executions, {cycles} cycles, "
                f"grid profit {profit:.4f} USDT"
            )

        for _v, _c, bot, _control, _acc in runs:
            bot_stop(bot=bot, reason="end of the e2e test")
        wait_for(lambda: all(Bot.objects.get(pk=r[2].pk).status == Bot.Status.STOPPED for r in runs), 60, "stop", stack)
        for _venue_code, category, _bot, control, acc in runs:
            final = control.ledger(acc.uid)
            assert final["open_orders"] == []
            if category == "linear":
                assert all(Decimal(str(p.get("size", "0"))) == 0 for p in final["positions"]), final["positions"]
