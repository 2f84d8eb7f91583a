"""Scale benchmark on the real processes (issue 11's "must show"): N running bots on the Bybit
twin, real candles replayed so that about 1 % of the bots fill per minute, and what an operator
would check:

(a) every running bot reconciled at least once per safety interval (the runtime's own evidence:
    `reconciled_at` on the bot or its account when such a field exists, else `Bot.last_tick_at`);
(b) requests the twin's rate limits refused (HTTP 403 per IP, retCode 10006 per UID);
(c) fill -> counter order accepted by the twin, p50/p95/p99 (probe bots on a symbol that is not
    replayed: the harness crosses their lines; both ends are the twin's own timestamps, the
    fill's execTime and the counter order's createdTime): one fill at a time (each probe's lines
    are offset, so one price move fills one probe), then the five filled by one move;
(d) requests per second the twin served, CPU of each process, the worker queue's depth;
(e) the operators' "stop all" from the admin: its answer, when every order was cancelled, every
    position closed and every bot stopped, and grid orders sent after it;
(f) the stage-1 fault matrix at this scale (before the stop): trading goes on under 5xx,
    timeouts after accepting, 10006 and dropped stream messages while each runtime process is
    killed with -9 and started again; then the twin's books and ours are compared until they
    agree (every execution stored once, no order sent twice, none open on one side only).

Processes (tests/stack.py): the simulator (per-IP limit on, like Bybit's 600 per 5 s), `--workers`
Celery workers of `--concurrency` processes each (default one worker of two) on the runtime's
queues, the side worker of one process for the `notify` and `slow` queues and one for `control` (README), beat, one streams
process. Users, accounts and bots are written in bulk; every bot is started through the start
service, so its launch (ladder on the twin) is the worker's real launch tick; the window starts
one safety interval after no bot is starting any more (or `--launch-timeout`).

PostgreSQL's connections are checked first: the streams process held about one connection per
exchange account in the first 1,000-bot run (its WebSocket threads write positions), which
exhausted a server of max_connections 100 that others share. The run refuses to start when the
server lacks accounts + 20 free connections (`--force` to run anyway); (d) prints how many this
database held.

Where the time goes is printed under (d): CPU of each process (from /proc), the database's own
statement time (pg_stat_database.active_time), the Celery queue's depth, and the worker's tasks
by name with their durations (from Celery's log lines).

Run:  scripts/bench scale                       (1,000 bots on 100 accounts)
      scripts/bench scale -- --bots 200 --accounts 20
      scripts/bench scale -- --bots 5000 --workers 4
      (or DATABASE_URL=... REDIS_URL=... python -m tests.benchmarks.bench_scale --help)
The database must be migrated. Bots of earlier runs are marked stopped first. Exits non-zero
only when the harness itself fails; a missed target is printed as "target missed"."""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from bots.models import Bot  # noqa: E402
from bots.services import bot_start, stop_run_get, trading_resume  # noqa: E402
from bots.sharding import worker_queues  # noqa: E402
from exchanges.models import Exchange, ExchangeAccount  # noqa: E402
from exchanges.simulator import feed  # noqa: E402
from exchanges.simulator.control import SimulatorControl  # noqa: E402
from tests.benchmarks.bench_bots import pct  # noqa: E402
from tests.stack import Stack, free_port  # noqa: E402

TOKEN = "bench-scale-control-token-7f3a9c"
LOAD_SYMBOLS = ("BTCUSDT", "ETHUSDT")  # replayed (real candles)
PROBE_SYMBOL = "LTCUSDT"  # not replayed: the harness moves it to make fills of the probe bots
# Probe i's lines are 100 + i + 10k: at 149.5 its top buy is 140 + i and 150 + i is its empty line
# (sizing.split_levels), so a price between two probes' lines fills one probe alone, and 139.5 or
# 154.5 fills all five at once.
PROBE_PRICE = Decimal("149.5")


def probe_config(i: int) -> dict:
    return {"strategy": "spot_grid", "lower_price": str(100 + i), "upper_price": str(200 + i), "grid_count": 10}


# the runtime's evidence that a bot was reconciled, newest design first (see module docstring)
BOT_EVIDENCE = ("reconciled_at", "last_reconciled_at", "last_reconcile_at", "last_tick_at")
ACCOUNT_EVIDENCE = ("reconciled_at", "last_reconciled_at", "last_reconcile_at")
TARGET_P99_MS = 250


def mark(ok: bool) -> str:
    return "target met" if ok else "target missed"


