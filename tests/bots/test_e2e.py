"""End to end: BTCUSDT grids (spot; linear long and short) on the simulator, replaying a real
day quickly, run by the REAL worker, beat and streams processes (tests/stack.py). The worker is killed -9 half way and
started again; at three quarters every process is killed -9 and restarted. Then Setka's completed cycles and grid profit must equal those recomputed from
the simulator's own execution ledger, with no duplicate order and no lost fill."""

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
from exchanges.models import ExchangeAccount
from exchanges.simulator.control import SimulatorControl
from tests.bots.ledger import bot_executions, metrics_cycles
from tests.factories import BotFactory, ExchangeAccountFactory, grid_config
from tests.market_data import BTCUSDT_2021
from tests.stack import Stack
from trading.models import Order, Trade

CSV = BTCUSDT_2021
TOKEN = "e2e-control-token"


def wait_for(predicate, timeout: float, what: str, stack: Stack):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}\n{stack.all_logs()}")


def settled(bot, control, uid) -> bool:
    """Every execution stored, nothing pending, our open orders are the exchange's."""
    ledger = control.ledger(uid)
    theirs = {e["execId"] for e in bot_executions(ledger, bot)}
    ours = set(Trade.objects.filter(bot=bot).values_list("exec_id", flat=True))
    open_ids = {o["orderLinkId"] for o in ledger["open_orders"]}
    rows = set(
        Order.objects.filter(bot=bot, status__in=["open", "partially_filled"]).values_list("client_order_id", flat=True)
    )
    return ours == theirs and rows == open_ids and not Order.objects.filter(bot=bot, status="pending").exists()


@pytest.mark.e2e
@pytest.mark.skipif(not CSV.exists(), reason="real data not available")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "category,direction", [("spot", None), ("linear", "long"), ("linear", "short")], ids=["spot", "long", "short"]
)
def test_grid_real_day_on_the_real_processes(tmp_path, category, direction):
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
        simulator = stack.start("simulator", replay="", state=str(tmp_path / "sim.sqlite3"))
        env_sim = {"SETKA_SIMULATOR_URL": simulator.url}
        stack.env.update(env_sim)
        settings.SETKA_SIMULATOR_URL = simulator.url
        control = SimulatorControl(simulator.url, TOKEN)
        control.start_replay("BTCUSDT", csv_path=str(CSV), speed=0, start=datetime(2021, 5, 2, tzinfo=UTC))
        control.advance("BTCUSDT", 1)
        call_command("setup_schedules", tick_seconds=1)
        stack.start("worker", concurrency=2, purge=True)
        stack.start("beat")
        stack.start("streams")

        acc = control.create_account(funding={"USDT": "10000"})
        account = ExchangeAccountFactory(
            environment=ExchangeAccount.Environment.PAPER, api_key=acc.api_key, api_secret=acc.api_secret
        )
        range_ = {"lower_price": "55600", "upper_price": "58400", "grid_count": 14}
        if category == "spot":
            config = grid_config(**range_, investment="2000")
        else:
            config = grid_config(
                **range_, strategy="linear_grid", investment="1000", direction=direction, leverage="3",
                on_stop="close_position",
            )
        bot = BotFactory(
            user=account.user,
            exchange_account=account,
            category=category,
            investment=config["investment"],
            config=config,
        )
        bot_start(bot=bot)  # queues its first tick on commit: the real worker launches it
        wait_for(
            lambda: Bot.objects.get(pk=bot.pk).status == Bot.Status.RUNNING and settled(bot, control, acc.uid),
            60,
            "launch",
            stack,
        )

        step, total = 20, 1440  # one market day, 20 minutes per 0.3 s
        for done in range(0, total, step):
            control.advance("BTCUSDT", step)
            time.sleep(0.3)
            if done == total // 2:
                stack.kill("worker")  # kill -9 mid-replay: acks_late + reconciliation recover
                control.advance("BTCUSDT", step)
                stack.start("worker", concurrency=2)
            if done == 3 * total // 4:
                for name in ("worker", "beat", "streams"):  # every process dies at once
                    stack.kill(name)
                control.advance("BTCUSDT", step)
                for name in ("worker", "beat", "streams"):
                    stack.start(name, **({"concurrency": 2} if name == "worker" else {}))
        wait_for(lambda: settled(bot, control, acc.uid), 60, "the books to settle", stack)
        bot.refresh_from_db()
        assert bot.status == Bot.Status.RUNNING, bot.last_error
        ledger = control.ledger(acc.uid)

        # What the user sees (metrics, the one profit definition) == the same accounting folded
        # over the exchange's own execution ledger
        from metrics.models import BotMetrics

        row = BotMetrics.objects.filter(bot=bot).first()
        m_cycles, m_profit = metrics_cycles(ledger, bot)
        assert row is not None and row.trade_count == len(bot_executions(ledger, bot))
        assert m_cycles >= 5, "a real day inside the range must complete cycles"
        assert (row.cycle_count, row.grid_profit) == (m_cycles, m_profit)
        cycles, profit = m_cycles, m_profit
        print(f"\nE2E metrics: {row.cycle_count} cycles, grid profit {row.grid_profit:.4f}")
        # No duplicate order: one exchange order id per client order id
        links: dict[str, set] = {}
        for e in bot_executions(ledger, bot):
            links.setdefault(e["orderLinkId"], set()).add(e["orderId"])
        assert all(len(v) == 1 for v in links.values())
        print(
            f"\nE2E {category} {direction or ''}: {len(bot_executions(ledger, bot))} executions, {cycles} cycles, "
            f"grid profit {profit:.4f} USDT"
        )

        bot_stop(bot=bot, reason="end of the e2e test")
        wait_for(lambda: Bot.objects.get(pk=bot.pk).status == Bot.Status.STOPPED, 30, "stop", stack)
        final = control.ledger(acc.uid)
        assert final["open_orders"] == []
        if category == "linear":  # on_stop=close_position: nothing left at risk
            assert all(Decimal(str(p.get("size", "0"))) == 0 for p in final["positions"]), final["positions"]
