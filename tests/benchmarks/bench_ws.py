"""Live-update benchmark against one daphne process (Redis channel layer):

1. latency from bots.events.emit() (inside a committed transaction) to the message at a
   WebSocket client: p50/p99 over a few hundred events;
2. fan-out: how many WebSocket clients one daphne process keeps updated within one second,
   (a) one user with N open tabs and one event, (b) N users each getting their own event at once.

    cd /work/main && DATABASE_URL=postgres://postgres@127.0.0.1:5432/setka_bench \
        REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python -m tests.benchmarks.bench_ws

Clients and server share the machine's 2 cores: figures are a floor."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import threading
import time

from tests.benchmarks.bench_api import ensure_database, free_port, percentile, start_daphne

os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/setka_bench"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

LATENCY_EVENTS = int(os.environ.get("BENCH_WS_EVENTS", "300"))
FANOUT_SIZES = [int(n) for n in os.environ.get("BENCH_WS_SIZES", "100,250,500,1000").split(",")]
MAX_USERS = max(FANOUT_SIZES)


def prepare_users(n: int):
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from accounts.tokens import access_token_issue
    from bots.models import Bot
    from exchanges.models import Exchange, ExchangeAccount

    call_command("migrate", verbosity=0)
    existing = list(User.objects.filter(email__startswith="bench-ws-").order_by("id"))
    if len(existing) < n:
        User.objects.bulk_create(
            User(email=f"bench-ws-{i}@example.com", password="!", access_granted_at=timezone.now())
            for i in range(len(existing), n)
        )
        existing = list(User.objects.filter(email__startswith="bench-ws-").order_by("id"))
    users = existing[:n]
    exchange, _ = Exchange.objects.get_or_create(code="bybit", defaults={"name": "Bybit", "is_active": True})
    have = set(Bot.objects.filter(user__in=users).values_list("user_id", flat=True))
    missing = [u for u in users if u.pk not in have]
    if missing:
        accounts = ExchangeAccount.objects.bulk_create(
            ExchangeAccount(user=u, exchange=exchange, label="ws", environment="paper", api_key="K" * 18,
                            api_secret="S" * 36, api_key_hint="KKKK…KKKK")
            for u in missing
        )
        Bot.objects.bulk_create(
            Bot(user=u, exchange_account=a, name="ws", symbol="BTCUSDT", status="running", config={},
                investment=1000)
            for u, a in zip(missing, accounts, strict=True)
        )
    bots = {b.user_id: b for b in Bot.objects.filter(user__in=users)}
    _forget_stale_groups(users, bots)
    return [(u, access_token_issue(user=u), bots[u.pk]) for u in users]


def _forget_stale_groups(users, bots) -> None:
    """Channels of daphne processes killed by earlier runs stay in their groups for a day
    (channels_redis group_expiry); drop the bench users' groups so each run starts clean."""
    import redis
    from django.conf import settings

    from bots import events

    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = [f"{prefix}:group:{events.user_group(u.pk)}" for u in users]
    keys += [f"{prefix}:group:{events.bot_group(b.pk)}" for b in bots.values()]
    for i in range(0, len(keys), 500):
        client.delete(*keys[i : i + 500])


async def open_client(port: int, token: str):
    import websockets

    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/",
        additional_headers={"Cookie": f"setka_access={token}", "Origin": "http://127.0.0.1"},
        open_timeout=30,
        ping_interval=None,
        max_queue=None,
    )
    hello = json.loads(await ws.recv())
    assert hello["type"] == "hello", hello
    return ws


async def open_many(port: int, tokens: list[str], batch: int = 50):
    clients, failed = [], 0
    for i in range(0, len(tokens), batch):
        for result in await asyncio.gather(*(open_client(port, t) for t in tokens[i : i + batch]), return_exceptions=True):
            if isinstance(result, BaseException):
                failed += 1
            else:
                clients.append(result)
    if failed:
        await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
        raise NotAllDelivered(f"{failed} of {len(tokens)} connections failed to open")
    return clients


def emit_committed(bot, data):
    from django.db import transaction

    from bots import events

    with transaction.atomic():
        events.emit(bot=bot, event="order.filled", data=data)