def arguments(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench scale --", description=__doc__.split("\n\n")[0])
    p.add_argument("--bots", type=int, default=1000, help="running bots (default 1000)")
    p.add_argument("--accounts", type=int, default=0, help="paper accounts (default bots/10)")
    p.add_argument(
        "--workers", type=int, default=1, help="Celery workers to start, each of --concurrency processes (default 1)"
    )
    p.add_argument("--concurrency", type=int, default=2, help="pool processes of each worker (default 2)")
    p.add_argument(
        "--interval",
        type=float,
        default=0,
        help="safety interval in s to check against (default: the runtime's, SETKA_SAFETY_SECONDS with the "
        "per-account safety net, else SETKA_BOT_TICK_SECONDS)",
    )
    p.add_argument("--intervals", type=float, default=3, help="measuring window in safety intervals (default 3)")
    p.add_argument("--probes", type=int, default=5, help="probe bots for the fill -> counter latency (default 5)")
    p.add_argument("--samples", type=int, default=50, help="latency samples at least (default 50)")
    p.add_argument("--fill-rate", type=float, default=1.0, help="target %% of bots filling per minute (default 1)")
    p.add_argument("--linear-share", type=float, default=0.3, help="share of linear (perpetual) bots (default 0.3)")
    p.add_argument("--ip-limit", type=int, default=600, help="twin's requests per 5 s per IP, 0 = off (default 600)")
    p.add_argument("--probe-timeout", type=float, default=20, help="longest wait for one counter order, s (default 20)")
    p.add_argument(
        "--latency-budget", type=float, default=120, help="longest time spent on latency samples, s (default 120)"
    )
    p.add_argument(
        "--force", action="store_true", help="run even if PostgreSQL seems to lack the connections the run needs"
    )
    p.add_argument("--launch-timeout", type=float, default=420, help="longest wait for the launches, s (default 420)")
    p.add_argument(
        "--no-stop-all", dest="stop_all", action="store_false", help="skip the operator's stop all at the end"
    )
    p.add_argument(
        "--stop-timeout", type=float, default=120, help="longest wait for stop all to finish, s (default 120)"
    )
    p.add_argument(
        "--no-faults", dest="faults", action="store_false", help="skip the fault matrix after the measuring window"
    )
    p.add_argument("--fault-window", type=float, default=90, help="trading under faults, s (default 90)")
    p.add_argument(
        "--settle-timeout",
        type=float,
        default=240,
        help="longest wait for the books to agree after it, s (default 240)",
    )
    p.add_argument("--seed", type=int, default=11)
    args = p.parse_args(argv)
    args.accounts = args.accounts or max(1, math.ceil(args.bots / 10))
    return args


def safety_interval() -> float:
    """The runtime's safety interval: every running bot must be reconciled at least this often.
    A per-account safety net (SETKA_ACCOUNT_SYNC) has its own setting; else the per-bot tick's."""
    if getattr(settings, "SETKA_ACCOUNT_SYNC", False):
        for name in ("SETKA_SAFETY_SECONDS", "SETKA_RECONCILE_SECONDS"):
            if hasattr(settings, name):
                return float(getattr(settings, name))
    return float(getattr(settings, "SETKA_BOT_TICK_SECONDS", 5))


def evidence_fields() -> tuple[list[str], str | None]:
    """The bot's fields that say when it was last known in line with the exchange (the latest
    of them counts: a full tick or a per-account pass), and such a field of its account."""
    bot_fields = {f.name for f in Bot._meta.get_fields()}
    account_fields = {f.name for f in ExchangeAccount._meta.get_fields()}
    bot = [f for f in BOT_EVIDENCE if f in bot_fields]
    account = next((f for f in ACCOUNT_EVIDENCE if f in account_fields), None)
    return bot, account


# --- processes -----------------------------------------------------------------------------------


class Cpu:
    """CPU seconds of each stack process with its children (its session: tests/stack.py gives
    every process its own) and of the whole machine, from /proc (Linux)."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, stack: Stack):
        self.stack = stack

    def read(self) -> dict[str, float]:
        by_session: dict[int, float] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            session, utime, stime = int(fields[3]), int(fields[11]), int(fields[12])
            by_session[session] = by_session.get(session, 0.0) + (utime + stime) / self.TICK
        out: dict[str, float] = {}
        for name, proc in self.stack.procs.items():
            if proc.alive and proc.popen is not None:
                kind = {"slow": "slow worker", "control": "control worker"}.get(name) or (
                    proc.kind if proc.kind != "manage" else name
                )
                out[kind] = out.get(kind, 0.0) + by_session.get(proc.popen.pid, 0.0)
        return out

    @staticmethod
    def machine() -> tuple[float, float]:
        """(busy, total) CPU seconds of the machine since boot."""
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return (sum(values) - idle) / Cpu.TICK, sum(values) / Cpu.TICK


def db_connections() -> tuple[int, int, int]:
    """(connections of this database, connections of the server, max_connections)."""
    with connection.cursor() as cur:
        cur.execute(
            "select count(*) filter (where datname = current_database()), count(*), "
            "current_setting('max_connections')::int from pg_stat_activity"
        )
        mine, total, most = cur.fetchone()
    return int(mine), int(total), int(most)


def db_stats() -> dict[str, float]:
    """This database's counters (pg_stat_database): time spent in statements, transactions, rows."""
    with connection.cursor() as cur:
        cur.execute(
            "select active_time, xact_commit + xact_rollback, tup_inserted + tup_updated + tup_deleted, "
            "tup_returned + tup_fetched from pg_stat_database where datname = current_database()"
        )
        row = cur.fetchone()
    return dict(zip(("active_ms", "xacts", "written", "read"), (float(v or 0) for v in row), strict=True))


TASK_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+): \w+/[^\]]*\] Task ([\w.]+)\[[^\]]*\] succeeded in ([\d.]+)s"
)


URGENT_LINE = re.compile(r"urgent tick of bot (\d+): queued ([\d.]+) started ([\d.]+)( with the push)?")


def urgent_ticks(logs: list[str]) -> dict[int, list[tuple[float, float, bool]]]:
    """Each bot's fill ticks from the workers' lines (bots.tasks.tick_run): (queued, started,
    with the stream's push), epoch seconds, in order."""
    out: dict[int, list[tuple[float, float, bool]]] = {}
    for text in logs:
        for m in URGENT_LINE.finditer(text):
            out.setdefault(int(m.group(1)), []).append((float(m.group(2)), float(m.group(3)), bool(m.group(4))))
    for ticks in out.values():
        ticks.sort()
    return out


def worker_tasks(logs: list[str], since: float, until: float) -> dict[str, list[float]]:
    """Durations of the tasks the workers finished between two times, by task name (Celery's own
    log lines: whatever task the runtime uses for ticks or reconcile passes is counted)."""
    out: dict[str, list[float]] = {}
    for text in logs:
        for line in text.splitlines():
            m = TASK_LINE.match(line)
            if m is None:
                continue
            at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if since <= at <= until:
                out.setdefault(m.group(2).rsplit(".", 1)[-1], []).append(float(m.group(3)))
    return out


def queue_depth() -> int:
    """Messages waiting in the Celery queues on the broker (Redis lists)."""
    import redis

    r = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    names = [k for k in r.scan_iter(match="celery*", count=1000) if r.type(k) == b"list"]
    names += [k for k in r.scan_iter(match="urgent*", count=1000) if r.type(k) == b"list"]
    names += [k for k in r.scan_iter(match="ticks.*", count=1000) if r.type(k) == b"list"]
    return sum(r.llen(k) for k in names)


# --- seeding ---------------------------------------------------------------------------------------


@dataclass
class Seeded:
    load_ids: list[int]
    probe_ids: list[int]
    load_uids: list[int]
    probe_uids: list[int]
    probe_accounts: list[int]


