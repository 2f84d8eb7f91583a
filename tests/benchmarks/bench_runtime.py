"""Runtime benchmark: "stop all" of many bots (loopback only, bounded in time).

N running bots (default 1,000) on N/10 paper accounts of the simulator (its per-UID limits and
its per-IP limit of 600 requests per 5 s on), each with one open order on the exchange. Printed:
- how long the admin's trading switch takes to answer "halt" (target < 1 s);
- how long the stop run takes (marking every bot stopping, cancelling per account) when one
  process does it, the orders left open on the exchange after it (target 0), and the requests
  the simulator refused (403 per IP, 10006 per UID; target 0).

Not measured here: the bots' own stop ticks on a worker (positions closed); the 1,000/5,000-bot
reconcile coverage and the fill -> counter order p99 under load are bench_scale.py's.

Run: scripts/bench runtime   (SETKA_BENCH_BOTS=200 for a quicker pass)"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from bots.engine.ids import grid_order_id  # noqa: E402
from bots.models import Bot, TradingSwitch  # noqa: E402
from bots.services import stop_run_continue, stop_run_get, trading_resume  # noqa: E402
from bots.services.common import client_for_account  # noqa: E402
from exchanges.client import Category, OrderType, PlaceOrder, Side  # noqa: E402
from exchanges.models import Exchange, ExchangeAccount  # noqa: E402
from exchanges.simulator.testing import running_simulator  # noqa: E402
from tests.factories import grid_config  # noqa: E402

BOTS = int(os.environ.get("SETKA_BENCH_BOTS", "1000"))
PER_ACCOUNT = 10


def seed(sim) -> tuple[list[Bot], list[int]]:
    stamp = time.time_ns()
    owner = User.objects.create_user(email=f"bench-rt-{stamp}@example.com", password="x" * 12)
    owner.access_granted_at = timezone.now()
    owner.save()
    bybit = Exchange.objects.get(code="bybit")
    bots: list[Bot] = []
    uids: list[int] = []
    for a in range(max(1, BOTS // PER_ACCOUNT)):
        acc = sim.control.create_account(funding={"USDT": "100000"})
        uids.append(acc.uid)
        account = ExchangeAccount.objects.create(
            user=owner,
            exchange=bybit,
            label=f"bench rt {a}",
            environment=ExchangeAccount.Environment.PAPER,
            api_key=acc.api_key,
            api_secret=acc.api_secret,
            api_key_hint="bench",
        )
        bots += Bot.objects.bulk_create(
            Bot(
                user=owner,
                exchange_account=account,
                name=f"bench rt {a}.{n}",
                symbol="BTCUSDT",
                category="spot",
                config=grid_config(),
                investment=Decimal("1000"),
                status=Bot.Status.RUNNING,
                generation=1,
                started_at=timezone.now(),
            )
            for n in range(PER_ACCOUNT)
        )
    return bots, uids


def place_one_order_each(bots: list[Bot]) -> None:
    by_account: dict[int, list[Bot]] = {}
    for bot in bots:
        by_account.setdefault(bot.exchange_account_id, []).append(bot)

    def place(group: list[Bot]) -> None:
        client = client_for_account(group[0].exchange_account)
        for bot in group:
            client.place_order(
                PlaceOrder(
                    category=Category.SPOT,
                    symbol="BTCUSDT",
                    side=Side.BUY,
                    order_type=OrderType.LIMIT,
                    qty=Decimal("0.001"),
                    price=Decimal("50000"),
                    client_order_id=grid_order_id(bot.pk, 1, 0, Side.BUY, 0),
                )
            )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(place, by_account.values()))


def main() -> None:
    from celery import current_app

    current_app.conf.broker_url = "memory://"  # the stop ticks the run queues are not run here
    print(f"bots: {BOTS} on {max(1, BOTS // PER_ACCOUNT)} accounts (simulator limits on, --ip-limit 600)")
    with running_simulator(ip_limit=600) as sim:
        settings.SETKA_SIMULATOR_URL = sim.base_url
        settings.SETKA_SIMULATOR_WS_URL = sim.ws_url
        trading_resume(actor=None)
        Bot.objects.filter(status__in=Bot.ACTIVE_STATUSES).update(status=Bot.Status.STOPPED)  # earlier runs
        started = time.perf_counter()
        bots, uids = seed(sim)
        place_one_order_each(bots)
        print(f"seeded in {time.perf_counter() - started:.1f} s")
        open_before = sum(len(sim.control.ledger(uid)["open_orders"]) for uid in uids)
        print(f"open orders on the exchange before the stop: {open_before}")

        operator = User.objects.create_superuser(email=f"bench-op-{time.time_ns()}@example.com", password="x" * 12)
        client = Client()
        client.force_login(operator)
        assert client.get("/admin/bots/tradingswitch/").status_code == 200  # the operator opens the page first
        started = time.perf_counter()
        response = client.post("/admin/bots/tradingswitch/", {"reason": "bench", "confirm": "on"})
        answered = time.perf_counter() - started
        assert response.status_code == 302 and TradingSwitch.objects.get(pk=1).halted
        print(f"admin 'halt all trading' answered in {answered * 1000:.0f} ms (target < 1000 ms)")

        requests_before = sim.sim.requests
        started = time.perf_counter()
        run = stop_run_continue(run_id=stop_run_get().id)  # what the worker does
        took = time.perf_counter() - started
        open_after = sum(len(sim.control.ledger(uid)["open_orders"]) for uid in uids)
        print(
            f"stop run (one process): {run.marked} bots marked stopping, {run.orders_cancelled} orders cancelled, "
            f"{run.failures} failures in {took:.1f} s; {sim.sim.requests - requests_before} exchange requests"
        )
        print(f"orders left open on the exchange: {open_after} (target 0)")
        print(f"requests refused by the simulator (403/10006): {run.failures} (target 0)")
        trading_resume(actor=None)


if __name__ == "__main__":
    main()
