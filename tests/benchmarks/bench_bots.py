"""Bot benchmarks on the real processes (simulator, worker, beat, streams):

1. fill -> counter order accepted by the exchange, p50/p99, with the streams process and
   without it (beat's periodic tick only);
2. how many running bots one worker (2 processes, this machine) keeps ticking on time.

Run: scripts/bench bots   (or DATABASE_URL=... REDIS_URL=... python -m tests.benchmarks.bench_bots)
The database must be migrated; the benchmark creates its own users, accounts and bots."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bots.models import Bot  # noqa: E402
from exchanges.models import Exchange, ExchangeAccount  # noqa: E402
from exchanges.simulator.control import SimulatorControl  # noqa: E402
from tests.stack import Stack  # noqa: E402

TOKEN = "bench-control-token"
TICK_SECONDS = 1


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def make_bot(control, n: int) -> tuple[Bot, int]:
    from accounts.models import User
    from bots.services import bot_start
    from tests.factories import grid_config

    acc = control.create_account(funding={"USDT": "10000"})
    user = User.objects.create_user(email=f"bench-{time.time_ns()}-{n}@example.com", password="x" * 12)
    user.access_granted_at = django.utils.timezone.now()
    user.save()
    account = ExchangeAccount.objects.create(
        user=user,
        exchange=Exchange.objects.get(code="bybit"),
        label=f"bench {n}",
        environment=ExchangeAccount.Environment.PAPER,
        api_key=acc.api_key,
        api_secret=acc.api_secret,
        api_key_hint="bench",
    )
    bot = Bot.objects.create(
        user=user,
        exchange_account=account,
        name=f"bench {n}",
        symbol="BTCUSDT",
        category="spot",
        config=grid_config(),
        investment=Decimal("1000"),
    )
    bot_start(bot=bot)
    return bot, acc.uid


def wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(what)


def measure_latency(control, samples: int, label: str) -> list[float]:
    """Cross the top buy line down and the sell above it up, alternately; each crossing is a
    fill; time until the exchange lists the counter order."""
    control.set_price("BTCUSDT", "55000")
    bot, uid = make_bot(control, 0)
    wait(lambda: len(control.ledger(uid)["open_orders"]) == 10, 60, "launch")
    prefix = f"sk{bot.pk}g{bot.generation if bot.generation else 1}o"
    down, up = Decimal("53995"), Decimal("55005")  # buy line 54,000 -> counter sell at 55,000 and back
    result = []
    for i in range(samples):
        price = down if i % 2 == 0 else up
        want = "55000" if i % 2 == 0 else "54000"
        before = {o["orderLinkId"] for o in control.ledger(uid)["open_orders"]}
        control.set_price("BTCUSDT", price)
        t0 = time.perf_counter()
        while True:
            orders = control.ledger(uid)["open_orders"]
            new = [
                o
                for o in orders
                if o["orderLinkId"] not in before
                and o["orderLinkId"].startswith(prefix)
                and Decimal(o["price"]) == Decimal(want)
            ]
            if new:
                result.append(time.perf_counter() - t0)
                break
            if time.perf_counter() - t0 > 15:
                print(f"  {label}: sample {i} timed out", file=sys.stderr)
                break
            time.sleep(0.02)
    Bot.objects.filter(pk=bot.pk).update(status=Bot.Status.STOPPED)
    return result


def measure_capacity(control, count: int, window: float) -> tuple[float, float, float]:
    """`count` idle running bots ticked by beat every TICK_SECONDS: (ticks/s, share of bots
    never waiting more than 2 intervals between ticks, worst gap in seconds)."""
    control.set_price("BTCUSDT", "55000")
    bots = [make_bot(control, n)[0] for n in range(count)]
    ids = [b.pk for b in bots]
    wait(lambda: Bot.objects.filter(pk__in=ids, status=Bot.Status.RUNNING).count() == count, 120, "launch")
    time.sleep(2)
    seen = {pk: [] for pk in ids}
    t_end = time.monotonic() + window
    while time.monotonic() < t_end:
        now = time.monotonic()
        for pk, last in Bot.objects.filter(pk__in=ids).values_list("pk", "last_tick_at"):
            if last and (not seen[pk] or seen[pk][-1][1] != last):
                seen[pk].append((now, last))
        time.sleep(0.1)
    ticks = sum(max(len(v) - 1, 0) for v in seen.values())
    gaps = []
    for v in seen.values():
        times = [t for t, _ in v] + [t_end]
        gaps.append(max((b - a) for a, b in zip(times, times[1:], strict=False)) if len(times) > 1 else window)
    on_time = sum(1 for g in gaps if g <= 2 * TICK_SECONDS + 0.2) / count
    Bot.objects.filter(pk__in=ids).update(status=Bot.Status.STOPPED)
    return ticks / window, on_time, max(gaps)


def main() -> None:
    call_command("migrate", verbosity=0)
    env = {
        "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "SETKA_SIMULATOR_CONTROL_TOKEN": TOKEN,
        "SETKA_BOT_TICK_SECONDS": str(TICK_SECONDS),
    }
    with Stack(env=env, log_dir=tempfile.mkdtemp(prefix="bench-bots-")) as stack:
        sim = stack.start("simulator", replay="", state="")
        stack.env["SETKA_SIMULATOR_URL"] = settings.SETKA_SIMULATOR_URL = sim.url
        control = SimulatorControl(sim.url, TOKEN)
        call_command("setup_schedules", tick_seconds=TICK_SECONDS, stdout=open(os.devnull, "w"))
        Bot.objects.filter(status__in=["starting", "running", "stopping"]).update(status=Bot.Status.STOPPED)
        stack.start("worker", concurrency=2, purge=True)
        stack.start("beat")
        beat_only = measure_latency(control, 12, "beat only")
        stack.start("streams")
        time.sleep(1.5)
        streams = measure_latency(control, 30, "streams")
        print(
            f"fill -> counter order accepted, beat only (tick {TICK_SECONDS}s): "
            f"p50 {pct(beat_only, 50) * 1000:.0f} ms, p99 {pct(beat_only, 99) * 1000:.0f} ms (n={len(beat_only)})"
        )
        print(
            f"fill -> counter order accepted, with streams: "
            f"p50 {pct(streams, 50) * 1000:.0f} ms, p99 {pct(streams, 99) * 1000:.0f} ms (n={len(streams)})"
        )
        stack.stop("streams")
        best = 0.0
        for count in (10, 25, 50):
            rate, on_time, worst = measure_capacity(control, count, window=10)
            best = max(best, rate)
            print(
                f"{count} running bots, tick every {TICK_SECONDS}s, one worker (2 processes): "
                f"{rate:.1f} ticks/s, {on_time * 100:.0f}% of bots on time (gap <= {2 * TICK_SECONDS}s), worst gap {worst:.1f}s"
            )
            if on_time < 0.5:
                break
        print(f"worker throughput {best:.1f} ticks/s -> about {int(best * 5)} bots on time at the default 5 s tick "
              f"(SETKA_BOT_TICK_SECONDS), {int(best * 10)} at 10 s; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