def volatility(symbol: str, start_index: int, minutes: int = 600) -> float:
    """The median 1-minute range (high - low) / open of the candles the replay will play."""
    candles = feed.load_candles(str(feed.default_csv(symbol)))
    ranges = sorted(
        float((c.high - c.low) / c.open) for c in candles[start_index : start_index + minutes] if c.open > 0
    )
    return ranges[len(ranges) // 2] if ranges else 0.002


def load_config(rng: random.Random, price: Decimal, vol: float, linear: bool) -> dict:
    """A grid around the price whose step is 3-10 typical 1-minute ranges of its symbol, so that
    BTC and ETH bots fill about as often; count, spacing and the price's place in it vary."""
    step = Decimal(str(round(vol * rng.uniform(3, 10), 6)))
    count = rng.randint(6, 24)
    below = Decimal(str(round(count * rng.uniform(0.3, 0.7) + rng.uniform(-0.4, 0.4), 3)))
    spacing = rng.choice(("arithmetic", "geometric"))
    cent = Decimal("0.01")
    if spacing == "arithmetic":
        lower = (price - price * step * below).quantize(cent)
        upper = (lower + price * step * count).quantize(cent)
    else:
        lower = (price / (1 + step) ** below).quantize(cent)
        upper = (lower * (1 + step) ** count).quantize(cent)
    config = {
        "strategy": "linear_grid" if linear else "spot_grid",
        "lower_price": str(lower),
        "upper_price": str(upper),
        "grid_count": count,
        "spacing": spacing,
        "investment": "1000",
    }
    if linear:
        config.update(direction="neutral", leverage="5", on_stop="close_position")  # stop all: no position left
    return config


def seed(args, control: SimulatorControl, prices: dict[str, Decimal], vols: dict[str, float]) -> Seeded:
    rng = random.Random(args.seed)
    stamp = time.time_ns()
    bybit = Exchange.objects.get(code="bybit")
    n_accounts = args.accounts + args.probes
    twin = [control.create_account(funding={"USDT": "1000000"}) for _ in range(n_accounts)]
    granted = timezone.now()
    users = User.objects.bulk_create(
        User(email=f"bench-scale-{stamp}-{i}@example.com", password="!", access_granted_at=granted)
        for i in range(n_accounts)
    )
    accounts = ExchangeAccount.objects.bulk_create(
        ExchangeAccount(
            user=user,
            exchange=bybit,
            label=f"scale {i}",
            environment=ExchangeAccount.Environment.PAPER,
            api_key=acc.api_key,
            api_secret=acc.api_secret,
            api_key_hint="bench",
        )
        for i, (user, acc) in enumerate(zip(users, twin, strict=True))
    )
    load_accounts, probe_accounts = accounts[: args.accounts], accounts[args.accounts :]
    bots: list[Bot] = []
    for n in range(args.bots):
        account = load_accounts[n % len(load_accounts)]
        symbol = LOAD_SYMBOLS[n % len(LOAD_SYMBOLS)]
        linear = rng.random() < args.linear_share
        config = load_config(rng, prices[symbol], vols[symbol], linear)
        bots.append(
            Bot(
                user_id=account.user_id,
                exchange_account=account,
                name=f"scale {n}",
                symbol=symbol,
                category="linear" if linear else "spot",
                config=config,
                investment=Decimal(config["investment"]),
            )
        )
    for n, account in enumerate(probe_accounts):
        bots.append(
            Bot(
                user_id=account.user_id,
                exchange_account=account,
                name=f"scale probe {n}",
                symbol=PROBE_SYMBOL,
                category="spot",
                config={**probe_config(n), "investment": "1000"},
                investment=Decimal("1000"),
            )
        )
    created = Bot.objects.bulk_create(bots, batch_size=1000)
    load, probes = created[: args.bots], created[args.bots :]
    return Seeded(
        load_ids=[b.pk for b in load],
        probe_ids=[b.pk for b in probes],
        load_uids=[a.uid for a in twin[: args.accounts]],
        probe_uids=[a.uid for a in twin[args.accounts :]],
        probe_accounts=[a.pk for a in probe_accounts],
    )


def start_all(ids: list[int]) -> None:
    """Every bot through the start service (which queues its launch tick)."""
    for bot in Bot.objects.filter(pk__in=ids).select_related("exchange_account", "user"):
        bot_start(bot=bot)


def wait_launched(ids: list[int], timeout: float) -> dict[str, int]:
    """Until no bot is starting and no order of theirs waits to be sent (a ladder the account's
    order quota could not take at once goes out over the next ticks), or the timeout."""
    from trading.models import Order

    deadline = time.monotonic() + timeout
    while True:
        counts = dict(Bot.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("id")).order_by())
        waiting = Order.objects.filter(bot_id__in=ids, status=Order.Status.PENDING).count()
        if (not counts.get(Bot.Status.STARTING) and not waiting) or time.monotonic() > deadline:
            return {**counts, "orders still to send": waiting}
        time.sleep(0.5)


# --- price path --------------------------------------------------------------------------------------


class FillPacer(threading.Thread):
    """Plays the real candles only as fast as the target fill rate asks: every second it compares
    the load bots' executions on the twin (its /control/status count, less the probes' own) with
    `rate` % of the running bots per minute since the start, and while they are behind it walks
    the next 1-minute candle of the next replayed symbol along its path (open, nearer extreme,
    farther extreme, close) in STEPS prices a quarter of a second apart, as a market trades through
    its minute (a whole candle set at once filled 5 % of 1,000 bots in one instant); ahead of the
    target, the walk waits where it is."""

    STEPS = 24
    STEP_SECONDS = 0.25

    def __init__(self, control: SimulatorControl, probe_uids: list[int], bots: int, rate: float, start_index: int):
        super().__init__(daemon=True)
        self.control, self.probe_uids = control, probe_uids
        self.per_second = rate / 100 * bots / 60
        self.stop_event = threading.Event()
        self.candles = 0
        self.index = {s: start_index for s in LOAD_SYMBOLS}
        self.series = {s: feed.load_candles(str(feed.default_csv(s))) for s in LOAD_SYMBOLS}
        self.error: BaseException | None = None

    def load_executions(self) -> int:
        probes = sum(len(self.control.ledger(uid)["executions"]) for uid in self.probe_uids)
        return int(self.control.status()["executions"]) - probes

    def walk(self, symbol: str) -> list[Decimal]:
        """The next candle's path as STEPS prices (each leg gets steps by its length)."""
        candles = self.series[symbol]
        candle = candles[self.index[symbol] % len(candles)]
        self.index[symbol] += 1
        points = [p for p, _ in candle.path()]
        legs = list(zip(points, points[1:], strict=False))
        length = sum(abs(b - a) for a, b in legs) or Decimal(1)
        prices: list[Decimal] = []
        for a, b in legs:
            n = max(1, round(self.STEPS * abs(b - a) / length))
            prices += [(a + (b - a) * k / n).quantize(Decimal("0.01")) for k in range(1, n + 1)]
        return prices

    def run(self) -> None:
        try:
            base, started = self.load_executions(), time.monotonic()
            steps: list[tuple[str, Decimal]] = []
            checked, behind = 0.0, False
            while not self.stop_event.wait(self.STEP_SECONDS):
                now = time.monotonic()
                if now - checked >= 1.0:  # ahead of the target: the walk waits where it is
                    checked = now
                    behind = self.load_executions() - base < self.per_second * (now - started)
                if not behind:
                    continue
                if not steps:
                    symbol = LOAD_SYMBOLS[self.candles % len(LOAD_SYMBOLS)]
                    steps = [(symbol, p) for p in self.walk(symbol)]
                    self.candles += 1
                symbol, price = steps.pop(0)
                self.control.set_price(symbol, price)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc


# --- measurements ------------------------------------------------------------------------------


class EvidenceSampler(threading.Thread):
    """Reads every tracked bot's reconcile evidence a few times a second; keeps the distinct
    values seen, so gaps between consecutive reconciles come from the runtime's timestamps."""

    def __init__(self, ids: list[int], bot_fields: list[str], account_field: str | None, period: float = 0.25):
        super().__init__(daemon=True)
        self.lo, self.hi, self.ids = min(ids), max(ids), set(ids)
        self.bot_fields, self.account_field, self.period = bot_fields, account_field, period
        self.seen: dict[int, list[float]] = {pk: [] for pk in ids}
        self.ages: list[float] = []
        self.stop_event = threading.Event()
        self.started_at = self.stopped_at = 0.0
        self.error: BaseException | None = None

    def read(self) -> dict[int, float | None]:
        cols = ["pk", *self.bot_fields] + ([f"exchange_account__{self.account_field}"] if self.account_field else [])
        out: dict[int, float | None] = {}
        for row in Bot.objects.filter(pk__gte=self.lo, pk__lte=self.hi).values_list(*cols):
            if row[0] not in self.ids:
                continue
            stamps = [v.timestamp() for v in row[1:] if v is not None]
            out[row[0]] = max(stamps) if stamps else None
        return out

    def run(self) -> None:
        try:
            self.started_at = time.time()
            while not self.stop_event.is_set():
                now = time.time()
                for pk, t in self.read().items():
                    seen = self.seen[pk]
                    if t is not None and (not seen or seen[-1] != t):
                        seen.append(t)
                    self.ages.append(now - t if t is not None else now - self.started_at)
                self.stop_event.wait(self.period)
            self.stopped_at = time.time()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc
        finally:
            connection.close()

    def gaps(self) -> dict[int, float]:
        """Per bot: the longest time inside the window without a reconcile."""
        out = {}
        for pk, stamps in self.seen.items():
            before = [t for t in stamps if t <= self.started_at]
            inside = [t for t in stamps if t > self.started_at]
            points = ([before[-1]] if before else [self.started_at]) + inside + [self.stopped_at]
            out[pk] = max(b - a for a, b in zip(points, points[1:], strict=False))
        return out


def crossings(uids: list[int], *, burst: bool) -> Iterator[tuple[Decimal, dict[int, tuple[str, Decimal, Decimal]]]]:
    """The probes' price moves, endlessly: (price, {uid: (side of the order crossed, its line, the
    counter order's line)}). Alone: down from the top probe's buy (143.5 fills probe 4's 144 only),
    probe by probe, then up through their counter sells (150.5 fills probe 0's 150 only). A burst:
    139.5 fills every probe's top buy at once, 154.5 every counter sell."""
    lines = {uid: i for i, uid in enumerate(uids)}
    while True:
        if burst:
            yield Decimal("139.5"), {u: ("Buy", Decimal(140 + i), Decimal(150 + i)) for u, i in lines.items()}
            yield Decimal("154.5"), {u: ("Sell", Decimal(150 + i), Decimal(140 + i)) for u, i in lines.items()}
            continue
        for u, i in sorted(lines.items(), key=lambda kv: -kv[1]):
            yield Decimal(139.5 + i), {u: ("Buy", Decimal(140 + i), Decimal(150 + i))}
        for u, i in sorted(lines.items(), key=lambda kv: kv[1]):
            yield Decimal(150.5 + i), {u: ("Sell", Decimal(150 + i), Decimal(140 + i))}


def measure_latency(
    control: SimulatorControl,
    uids: list[int],
    samples: int,
    timeout: float,
    budget: float,
    *,
    burst: bool,
    detail: list[tuple[float, str, str, int]] | None = None,
) -> tuple[list[float], int]:
    """Move the probes' price (`crossings`); each move fills one order of each probe it names.
    Latency = the counter order's createdTime - the fill's execTime, both the twin's clock.
    Returns (latencies in s, fills whose counter order did not come within `timeout`)."""
    result: list[float] = []
    missed = 0
    ends = time.monotonic() + budget
    moves = crossings(uids, burst=burst)
    while len(result) + missed < samples and time.monotonic() < ends:
        price, crossed_lines = next(moves)
        # only probes whose order on the crossed line is on the book (the last counter order came)
        ready: dict[int, dict] = {}
        deadline = min(ends, time.monotonic() + timeout)
        while time.monotonic() < deadline:
            for uid, (side, line, _want) in crossed_lines.items():
                if uid not in ready:
                    led = control.ledger(uid)
                    if any(o["side"] == side and Decimal(o["price"]) == line for o in led["open_orders"]):
                        ready[uid] = led
            if len(ready) == len(crossed_lines):
                break
            time.sleep(0.05)
        if not ready:
            missed += len(crossed_lines)
            continue
        crossed = {
            uid: {o["orderLinkId"] for o in led["open_orders"] if Decimal(o["price"]) == crossed_lines[uid][1]}
            for uid, led in ready.items()
        }
        known = {uid: {o["orderLinkId"] for o in led["open_orders"]} for uid, led in ready.items()}
        control.set_price(PROBE_SYMBOL, price)
        waiting = set(ready)
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            time.sleep(0.05)
            for uid in list(waiting):
                led = control.ledger(uid)
                filled = [e for e in led["executions"] if e.get("orderLinkId") in crossed[uid]]
                fills = [int(e["execTime"]) for e in filled]
                news = sorted(
                    (int(o["createdTime"]), o["orderLinkId"])
                    for o in led["open_orders"]
                    if o["orderLinkId"] not in known[uid] and Decimal(o["price"]) == crossed_lines[uid][2]
                )
                if fills and news:
                    result.append((news[0][0] - max(fills)) / 1000)
                    if detail is not None:  # (latency, the fill's order, the counter's, its execTime)
                        detail.append((result[-1], filled[-1]["orderLinkId"], news[0][1], max(fills)))
                    waiting.discard(uid)
        missed += len(waiting)
    return result, missed


