"""The safety net's request cost per safety interval: account passes (bots.services.account_sync)
against the old per-bot safety tick, on the Bybit twin with Bybit's per-IP limit on (600 REST
requests per 5 s -> HTTP 403).

ACCOUNTS twin accounts x BOTS running grid bots each are launched (the limit is off while they
launch), then with the limit on: one round of passes over every account (what beat does once
per SETKA_SAFETY_SECONDS when all streams are healthy), counted by what the twin receives; and
a sample of the old per-bot tick for comparison. In-process (no worker): the figures are
request counts, not worker throughput.

Run: scripts/bench account_sync   (ACCOUNTS=100 BOTS=10 by default; the database must be migrated)"""

from __future__ import annotations

import os
import time
from collections import Counter
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from bots.models import Bot  # noqa: E402
from exchanges.models import Exchange, ExchangeAccount  # noqa: E402
from exchanges.simulator.testing import running_simulator  # noqa: E402

ACCOUNTS = int(os.environ.get("ACCOUNTS", 100))
BOTS = int(os.environ.get("BOTS", 10))
IP_LIMIT = 600  # Bybit: REST requests per 5 s per IP


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]


def launch(control) -> list[ExchangeAccount]:
    from accounts.models import User
    from bots.services import bot_start, bot_tick
    from tests.factories import grid_config

    bybit, _ = Exchange.objects.get_or_create(code="bybit", defaults={"name": "Bybit", "is_active": True})
    accounts = []
    stamp = time.time_ns()
    for a in range(ACCOUNTS):
        acc = control.create_account(funding={"USDT": str(1000 * BOTS + 1000)})
        user = User.objects.create_user(email=f"bench-sync-{stamp}-{a}@example.com", password="x" * 12)
        user.access_granted_at = timezone.now()
        user.save()
        account = ExchangeAccount.objects.create(
            user=user,
            exchange=bybit,
            label=f"bench sync {a}",
            environment=ExchangeAccount.Environment.PAPER,
            api_key=acc.api_key,
            api_secret=acc.api_secret,
            api_key_hint="bench",
        )
        for b in range(BOTS):
            bot = Bot.objects.create(
                user=user,
                exchange_account=account,
                name=f"bench sync {a}.{b}",
                symbol="BTCUSDT",
                category="spot",
                config=grid_config(grid_count=4 + b % 3, investment="1000"),
                investment=Decimal("1000"),
            )
            bot_start(bot=bot)
            bot_tick(bot_id=bot.pk)
        accounts.append(account)
        if (a + 1) % 10 == 0:
            print(f"  launched {a + 1} accounts", flush=True)
    return accounts


def main() -> None:
    from bots.services import bot_tick
    from bots.services.account_sync import account_sync

    settings.SETKA_EXCHANGE_TIMEOUT = 10.0
    with running_simulator(control_token="bench-sync-token") as handle:
        settings.SETKA_SIMULATOR_URL = handle.base_url
        settings.SETKA_SIMULATOR_WS_URL = handle.ws_url
        control, sim = handle.control, handle.sim
        assert control is not None and sim is not None
        control.set_price("BTCUSDT", "55000")
        started = time.perf_counter()
        accounts = launch(control)
        ids = [a.pk for a in accounts]
        bot_ids = list(Bot.objects.filter(exchange_account_id__in=ids, status="running").values_list("pk", flat=True))
        print(f"launched {len(bot_ids)} running bots on {len(ids)} accounts in {time.perf_counter() - started:.0f} s")

        sim.ip_limit = IP_LIMIT  # Bybit's per-IP limit on from here
        before = Counter(sim.requests_by_path)
        round_started = timezone.now()
        t0 = time.perf_counter()
        seconds, failed, queued = [], 0, []
        for account_id in ids:
            s = time.perf_counter()
            result = account_sync(account_id=account_id, enqueue=lambda bot_id, _a: queued.append(bot_id))
            seconds.append(time.perf_counter() - s)
            failed += bool(result.failed)
        wall = time.perf_counter() - t0
        spent = Counter(sim.requests_by_path) - before
        reconciled = Bot.objects.filter(pk__in=bot_ids, reconciled_at__gte=round_started).count()
        total = sum(spent.values())
        window = 5 * total / settings.SETKA_SAFETY_SECONDS
        print(
            f"one round of account passes: {total} requests ({dict(spent)}) for {len(ids)} accounts, "
            f"{reconciled}/{len(bot_ids)} bots reconciled, {len(queued)} ticked, {failed} failed passes "
            f"(403/10006), pass p50 {pct(seconds, 50) * 1000:.0f} ms p99 {pct(seconds, 99) * 1000:.0f} ms, "
            f"round {wall:.1f} s"
        )
        print(
            f"  per safety interval ({settings.SETKA_SAFETY_SECONDS} s): {total} requests = {window:.0f} per 5 s "
            f"({100 * window / IP_LIMIT:.1f} % of Bybit's {IP_LIMIT} per 5 s per IP)"
        )

        sample = bot_ids[:20]
        before = Counter(sim.requests_by_path)
        for bot_id in sample:
            bot_tick(bot_id=bot_id)
        per_tick = sum((Counter(sim.requests_by_path) - before).values()) / len(sample)
        old = per_tick * len(bot_ids)
        print(
            f"old safety net: {per_tick:.1f} requests per quiet bot tick x {len(bot_ids)} bots = {old:.0f} per "
            f"{settings.SETKA_BOT_TICK_SECONDS} s beat interval ({100 * old / IP_LIMIT:.0f} % of the per-IP limit)"
        )
        refresh = per_tick * len(bot_ids) * 5 / settings.SETKA_BOT_REFRESH_SECONDS
        print(
            f"  new regime adds each bot's full tick every {settings.SETKA_BOT_REFRESH_SECONDS} s: "
            f"{refresh:.0f} per 5 s; total {window + refresh:.0f} per 5 s "
            f"({100 * (window + refresh) / IP_LIMIT:.1f} %)"
        )
        Bot.objects.filter(pk__in=bot_ids).update(status=Bot.Status.STOPPED)


if __name__ == "__main__":
    main()
