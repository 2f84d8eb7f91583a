"""What every venue dialect shares: routing, parameter parsing, faults, rate limits, the engine's
Bybit-coded errors translated into the venue's own codes, and the commit after each request.

A dialect subclass declares ROUTES {(METHOD, path): Route}, how a request is authenticated, how
a success and an error look on the wire, and ERRORS {bybit retCode: (venue code, message,
HTTP status)}. Handlers take (sim, key, params) and return the venue's payload; they speak to the
one matching engine with Bybit parameter names (Buy/Sell, Limit/Market, qty in the base coin).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ..models import ApiKey, BybitError
from ..ratelimit import RateLimiter

log = logging.getLogger("exchanges.simulator")


class VenueError(Exception):
    """An answer in the venue's own error shape."""

    def __init__(self, code, msg: str, status: int = 400, extra: dict | None = None):
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.extra = extra or {}


@dataclass(frozen=True)
class Route:
    handler: Callable[..., Any]
    auth: bool = False
    trade: str | None = None  # "spot" | "linear" | "params": which trade permission the call needs
    mutating: bool = False
    weight: int = 1
    per_item: bool = False  # a batch: each item of the JSON list body counts one unit of the quota
    key_only: bool = False  # the API key header alone (Binance's listenKey calls): no signature


class Dialect:
    name = "venue"
    banner = "Venue v1"  # two words: the server's first line is "<banner> simulator on http://..."
    prefixes: tuple[str, ...] = ()
    ROUTES: dict[tuple[str, str], Route] = {}
    ERRORS: dict[int | str, tuple] = {}  # Bybit retCode -> the venue's error; "*" for any other
    LIMITS: dict[str, dict[str, int]] = {}  # "METHOD /path" -> {"*": requests per window per account}
    DEFAULT_LIMIT = 50
    WINDOW_MS = 1000

    def __init__(self, sim):
        self.sim = sim
        self.stream_hub = None  # the venue's private WebSocket (venues/stream.py), where served
        # what the last order-changing requests carried (parameters and the headers that are not
        # credentials): tests read which client order id and broker tag a client really sent
        self.received: deque = deque(maxlen=200)
        self.limiter = RateLimiter(self.LIMITS, default=self.DEFAULT_LIMIT, window_ms=self.WINDOW_MS)

    # --- to override -------------------------------------------------------------------------
    def authenticate(self, request: web.Request, raw_query: str, raw_body: str, params: dict) -> ApiKey:
        raise NotImplementedError

    def authenticate_key_only(self, request: web.Request) -> ApiKey:
        raise NotImplementedError

    def ok(self, data, headers: dict | None = None) -> web.Response:
        raise NotImplementedError

    def error(self, exc: VenueError, headers: dict | None = None) -> web.Response:
        raise NotImplementedError

    def not_found(self) -> VenueError:
        return VenueError(404, "Not Found", 404)

    def permission_denied(self) -> VenueError:
        raise NotImplementedError

    def rate_limited(self, reset_ms: int) -> VenueError:
        raise NotImplementedError

    def internal_error(self) -> VenueError:
        return VenueError(-1000, "An unknown error occurred while processing the request.", 500)

    def trade_allowed(self, key: ApiKey) -> bool:
        return True

    def trade_category(self, path: str, params: dict) -> str | None:
        return None

    def limit_headers(self, path: str, limit: int, remaining: int, reset_ms: int) -> dict:
        return {}

    def route_path(self, method: str, path: str) -> tuple[str, str | None]:
        """(the ROUTES path, the id it carries): venues that put an id in the path (KuCoin's
        /api/v1/orders/{orderId}) map it onto their template; the id reaches the handler as
        params["__tail__"]."""
        return path, None

    # --- shared ------------------------------------------------------------------------------
    def translate(self, exc: BybitError, path: str = "") -> VenueError:
        code, msg, status = self.ERRORS.get(exc.code, self.ERRORS.get("*", (exc.code, exc.msg, 400)))
        return VenueError(code, msg or exc.msg, status)

    def add_routes(self, app: web.Application) -> None:
        for prefix in self.prefixes:
            app.router.add_route("*", prefix + "{tail:.*}", self.handle)

    @staticmethod
    def dump(data) -> str:
        return json.dumps(data, default=str, separators=(",", ":"))

    async def _params(self, request: web.Request) -> tuple[str, str, dict]:
        raw_query = request.rel_url.raw_query_string
        params: dict[str, Any] = dict(parse_qsl(raw_query, keep_blank_values=True))
        raw_body = ""
        if request.can_read_body:
            raw_body = (await request.read()).decode("utf-8", "replace")
            if raw_body.strip():
                ctype = request.headers.get("Content-Type", "")
                if "json" in ctype or raw_body.lstrip()[:1] in ("{", "["):
                    try:
                        body = json.loads(raw_body, parse_float=Decimal)
                    except ValueError:
                        raise VenueError(*self.bad_json()) from None
                    if isinstance(body, list):
                        params["__list__"] = body
                    elif isinstance(body, dict):
                        params.update(body)
                    else:
                        raise VenueError(*self.bad_json())
                else:
                    params.update(dict(parse_qsl(raw_body, keep_blank_values=True)))
        return raw_query, raw_body, params

    def bad_json(self) -> tuple:
        return (-1102, "Malformed request body.", 400)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        sim = self.sim
        sim.requests += 1
        path = request.path
        sim.requests_by_path[path] += 1
        if sim.ip_limit and sim._ip_limited(request.remote or ""):  # noqa: SLF001
            return web.Response(status=403, text="access too frequent", content_type="text/plain")
        fault = sim.faults.take("latency", path)
        if fault:
            await asyncio.sleep(float(fault.params.get("ms", 200)) / 1000)
        fault = sim.faults.take("http_error", path)
        if fault:
            status = int(fault.params.get("status", 503))
            return web.Response(
                status=status, text=f"<html><body>{status} simulated failure</body></html>", content_type="text/html"
            )
        path, tail = self.route_path(request.method, path)
        route = self.ROUTES.get((request.method, path))
        headers: dict = {}
        try:
            if route is None:
                raise self.not_found()
            raw_query, raw_body, params = await self._params(request)
            if tail is not None:
                params["__tail__"] = tail
            key = None
            if route.auth and route.key_only:
                key = self.authenticate_key_only(request)
            elif route.auth:
                key = self.authenticate(request, raw_query, raw_body, params)
                if route.trade:
                    category = self.trade_category(path, params) if route.trade == "params" else route.trade
                    allowed = (
                        not key.read_only
                        and self.trade_allowed(key)
                        and (key.spot_trade if category == "spot" else key.contract_trade if category else True)
                    )
                    if not allowed:
                        raise self.permission_denied()
                forced = sim.faults.take("rate_limit", path)
                now = sim.clock()
                want = route.weight
                if route.per_item and isinstance(params.get("__list__"), list):
                    want = max(1, len(params["__list__"]))
                granted, limit, remaining, reset = self.limiter.take(
                    key.uid,
                    f"{request.method} {path}",  # LIMITS keys: "POST /api/v3/order" (reads count apart)
                    None,
                    0 if forced else want,
                    now,
                    sim.engine.accounts[key.uid].rate_multiplier,
                )
                if forced:
                    granted, remaining, reset = 0, 0, now + int(forced.params.get("reset_ms", 1000))
                headers = self.limit_headers(f"{request.method} {path}", limit, remaining, max(reset, now + 1))
                if granted < want or granted == 0:  # a batch over the quota is refused whole
                    raise self.rate_limited(max(reset, now + 100))
            if route.mutating:
                self.received.append(
                    {
                        "method": request.method,
                        "path": path,
                        "params": {k: v for k, v in params.items() if k != "signature"},
                        "headers": {
                            k: v
                            for k, v in request.headers.items()
                            if not any(word in k.upper() for word in ("SIGN", "KEY", "PASSPHRASE", "AUTH"))
                        },
                    }
                )
            out = route.handler(sim, key, params)
        except VenueError as exc:
            sim.settle()
            return self.error(exc, headers)
        except BybitError as exc:
            sim.settle()
            return self.error(self.translate(exc, path), headers)
        except Exception:
            log.exception("simulator error on %s %s", self.name, path)
            sim.settle()
            return self.error(self.internal_error(), headers)
        sim.settle()
        if route.mutating:
            fault = sim.faults.take("timeout_after_accept", path)
            if fault:
                return await sim._swallow_response(request, fault)  # noqa: SLF001
        if isinstance(out, web.StreamResponse):
            return out
        return self.ok(out, headers)


def to_bybit_side(side: str) -> str:
    side = str(side or "").lower()
    if side not in ("buy", "sell"):
        raise BybitError(10001, "params error: side invalid")
    return "Buy" if side == "buy" else "Sell"


def ms(value) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def funding_settlements(sim, symbol: str) -> list[tuple[int, Decimal, Decimal]]:
    """(time, rate, mark) of every settlement of `symbol` so far, oldest first (read off the
    settlements the engine booked; one per time)."""
    seen: dict[int, tuple[int, Decimal, Decimal]] = {}
    for rows in sim.engine.executions.values():
        for e in rows:
            if e.exec_type == "Funding" and e.symbol == symbol:
                seen.setdefault(e.exec_time, (e.exec_time, e.fee_rate, e.mark_price or e.exec_price))
    return [seen[t] for t in sorted(seen)]