def slow_parts(
    detail: list[tuple[float, str, str, int]], ticks: dict[int, list[tuple[float, float, bool]]], n: int = 3
) -> list[str]:
    """Where the slowest samples' time went, each part from the twin's execTime (one clock): the
    stream heard the fill and queued its tick, a worker process started it (the workers' lines,
    `ticks`), the fill stored, the counter order written (the tick decided), and accepted by the
    twin (sent)."""
    from bots.engine.ids import parse_client_order_id
    from trading.models import Order, Trade

    out = []
    for latency, filled_id, counter_id, exec_ms in sorted(detail, reverse=True)[:n]:
        stored = Trade.objects.filter(order__client_order_id=filled_id).order_by("created_at").first()
        counter = Order.objects.filter(client_order_id=counter_id).first()
        if stored is None or counter is None:
            continue
        at_stored = stored.created_at.timestamp() * 1000 - exec_ms
        at_written = counter.created_at.timestamp() * 1000 - exec_ms
        key = parse_client_order_id(filled_id)
        tick = next(
            (t for t in ticks.get(key.bot_id if key else -1, []) if t[0] * 1000 >= exec_ms - 50),
            None,
        )
        heard = (
            f"queued {tick[0] * 1000 - exec_ms:.0f}, started {tick[1] * 1000 - exec_ms:.0f}"
            f"{' (with the push)' if tick[2] else ''}, "
            if tick
            else "no fill tick queued, "
        )
        out.append(
            f"{latency * 1000:.0f} ms = {heard}fill stored {at_stored:.0f}, counter written {at_written:.0f}, "
            f"accepted {latency * 1000:.0f}"
        )
    return out


def realised_fills(control: SimulatorControl, uids: list[int], since_ms: int, until_ms: int) -> tuple[int, int]:
    """(filled orders, bots with a fill) on the twin between the two times, from the ledgers."""
    orders, bots = set(), set()
    for uid in uids:
        for e in control.ledger(uid)["executions"]:
            if since_ms <= int(e["execTime"]) <= until_ms and e.get("orderLinkId"):
                orders.add(e["orderId"])
                bots.add(e["orderLinkId"].split("g")[0])
    return len(orders), len(bots)


def open_orders(control: SimulatorControl, uids: list[int]) -> int:
    return sum(len(control.ledger(uid)["open_orders"]) for uid in uids)


# --- main ----------------------------------------------------------------------------------------


