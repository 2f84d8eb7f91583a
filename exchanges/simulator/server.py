"""The aiohttp application: /v5/ REST, /v5/private and /v5/public/* WebSockets, /control/ API; one port."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import os
import signal
from collections import Counter, defaultdict, deque
from decimal import Decimal
from urllib.parse import parse_qsl

from aiohttp import web

from . import rest
from .auth import authenticate
from .common import now_ms
from .engine import Exchange
from .faults import Faults
from .feed import DEFAULT_FILES
from .instruments import SYMBOLS
from .models import BybitError
from .ratelimit import RateLimiter
from .store import Store
from .ws import Hub

log = logging.getLogger("exchanges.simulator")
PUBLIC_LIMIT = 600


class Simulator:
    def __init__(
        self,
        *,
        state_path: str | None = None,
        control_token: str = "",
        clock=now_ms,
        ip_limit: int = 0,
        venue: str = "bybit",
    ):
        from .venues import dialect_class

        self.venue = venue
        dialect = dialect_class(venue)
        self.clock = clock
        self.ip_limit = ip_limit  # REST requests per 5 s per IP (Bybit: 600 -> HTTP 403); 0 = off
        self.ip_hits: dict[str, deque] = defaultdict(deque)
        self.store = Store(state_path)
        self.engine = Exchange(self.store, clock=clock)
        self.limiter = RateLimiter()
        self.faults = Faults()
        self.hub = Hub(self)
        self.control_token = control_token
        self.replay_tasks: dict[str, asyncio.Task] = {}
        self.stopping = asyncio.Event()
        self.requests = 0
        # REST requests by path (tests and benchmarks count what a pass costs)
        self.requests_by_path: Counter[str] = Counter()
        self.received: deque = deque(maxlen=200)  # order-changing requests (Bybit dialect): tests read them
        self.dialect = dialect(self) if dialect is not None else None
        # REST requests refused by the rate limits (HTTP 403 per IP, retCode 10006 per UID), for benchmarks
        self.refused = {"403": 0, "10006": 0}

    # ---------------------------------------------------------------- app
    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        if self.dialect is None:
            app.router.add_get("/v5/private", self.hub.handle)
            app.router.add_get("/v5/public/{channel}", self.hub.handle)
            app.router.add_route("*", "/v5/{tail:.*}", self.v5)
        else:
            self.dialect.add_routes(app)
        from .controlapi import add_routes

        add_routes(app, self)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_startup(self, app) -> None:
        for symbol, state in self.engine.replays.items():
            if state.get("running") and state.get("speed"):
                self.run_replay(symbol)

    async def _on_shutdown(self, app) -> None:
        self.stopping.set()
        for t in self.replay_tasks.values():
            t.cancel()
        await self.hub.close_all()
        self.engine.commit()

    def settle(self) -> None:
        """Persist the changes of the last operation and push its events."""
        self.engine.commit()
        try:
            if self.dialect is not None and self.dialect.stream_hub is not None:
                self.dialect.stream_hub.flush()
            self.hub.flush()
        except Exception:  # a broken push must never fail the (already committed) request
            log.exception("WebSocket flush failed")

    # ---------------------------------------------------------------- REST
    def _envelope(self, code: int, msg: str, result=None, ext=None, headers=None, status=200) -> web.Response:
        body = {
            "retCode": code,
            "retMsg": msg,
            "result": {} if result is None else result,
            "retExtInfo": ext or {},
            "time": self.clock(),
        }
        return web.Response(
            text=json.dumps(body, default=str), status=status, content_type="application/json", headers=headers
        )

    async def v5(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        path = request.path
        self.requests_by_path[path] += 1
        if self.ip_limit and self._ip_limited(request.remote or ""):
            self.refused["403"] += 1
            return web.Response(status=403, text="access too frequent", content_type="text/plain")
        fault = self.faults.take("latency", path)
        if fault:
            await asyncio.sleep(float(fault.params.get("ms", 200)) / 1000)
        fault = self.faults.take("http_error", path)
        if fault:
            status = int(fault.params.get("status", 503))
            return web.Response(
                status=status, text=f"<html><body>{status} simulated failure</body></html>", content_type="text/html"
            )
        route = rest.ROUTES.get(path)
        if route is None:
            return self._envelope(10017, "route not found", status=404)
        method, handler, needs_auth, perm = route
        if request.method != method:
            return self._envelope(10017, f"route not found: {request.method} {path}", status=404)
        if method == "GET":
            raw = request.rel_url.raw_query_string
            params = dict(parse_qsl(raw, keep_blank_values=True))
        else:
            raw = (await request.read()).decode("utf-8", "replace")
            try:
                params = json.loads(raw, parse_float=Decimal) if raw.strip() else {}
            except (ValueError, RecursionError):  # RecursionError: a body nested thousands deep
                return self._envelope(10001, "params error: body is not valid JSON")
            if not isinstance(params, dict):
                return self._envelope(10001, "params error: body must be a JSON object")
        now = self.clock()
        headers = {}
        units = 1
        key = None
        try:
            if needs_auth:
                key = authenticate(self.engine.keys, request.headers, raw, now_ms=now, remote_ip=request.remote)
                params = rest.clean_params(params, nested=("request",))
                category = params.get("category")
                if perm == rest.TRADE:
                    if key.read_only:
                        raise BybitError(10005, "Permission denied, please check your API key permissions.")
                    cat = category if path != "/v5/position/set-leverage" else "linear"
                    if (cat == "spot" and not key.spot_trade) or (cat == "linear" and not key.contract_trade):
                        raise BybitError(10005, "Permission denied, please check your API key permissions.")
                want = rest.batch_units(params) if path in rest.BATCH_PATHS else 1
                forced = self.faults.take("rate_limit", path)
                limit_cat = category if perm == rest.TRADE else None
                granted, limit, remaining, reset = self.limiter.take(
                    key.uid, path, limit_cat, 0 if forced else want, now, self.engine.accounts[key.uid].rate_multiplier
                )
                if forced:
                    granted, remaining = 0, 0
                    reset = now + int(forced.params.get("reset_ms", 1000))
                headers = {
                    "X-Bapi-Limit": str(limit),
                    "X-Bapi-Limit-Status": str(remaining),
                    "X-Bapi-Limit-Reset-Timestamp": str(reset),
                }
                if granted == 0:
                    # strictly in the future even after the trip back: pybit sleeps (reset - now) and
                    # crashes on a negative value
                    headers["X-Bapi-Limit-Reset-Timestamp"] = str(max(reset, now + 100))
                    self.refused["10006"] += 1
                    return self._envelope(10006, "Too many visits!", headers=headers)
                units = granted
            else:
                headers = {
                    "X-Bapi-Limit": str(PUBLIC_LIMIT),
                    "X-Bapi-Limit-Status": str(PUBLIC_LIMIT - 1),
                    "X-Bapi-Limit-Reset-Timestamp": str(now),
                }
            if path in rest.MUTATING:
                self.received.append(
                    {
                        "method": request.method,
                        "path": path,
                        "params": params,
                        "headers": {k: v for k, v in request.headers.items() if not k.upper().startswith("X-BAPI")},
                    }
                )
            out = handler(self, key, params, units)
        except BybitError as exc:
            self.settle()
            return self._envelope(exc.code, exc.msg, headers=headers)
        except Exception:
            log.exception("simulator error on %s", path)
            self.settle()
            return self._envelope(10016, "Internal server error.", headers=headers)
        result, ext = out if isinstance(out, tuple) else (out, {})
        self.settle()
        if path in rest.MUTATING:
            fault = self.faults.take("timeout_after_accept", path)
            if fault:
                return await self._swallow_response(request, fault)
        return self._envelope(0, "OK", result, ext, headers=headers)

    def _ip_limited(self, ip: str) -> bool:
        now = self.clock()
        q = self.ip_hits[ip]
        while q and q[0] <= now - 5000:
            q.popleft()
        if len(q) >= self.ip_limit:
            return True
        q.append(now)
        return False

    async def _swallow_response(self, request: web.Request, fault) -> web.StreamResponse:
        """The order is stored; the client never hears about it: hang, or drop the connection."""
        if fault.params.get("mode", "hang") == "close":
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError()
        try:
            await asyncio.wait_for(self.stopping.wait(), float(fault.params.get("seconds", 30)))
        except TimeoutError:
            pass
        if request.transport is not None:
            request.transport.close()
        raise asyncio.CancelledError()

    # ---------------------------------------------------------------- replay
    def run_replay(self, symbol: str) -> None:
        old = self.replay_tasks.pop(symbol, None)
        if old:
            old.cancel()
        self.replay_tasks[symbol] = asyncio.get_running_loop().create_task(self._replay_loop(symbol))

    async def _replay_loop(self, symbol: str) -> None:
        while True:
            state = self.engine.replays.get(symbol)
            if not state or not state.get("running") or not state.get("speed"):
                return
            await asyncio.sleep(60.0 / float(state["speed"]))
            try:
                self.engine.replay_candles(symbol, 1)
                self.settle()
            except Exception:
                log.exception("replay of %s failed", symbol)
                return

    def stop_replay(self, symbol: str) -> None:
        self.engine.replay_stop(symbol)
        task = self.replay_tasks.pop(symbol, None)
        if task:
            task.cancel()


def check_token(sim: Simulator, request: web.Request) -> None:
    got = request.headers.get("Authorization", "")
    if not sim.control_token or not hmac.compare_digest(got.encode(), f"Bearer {sim.control_token}".encode()):
        raise web.HTTPUnauthorized(
            text=json.dumps({"error": "bad or missing control token"}), content_type="application/json"
        )


async def start(sim: Simulator, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(sim.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    assert isinstance(site._server, asyncio.Server)
    sockets = site._server.sockets  # noqa: SLF001 - aiohttp exposes no public accessor for the bound port
    return runner, sockets[0].getsockname()[1]


async def serve(
    *,
    host: str,
    port: int,
    state_path: str | None,
    control_token: str,
    replay=(),
    speed: float = 1.0,
    data: dict | None = None,
    ip_limit: int = 0,
    venue: str = "bybit",
) -> None:
    sim = Simulator(state_path=state_path, control_token=control_token, ip_limit=ip_limit, venue=venue)
    for symbol in replay:
        state = sim.engine.replays.get(symbol)
        if state:  # restart: keep the cursor, take the new speed
            state.update(running=True, speed=float(speed))
            sim.engine._dirty_kv = True  # noqa: SLF001
        else:
            sim.engine.replay_start(symbol, csv_path=(data or {}).get(symbol), speed=speed)
    sim.engine.commit()
    runner, bound = await start(sim, host, port)
    log.info("simulator listening on http://%s:%s (state %s)", host, bound, state_path or ":memory:")
    print(
        f"{sim.dialect.banner if sim.dialect else 'Bybit V5'} simulator on http://{host}:{bound} ws://{host}:{bound} "
        f"state={state_path or ':memory:'}",
        flush=True,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        sim.store.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Bybit-V5-compatible exchange simulator")
    add_arguments(parser)
    args = parser.parse_args(argv)
    run_from_args(args)


# Every symbol the simulator lists moves: each has a candle file, replayed by default (a listed
# symbol whose price never moved was a trap for paper traders).
REPLAYED = tuple(symbol for symbol in SYMBOLS if symbol in DEFAULT_FILES)


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--venue", default="bybit", help="exchange dialect to serve: bybit, okx, binance, mexc, kucoin (one engine)"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--state", default="var/simulator.sqlite3", help="SQLite state file ('' = in memory)")
    parser.add_argument(
        "--control-token", dest="control_token", default=os.environ.get("SETKA_SIMULATOR_CONTROL_TOKEN", "")
    )
    parser.add_argument(
        "--replay",
        default=",".join(REPLAYED),
        help="comma-separated symbols to replay ('' = none); by default every listed symbol moves",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="market minutes per real minute (1 = real time, 60 = one candle per second)",
    )
    parser.add_argument(
        "--ip-limit",
        dest="ip_limit",
        type=int,
        default=0,
        help="REST requests per 5 s per IP before HTTP 403 (0 = off)",
    )


def run_from_args(args) -> None:
    if not args.control_token:
        raise SystemExit("a control token is required: --control-token or SETKA_SIMULATOR_CONTROL_TOKEN")
    state = args.state or None
    if state:
        os.makedirs(os.path.dirname(os.path.abspath(state)), exist_ok=True)
    logging.basicConfig(level=logging.INFO)
    replay = [s.strip() for s in (args.replay or "").split(",") if s.strip()]
    try:
        asyncio.run(
            serve(
                host=args.host,
                port=args.port,
                state_path=state,
                control_token=args.control_token,
                replay=replay,
                speed=args.speed,
                ip_limit=getattr(args, "ip_limit", 0),
                venue=getattr(args, "venue", "bybit") or "bybit",
            )
        )
    except KeyboardInterrupt:
        pass