async def latency(port: int, user_token_bot) -> list[float]:
    _, token, bot = user_token_bot
    ws = await open_client(port, token)
    results: list[float] = []
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    async def reader():
        while len(results) < LATENCY_EVENTS:
            message = json.loads(await ws.recv())
            if message.get("type") == "event":
                results.append((time.perf_counter_ns() - int(message["data"]["t"])) / 1e6)
        done.set()

    task = asyncio.create_task(reader())

    def emitter():
        for _ in range(LATENCY_EVENTS):
            emit_committed(bot, {"t": str(time.perf_counter_ns()), "price": "51000"})
            time.sleep(0.005)

    await loop.run_in_executor(None, emitter)
    await asyncio.wait_for(done.wait(), 30)
    await task
    await ws.close()
    return results


class NotAllDelivered(Exception):
    pass


async def wait_all(clients, timeout: float) -> float:
    start = time.perf_counter()
    received = 0

    async def one(ws):
        nonlocal received
        try:
            while True:
                message = json.loads(await ws.recv())
                if message.get("type") == "event":
                    received += 1
                    return time.perf_counter()
        except Exception:  # the server dropped this connection
            return None

    try:
        ends = await asyncio.wait_for(asyncio.gather(*(one(ws) for ws in clients)), timeout)
    except TimeoutError as exc:
        raise NotAllDelivered(f"{received} of {len(clients)} received within {timeout} s") from exc
    if None in ends:
        raise NotAllDelivered(f"{received} of {len(clients)} received; {ends.count(None)} connections dropped")
    return max(ends) - start


async def fanout_one_user(port: int, user_token_bot, n: int) -> float:
    _, token, bot = user_token_bot
    clients = await open_many(port, [token] * n)
    try:
        waiter = asyncio.create_task(wait_all(clients, 30))
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(None, emit_committed, bot, {"x": "1"})
        await waiter
        return time.perf_counter() - start
    finally:
        await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)


async def fanout_many_users(port: int, users, n: int) -> float:
    from channels.layers import get_channel_layer
    from redis.asyncio import Redis

    from bots import events

    chosen = users[:n]
    clients = await open_many(port, [t for _, t, _ in chosen])
    layer = get_channel_layer()
    redis = Redis.from_url(os.environ["REDIS_URL"])
    try:
        waiter = asyncio.create_task(wait_all(clients, 30))
        await asyncio.sleep(0.05)
        start = time.perf_counter()

        limit = asyncio.Semaphore(50)  # the client's Redis pool holds 100 connections

        async def send(user, bot):
            # What bots.events.send_now does, from asyncio: INCR the user's seq, send to the groups.
            async with limit:
                await _send(user, bot)

        async def _send(user, bot):
            seq = await redis.incr(events._seq_key(user.pk))
            message = {"type": events.GROUP_MESSAGE_TYPE, "seq": seq, "event": "trade", "bot_id": bot.pk, "data": {}}
            await layer.group_send(events.user_group(user.pk), message)
            await layer.group_send(events.bot_group(bot.pk), message)

        await asyncio.gather(*(send(u, b) for u, _, b in chosen))
        await waiter
        return time.perf_counter() - start
    finally:
        await redis.aclose()
        await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)


async def run(port: int, users) -> None:
    lat = await latency(port, users[0])
    print(f"emit() -> WebSocket client, {len(lat)} events: p50 {statistics.median(lat):.1f} ms, "
          f"p99 {percentile(lat, 99):.1f} ms, max {max(lat):.1f} ms")
    for label, func, arg in (
        ("one user, N tabs, one event", fanout_one_user, users[0]),
        ("N users, one event each, sent at once", fanout_many_users, users),
    ):
        best = 0
        for n in FANOUT_SIZES:
            try:
                elapsed = await func(port, arg, n)
            except NotAllDelivered as exc:
                print(f"  {label}: N={n}: {exc}")
                break
            print(f"  {label}: N={n}: all updated in {elapsed * 1000:.0f} ms")
            if elapsed <= 1.0:
                best = n
            else:
                break
        print(f"=> {label}: {best} clients updated within 1 s (largest N tried that passed)")


def main() -> None:
    ensure_database()
    started = time.perf_counter()
    users = prepare_users(MAX_USERS)
    print(f"{len(users)} users ready in {time.perf_counter() - started:.1f}s")
    port = free_port()
    server = start_daphne(port)
    try:
        asyncio.run(run(port, users))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except Exception:
            server.kill()


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