def main(argv=None) -> None:
    args = arguments(argv)
    interval = args.interval or safety_interval()
    window = args.intervals * interval
    bot_fields, account_field = evidence_fields()
    call_command("migrate", verbosity=0)
    _, in_use, most = db_connections()
    # The harness, beat, the streams process (its stream threads give theirs back after each
    # callback) and each worker's processes; a margin for the probes' bursts.
    need = 20 + args.workers * (args.concurrency + 1)
    if most - in_use < need and not args.force:
        raise SystemExit(
            f"harness: PostgreSQL has {most - in_use} free connections of {most}; this run needs about {need}. "
            "Raise max_connections or pass --force."
        )
    env = {
        "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "SETKA_SIMULATOR_CONTROL_TOKEN": TOKEN,
    }
    print(
        f"{args.bots} bots on {args.accounts} paper accounts (+{args.probes} probe bots), {args.workers} worker(s) x "
        f"{args.concurrency} processes, beat, 1 streams; twin per-IP limit {args.ip_limit or 'off'} per 5 s; "
        f"safety interval {interval:g} s; evidence the latest of Bot.{', Bot.'.join(bot_fields)}"
        + (f" / ExchangeAccount.{account_field}" if account_field else "")
    )
    wall = time.perf_counter()
    with Stack(env=env, log_dir=tempfile.mkdtemp(prefix="bench-scale-")) as stack:
        port = free_port()
        sim = stack.start(
            "simulator",
            "manage",
            port=port,
            args=[
                "run_simulator",
                "--port",
                str(port),
                "--state",
                "",
                "--replay",
                "",
                "--ip-limit",
                str(args.ip_limit),
            ],
        )
        stack.env["SETKA_SIMULATOR_URL"] = settings.SETKA_SIMULATOR_URL = sim.url
        control = SimulatorControl(sim.url, TOKEN)
        trading_resume(actor=None)
        Bot.objects.filter(status__in=Bot.ACTIVE_STATUSES).update(status=Bot.Status.STOPPED)  # earlier runs
        call_command("setup_schedules", stdout=open(os.devnull, "w"))  # noqa: SIM115 - the runtime's own periods
        # the replays' cursors at their first candle; the grids are drawn around its close
        prices, vols = {}, {}
        for symbol in LOAD_SYMBOLS:
            control.start_replay(symbol, speed=0)
            control.advance(symbol, 1)
            prices[symbol], vols[symbol] = control.price(symbol), volatility(symbol, 1)
        control.set_price(PROBE_SYMBOL, PROBE_PRICE)

        for n in range(args.workers):
            stack.start(
                f"worker{n}",
                "worker",
                concurrency=args.concurrency,
                purge=(n == 0),
                node=f"scale{n}",
                queues=worker_queues(0),  # the runtime's queues (urgent, celery); slow work has its own
            )
        stack.start("slow", "worker", concurrency=1, node="slow", queues="notify,slow")  # README: the side worker
        stack.start("control", "worker", concurrency=1, node="control", queues="control")  # README: stop runs
        stack.start("streams")
        stack.start("beat")
        cpu = Cpu(stack)

        t0 = time.perf_counter()
        seeded = seed(args, control, prices, vols)
        t_rows = time.perf_counter() - t0
        status0 = control.status()
        all_ids = seeded.load_ids + seeded.probe_ids
        t0 = time.perf_counter()
        start_all(all_ids)
        t_start = time.perf_counter() - t0
        counts = wait_launched(all_ids, args.launch_timeout)
        t_launch = time.perf_counter() - t0
        status1 = control.status()
        ladders = open_orders(control, seeded.load_uids)
        running = list(
            Bot.objects.filter(pk__in=seeded.load_ids, status=Bot.Status.RUNNING).values_list("pk", flat=True)
        )
        probes_running = list(
            Bot.objects.filter(pk__in=seeded.probe_ids, status=Bot.Status.RUNNING).values_list(
                "exchange_account__id", flat=True
            )
        )
        print(
            f"seeding: {len(all_ids)} bots, {args.accounts + args.probes} users/accounts written in {t_rows:.1f} s; "
            f"start service for all in {t_start:.1f} s; launched (no bot starting, no order waiting) after {t_launch:.1f} s "
            f"= {len(all_ids) / t_launch:.1f} launches/s"
        )
        print(
            f"  statuses {dict(sorted(counts.items()))}; {ladders} open orders on the twin; launch requests "
            f"{status1['requests'] - status0['requests']}, refused {_refused(status0, status1)}"
        )
        if not running or not probes_running:
            print(stack.all_logs(), file=sys.stderr)
            raise SystemExit("harness: no load bot or no probe bot is running; see the logs above")
        probe_uids = [
            uid for uid, pk in zip(seeded.probe_uids, seeded.probe_accounts, strict=True) if pk in probes_running
        ]

        time.sleep(interval)  # a first round of the safety net; the launch's tail settles
        cpu0, db0, status_a, q0 = cpu.read(), db_stats(), control.status(), queue_depth()
        machine0 = Cpu.machine()
        since = time.time()
        # price path: real candles, played as fast as fill_rate % of the bots per minute asks
        pacer = FillPacer(SimulatorControl(sim.url, TOKEN), probe_uids, len(running), args.fill_rate, start_index=1)
        pacer.start()
        sampler = EvidenceSampler(running, bot_fields, account_field)
        sampler.start()
        detail: list[tuple[float, str, str, int]] = []
        latencies, missed = measure_latency(
            control, probe_uids, args.samples, args.probe_timeout, args.latency_budget, burst=False, detail=detail
        )
        bursts, bursts_missed = measure_latency(
            control, probe_uids, args.samples, args.probe_timeout, args.latency_budget, burst=True
        )
        depths, conns = [q0], [db_connections()[0]]
        while time.time() - since < window:
            depths.append(queue_depth())
            conns.append(db_connections()[0])
            time.sleep(0.5)
        depths.append(queue_depth())
        conns.append(db_connections()[0])
        sampler.stop_event.set()
        pacer.stop_event.set()
        sampler.join()
        pacer.join()
        until = time.time()
        measured = until - since
        status_b, cpu1, db1, machine1 = control.status(), cpu.read(), db_stats(), Cpu.machine()
        busy = (machine1[0] - machine0[0]) / max(1e-9, machine1[1] - machine0[1]) * 100
        for symbol in LOAD_SYMBOLS:
            control.stop_replay(symbol)
        for thread in (sampler, pacer):
            if thread.error is not None:
                raise thread.error
        fills, bots_filled = realised_fills(control, seeded.load_uids, int(since * 1000), int(until * 1000))
        worker_logs = [p.log() for p in stack.procs.values() if p.kind == "worker"]
        tasks = worker_tasks(worker_logs, since, until)
        fill_ticks = urgent_ticks(worker_logs)
        faults = fault_matrix(stack, sim.url, seeded, probe_uids, len(running), args) if args.faults else None
        stop = stop_all(control, seeded, all_ids, args.stop_timeout) if args.stop_all else None
        Bot.objects.filter(pk__in=all_ids).update(status=Bot.Status.STOPPED)
        trading_resume(actor=None)

    gaps = sampler.gaps()
    late = sum(1 for g in gaps.values() if g > interval)
    refused = _refused(status_a, status_b)
    minutes = measured / 60
    served = status_b["requests"] - status_a["requests"]
    gap_values = list(gaps.values())
    print(
        f"== scale: {len(running)} running bots, window {measured:.0f} s ({measured / interval:.1f} safety intervals)"
    )
    print(
        f"price: {pacer.candles} real 1-minute candles of {', '.join(LOAD_SYMBOLS)} walked, paced for "
        f"{args.fill_rate:g} % of the bots per minute; realised {fills / minutes:.1f} filled orders/min = "
        f"{fills / minutes / len(running) * 100:.2f} % of bots per minute ({bots_filled} bots filled at least once)"
    )
    print(
        f"(a) reconciled within every {interval:g} s: {(1 - late / len(gaps)) * 100:.1f} % of bots, {late} not "
        f"[{mark(late == 0)}: 100 %]; age of the evidence min {max(0.0, min(sampler.ages)):.1f} s, max {max(sampler.ages):.1f} s; "
        f"longest gap per bot p50 {pct(gap_values, 50):.1f} s, p99 {pct(gap_values, 99):.1f} s, "
        f"max {max(gap_values):.1f} s"
    )
    print(
        f"(b) refused by the twin's rate limits in the window: {refused['403']} x 403 (per IP), "
        f"{refused['10006']} x 10006 (per UID) [{mark(sum(refused.values()) == 0)}: 0]"
    )
    if latencies:
        p99 = pct(latencies, 99) * 1000
        print(
            f"(c) fill -> counter order accepted, one fill at a time, {len(running)} bots running: "
            f"p50 {pct(latencies, 50) * 1000:.0f} ms, p95 {pct(latencies, 95) * 1000:.0f} ms, p99 {p99:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms (n={len(latencies)}; {missed} more not within {args.probe_timeout:g} s) "
            f"[{mark(p99 <= TARGET_P99_MS and not missed)}: p99 <= {TARGET_P99_MS} ms]"
        )
        print("    the slowest, by part: " + "; ".join(slow_parts(detail, fill_ticks)))
        waits = [
            started - queued
            for ticks in fill_ticks.values()
            for queued, started, _ in ticks
            if since <= queued <= until
        ]
        if waits:
            print(
                f"    every fill tick in the window, queued -> started by a worker process: p50 {pct(waits, 50) * 1000:.0f} ms, "
                f"p99 {pct(waits, 99) * 1000:.0f} ms, max {max(waits) * 1000:.0f} ms (n={len(waits)})"
            )
    else:
        print(f"(c) fill -> counter order: no sample ({missed} not within {args.probe_timeout:g} s) [{mark(False)}]")
    if bursts:
        print(
            f"    {len(probe_uids)} probes filled at the same instant (one price move): p50 {pct(bursts, 50) * 1000:.0f} ms, "
            f"p95 {pct(bursts, 95) * 1000:.0f} ms, p99 {pct(bursts, 99) * 1000:.0f} ms, max {max(bursts) * 1000:.0f} ms "
            f"(n={len(bursts)}; {bursts_missed} more not within {args.probe_timeout:g} s)"
        )
    used = {k: (cpu1.get(k, 0.0) - cpu0.get(k, 0.0)) / measured for k in cpu1}
    print(
        f"(d) twin served {served / measured:.0f} requests/s ({served} in the window); CPU in cores: "
        + ", ".join(f"{k} {v:.2f}" for k, v in used.items())
        + f"; machine {busy:.0f} % busy, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"    PostgreSQL (this database): statements active {(db1['active_ms'] - db0['active_ms']) / 1000 / measured:.2f} "
        f"s/s, {(db1['xacts'] - db0['xacts']) / measured:.0f} transactions/s, "
        f"{(db1['written'] - db0['written']) / measured:.0f} rows written/s, connections held up to {max(conns)}; "
        f"Celery queue depth max {max(depths)}, end {depths[-1]}"
    )
    for name, durations in sorted(tasks.items(), key=lambda kv: -sum(kv[1])):
        print(
            f"    worker {name}: {len(durations) / measured:.1f}/s, p50 {pct(durations, 50) * 1000:.0f} ms, "
            f"p99 {pct(durations, 99) * 1000:.0f} ms, {sum(durations) / measured:.2f} process-s/s"
        )
    if faults is not None:
        books = faults["books"]
        clean = faults["settled_after"] is not None and not any(books.values())
        print(
            f"(f) fault matrix, {len(running)} bots trading for {args.fault_window:g} s under "
            + ", ".join(faults["injected"])
            + f"; {faults['fills']} fills meanwhile"
        )
        print(
            "    then the books of the twin and ours "
            + (
                f"agreed {faults['settled_after']:.0f} s after the faults were cleared"
                if faults["settled_after"] is not None
                else f"did not agree within {args.settle_timeout:g} s"
            )
            + f": executions not stored {books['lost fills']}, stored twice {books['doubled fills']}, stored "
            f"and unknown to the twin {books['unknown fills']}; client ids sent as two exchange orders "
            f"{books['duplicate orders']}, grid lines with two live orders {books['doubled lines']}, open on the "
            f"twin without an open row {books['orphans']}, open rows the twin does not show {books['missing']} "
            f"[{mark(clean)}: 0 duplicate orders, 0 lost fills]"
        )
    if stop is not None:
        done = stop["done_after"]
        print(
            f"(e) stop all of {len(all_ids)} bots from the admin: answered in {stop['answered_ms']:.0f} ms "
            f"[{mark(stop['answered_ms'] < 1000)}: < 1 s]; "
            + (
                f"every order cancelled, every position closed and every bot stopped after {done:.1f} s "
                f"[{mark(done <= 60)}: 60 s]"
                if done is not None
                else f"not finished after {args.stop_timeout:g} s [{mark(False)}]: {stop['open_orders']} orders open, "
                f"{stop['positions']} positions, {stop['active']} bots not stopped"
            )
            + f"; grid orders sent after the stop: {stop['sent_after']} [{mark(stop['sent_after'] == 0)}: 0]; "
            f"{stop['closed']} positions closed at market"
        )
        print(
            "    stop all, each part first done after: "
            + ", ".join(f"{name} {at:.1f} s" for name, at in sorted(stop["milestones"].items(), key=lambda kv: kv[1]))
        )
    print(f"wall time {time.perf_counter() - wall:.0f} s")


# The stage-1 fault matrix, at scale: each fault takes the first `count` requests (or stream
# messages) of its path on the twin, whichever account sends them.
FAULTS: tuple[dict[str, Any], ...] = (
    {"kind": "http_error", "path": "/v5/order/create-batch", "status": 502, "count": 15},
    {"kind": "http_error", "path": "/v5/order/create", "status": 502, "count": 15},
    {"kind": "timeout_after_accept", "path": "/v5/order/create-batch", "count": 15},
    {"kind": "timeout_after_accept", "path": "/v5/order/create", "count": 15},
    {"kind": "rate_limit", "path": "/v5/order/create-batch", "count": 15},
    {"kind": "http_error", "path": "/v5/execution/list", "status": 503, "count": 15},
    {"kind": "rate_limit", "path": "/v5/order/realtime", "count": 15},
    {"kind": "ws_drop", "path": "execution", "count": 40},
    {"kind": "ws_drop", "path": "order", "count": 40},
)
# (seconds into the fault window, process to kill -9 and start again)
KILLS = ((10, "worker0"), (30, "streams"), (45, "beat"), (55, "slow"), (70, "worker0"))


def fault_matrix(stack: Stack, url: str, seeded: Seeded, probe_uids: list[int], running: int, args) -> dict:
    """Trading goes on (the price walk again) while the twin answers with 5xx, timeouts after
    accepting, 10006 and dropped stream messages, and every runtime process is killed with -9
    and started again; then the faults are cleared and the twin's books are compared with ours
    until they agree: every execution stored exactly once, no client order id sent as two
    orders, no grid line with two live orders, no order open on one side only."""
    control = SimulatorControl(url, TOKEN)
    uids = seeded.load_uids + seeded.probe_uids
    before = int(control.status()["executions"])
    pacer = FillPacer(SimulatorControl(url, TOKEN), probe_uids, running, args.fill_rate * 3, start_index=400)
    for fault in FAULTS:
        control.inject_fault(**fault)
    injected = [f"{f['count']} x {f['kind']} {f['path']}" for f in FAULTS]
    started = time.monotonic()
    pacer.start()
    for at, name in KILLS:
        time.sleep(max(0.0, started + at - time.monotonic()))
        stack.restart(name, purge=False)  # kill -9 of its whole process group, then a fresh start
    injected += [f"kill -9 of {name} at {at} s" for at, name in KILLS]
    time.sleep(max(0.0, started + args.fault_window - time.monotonic()))
    pacer.stop_event.set()
    pacer.join()
    if pacer.error is not None:
        raise pacer.error
    control.clear_faults()
    fills = int(control.status()["executions"]) - before
    cleared = time.monotonic()
    while True:
        books = books_compared(control, uids, seeded.load_ids + seeded.probe_ids)
        settled = not any(books.values())
        if settled or time.monotonic() - cleared > args.settle_timeout:
            break
        time.sleep(3)
    return {
        "injected": injected,
        "fills": fills,
        "books": books,
        "settled_after": time.monotonic() - cleared if settled else None,
    }


def books_compared(control: SimulatorControl, uids: list[int], bot_ids: list[int]) -> dict[str, int]:
    """What differs between the twin's ledgers and our rows (all zero when the books agree)."""
    from collections import Counter

    from bots.engine.ids import parse_client_order_id
    from trading.models import Order, Trade

    theirs: set[str] = set()
    orders_of_link: dict[str, set[str]] = {}
    open_links: Counter[str] = Counter()
    lines: Counter[tuple] = Counter()
    for uid in uids:
        ledger = control.ledger(uid)
        for e in ledger["executions"]:
            if e["execType"] == "Funding":
                continue
            theirs.add(e["execId"])
            orders_of_link.setdefault(e["orderLinkId"], set()).add(e["orderId"])
        for o in ledger["open_orders"]:
            open_links[o["orderLinkId"]] += 1
            orders_of_link.setdefault(o["orderLinkId"], set()).add(o["orderId"])
            key = parse_client_order_id(o["orderLinkId"])
            if key is not None and key.purpose == "grid":
                lines[(key.bot_id, key.generation, key.level, o["side"])] += 1
    ours = Counter(Trade.objects.filter(bot_id__in=bot_ids).values_list("exec_id", flat=True))
    open_rows = set(
        Order.objects.filter(
            bot_id__in=bot_ids, status__in=[Order.Status.OPEN, Order.Status.PARTIALLY_FILLED]
        ).values_list("client_order_id", flat=True)
    )
    return {
        "lost fills": len(theirs - set(ours)),
        "doubled fills": sum(n - 1 for n in ours.values() if n > 1),
        "unknown fills": len(set(ours) - theirs),
        "duplicate orders": sum(1 for ids in orders_of_link.values() if len(ids) > 1)
        + sum(n - 1 for n in open_links.values() if n > 1),
        "doubled lines": sum(n - 1 for n in lines.values() if n > 1),
        "orphans": len(set(open_links) - open_rows),
        "missing": len(open_rows - set(open_links)),
    }


def stop_all(control: SimulatorControl, seeded: Seeded, ids: list[int], timeout: float) -> dict:
    """The operators' "stop all" through the admin's trading switch (a superuser's POST, as the
    page sends it), then the twin's books every second until no order is open, no position is
    left and every bot is stopped. Grid orders whose send began after the switch answered are
    counted from the rows of record (every order is written before it is sent)."""
    from django.test import Client

    from trading.models import Order

    operator = User.objects.create_superuser(email=f"bench-scale-op-{time.time_ns()}@example.com", password="x" * 12)
    client = Client()
    client.force_login(operator)
    assert client.get("/admin/bots/tradingswitch/").status_code == 200
    started = time.perf_counter()
    response = client.post("/admin/bots/tradingswitch/", {"reason": "bench scale", "confirm": "on"})
    answered = (time.perf_counter() - started) * 1000
    assert response.status_code == 302, response.status_code
    stopped_at = timezone.now()
    uids = seeded.load_uids + seeded.probe_uids
    ends = time.perf_counter() + timeout
    milestones: dict[str, float] = {}  # when each part was first done, s after the POST
    while True:
        ledgers = [control.ledger(uid) for uid in uids]
        open_orders = sum(len(led["open_orders"]) for led in ledgers)
        positions = sum(1 for led in ledgers for p in led["positions"] if Decimal(p.get("size") or 0) != 0)
        active = Bot.objects.filter(pk__in=ids).exclude(status__in=[Bot.Status.STOPPED, Bot.Status.ERROR]).count()
        done_after = time.perf_counter() - started
        run = stop_run_get()
        for name, done in (
            (
                "marked",
                not Bot.objects.filter(pk__in=ids, status__in=[Bot.Status.RUNNING, Bot.Status.STARTING]).exists(),
            ),
            ("run finished", bool(run and run.finished_at)),
            ("orders cancelled", not open_orders),
            ("positions closed", not positions),
            ("bots stopped", not active),
        ):
            if done:
                milestones.setdefault(name, done_after)
        if (not open_orders and not positions and not active) or time.perf_counter() > ends:
            break
        time.sleep(1)
    finished = not open_orders and not positions and not active
    rows = Order.objects.filter(bot_id__in=ids)
    return {
        "answered_ms": answered,
        "done_after": done_after if finished else None,
        "open_orders": open_orders,
        "positions": positions,
        "active": active,
        "sent_after": rows.filter(sent_at__gt=stopped_at).exclude(purpose=Order.Purpose.CLOSE).count(),
        "closed": rows.filter(purpose=Order.Purpose.CLOSE, sent_at__gt=stopped_at).count(),
        "milestones": milestones,
    }


def _refused(before: dict, after: dict) -> dict[str, int]:
    b, a = before.get("refused", {}), after.get("refused", {})
    return {k: int(a.get(k, 0)) - int(b.get(k, 0)) for k in ("403", "10006")}


if __name__ == "__main__":
    main(sys.argv[1:])
