"""The control API under /control/ (Authorization: Bearer <token>): accounts, keys, funding, prices,
replay, ledger, faults. Plain JSON (not Bybit's envelope); errors are HTTP 4xx {"error": "..."}.

Every body is checked before the engine sees it: an object, numbers finite and within bounds,
the replay's `csv_path` inside the data folder (feed.data_path); see controlchecks.py. Outside
development the API refuses to run with a weak or well-known token (`require_strong_token`)."""

from __future__ import annotations

import json
from decimal import Decimal

from aiohttp import web

from . import feed, wire
from .controlchecks import (
    COIN,
    MAX_BODY_DEPTH,
    MAX_PATH_POINTS,
    BadBody,
    amount,
    category_of,
    depth_ok,
    fault_params,
    fees_of,
    flag,
    funding_of,
    integer,
    require_strong_token,
    symbol_of,
    text,
    uid_of,
)
from .faults import KINDS
from .instruments import CATEGORIES, INSTRUMENTS
from .models import BybitError


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _json(data, status=200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")


def add_routes(app: web.Application, sim) -> None:
    from .server import check_token

    require_strong_token(sim.control_token)

    def guarded(fn):
        async def handler(request: web.Request):
            check_token(sim, request)
            try:
                raw = await request.text() if request.can_read_body else ""
                body = json.loads(raw, parse_float=Decimal, parse_constant=_no_constant) if raw.strip() else {}
            except RecursionError:
                return _json({"error": "body is nested too deeply"}, 400)
            except (ValueError, UnicodeDecodeError):
                return _json({"error": "body is not JSON (or has NaN/Infinity or a number of 4,300+ digits)"}, 400)
            if not isinstance(body, dict):
                return _json({"error": "body must be a JSON object"}, 400)
            if not depth_ok(body, MAX_BODY_DEPTH):
                return _json({"error": "body is nested too deeply"}, 400)
            try:
                out = await fn(request, body)
            except KeyError as exc:
                sim.settle()
                return _json({"error": f"{exc.args[0]} is required"}, 400)
            except (BybitError, ValueError, TypeError, ArithmeticError) as exc:
                sim.settle()
                msg = exc.msg if isinstance(exc, BybitError) else str(exc) or type(exc).__name__
                return _json({"error": msg}, 400)
            sim.settle()
            return _json(out)

        return handler

    eng = sim.engine

    def key_json(k):
        return {
            "uid": k.uid,
            "api_key": k.api_key,
            "api_secret": k.secret,
            "passphrase": k.passphrase,
            "venue": sim.venue,
        }

    def key_kwargs(body):
        ips = body.get("ip_whitelist") or []
        if not isinstance(ips, list) or len(ips) > 100 or not all(isinstance(ip, str) and len(ip) <= 64 for ip in ips):
            raise BadBody("ip_whitelist must be a list of at most 100 addresses")
        expires = body.get("expires_at_ms")
        return dict(
            spot_trade=flag(body.get("spot_trade"), "spot_trade", True),
            contract_trade=flag(body.get("contract_trade"), "contract_trade", True),
            read_only=flag(body.get("read_only"), "read_only", False),
            withdraw=flag(body.get("withdraw"), "withdraw", False),
            ips=ips,
            expires_ms=None if expires is None else integer(expires, "expires_at_ms", 0, 2**53),
            note=text(body.get("note"), "note", max_length=200, allow_none=True) or "",
            passphrase=text(body.get("passphrase"), "passphrase", max_length=64, allow_none=True) or None,
        )

    async def create_account(request, body):
        funding, fees, kwargs = funding_of(body.get("funding")), fees_of(body.get("fees")), key_kwargs(body)
        acc = eng.create_account(funding=funding, fees=fees)
        key = eng.create_key(acc.uid, **kwargs)
        return key_json(key)

    async def create_key(request, body):
        return key_json(eng.create_key(uid_of(request), **key_kwargs(body)))

    async def fund(request, body):
        uid = uid_of(request)
        coin = text(body["coin"], "coin", max_length=20)
        if not COIN.fullmatch(coin):
            raise BadBody("coin must be capital letters and digits, e.g. USDT")
        value = amount(body["amount"], "amount")
        eng.fund(uid, coin, value)
        return {"uid": uid, "balances": {c: wire.s(v) for c, v in eng.account(uid).balances.items()}}

    async def set_fees(request, body):
        acc = eng.account(uid_of(request))
        rates = fees_of(body) or {}
        for name, rate in rates.items():
            setattr(acc, name, rate)
        eng._dirty_accounts.add(acc.uid)  # noqa: SLF001
        return {"uid": acc.uid}

    async def set_limits(request, body):
        acc = eng.account(uid_of(request))
        acc.rate_multiplier = integer(body.get("multiplier"), "multiplier", 1, 10_000, default=1)
        eng._dirty_accounts.add(acc.uid)  # noqa: SLF001
        return {"uid": acc.uid, "multiplier": acc.rate_multiplier}

    async def set_price(request, body):
        symbol, category = symbol_of(body), category_of(body)
        price = amount(body["price"], "price", positive=True)
        volume = amount(body.get("volume"), "volume", allow_none=True)
        eng.set_price(symbol, price, volume=volume, category=category)
        return prices_of(symbol)

    async def set_path(request, body):
        symbol, category = symbol_of(body), category_of(body)
        volume = amount(body.get("volume"), "volume", allow_none=True)
        prices = body["prices"]
        if not isinstance(prices, list) or len(prices) > MAX_PATH_POINTS:
            raise BadBody(f"prices must be a list of at most {MAX_PATH_POINTS:,} prices")
        prices = [amount(p, "price", positive=True) for p in prices]  # all checked before any moves
        for price in prices:
            eng.set_price(symbol, price, volume=volume, category=category)
            sim.settle()
        return prices_of(symbol)

    def prices_of(symbol):
        out = {c: wire.s(eng.price(c, symbol)) for c in CATEGORIES if (c, symbol) in INSTRUMENTS}
        if not out:
            raise ValueError(f"unknown symbol {symbol}")
        return {"symbol": symbol, "prices": out, "price": out.get("spot") or out.get("linear")}

    async def get_price(request, body):
        return prices_of(request.match_info["symbol"][:32])

    async def replay_start(request, body):
        symbol = symbol_of(body)
        csv_path = body.get("csv_path")
        if csv_path is not None:
            csv_path = str(feed.data_path(text(csv_path, "csv_path", max_length=4096)))
        speed = amount(body.get("speed") or 0, "speed")
        if speed > 1_000_000:
            raise BadBody("speed must be at most 1000000 (market minutes per real minute)")
        start = body.get("start_ms")
        categories = body.get("categories")
        if categories is not None and (
            not isinstance(categories, list) or not categories or any(c not in CATEGORIES for c in categories)
        ):
            raise BadBody(f"categories must be a non-empty list of {', '.join(CATEGORIES)}")
        volume_in_quote = body.get("volume_in_quote")
        state = eng.replay_start(
            symbol,
            csv_path=csv_path,
            speed=float(speed),
            start=None if start is None else integer(start, "start_ms", 0, 2**53),
            categories=categories,
            volume_in_quote=None if volume_in_quote is None else flag(volume_in_quote, "volume_in_quote", False),
        )
        if state["speed"]:
            sim.run_replay(symbol)
        return {"symbol": symbol, **state}

    async def replay_advance(request, body):
        symbol = symbol_of(body)
        n = integer(body.get("candles"), "candles", 0, 100_000, default=1)
        done = 0
        while done < n:  # settle every 60 candles so WebSocket clients see a steady stream
            chunk = min(60, n - done)
            eng.replay_candles(symbol, chunk)
            sim.settle()
            done += chunk
        state = eng.replays[symbol]
        return {"symbol": symbol, "index": state["index"], **prices_of(symbol)}

    async def replay_stop(request, body):
        symbol = symbol_of(body)
        sim.stop_replay(symbol)
        return {"symbol": symbol, "running": False}

    async def ledger(request, body):
        uid = uid_of(request)
        acc = eng.account(uid)
        return {
            "uid": uid,
            "balances": {c: wire.s(v) for c, v in acc.balances.items()},
            "locked": {c: wire.s(v) for c, v in acc.locked.items() if v},
            "funding": {c: wire.s(v) for c, v in acc.funding.items()},
            "executions": [wire.execution(e, with_category=True) for e in eng.executions[uid]],
            "positions": [wire.position(eng, p) for (u, _s), p in sorted(eng.positions.items()) if u == uid],
            "open_orders": [wire.order(o, with_category=True) for o in eng.open_orders[uid].values()],
        }

    async def funding_settle(request, body):
        """Settle funding of `symbol` now (no waiting for 8 hours of market time): every open
        position pays (or receives) size × mark × rate. `rate` (signed, optional) becomes the
        symbol's rate, for this and the next settlements."""
        symbol = symbol_of(body)
        if ("linear", symbol) not in INSTRUMENTS:
            raise BadBody(f"{symbol} has no linear perpetual")
        rate = amount(body.get("rate"), "rate", signed=True, allow_none=True)
        if rate is not None:
            if rate.copy_abs() > 1:
                raise BadBody("rate must be between -1 and 1")
            eng.set_funding_rate(symbol, rate)
        execs = eng.settle_funding(symbol)
        return {
            "symbol": symbol,
            "rate": wire.s(eng.funding_rate(symbol)),
            "executions": [wire.execution(e, with_category=True) for e in execs],
        }

    async def add_fault(request, body):
        body = dict(body)
        kind = body.pop("kind")
        if kind not in KINDS:
            raise BadBody(f"unknown fault kind {str(kind)[:30]!r}; expected one of {', '.join(KINDS)}")
        if kind == "ws_disconnect":
            n = await sim.hub.disconnect(text(body.get("channel", "all"), "channel", max_length=64))
            if sim.dialect is not None and sim.dialect.stream_hub is not None:
                n += await sim.dialect.stream_hub.disconnect()
            return {"kind": kind, "disconnected": n}
        count = body.pop("count", None)
        count = None if count is None else integer(count, "count", 1, 1_000_000)
        path = text(body.pop("path", None), "path", max_length=200, allow_none=True)
        f = sim.faults.add(kind, count=count, path=path, **fault_params(kind, body))
        return f.to_json()

    async def clear_faults(request, body):
        sim.faults.clear()
        return {"faults": []}

    async def list_faults(request, body):
        return {"faults": [f.to_json() for f in sim.faults.active]}

    async def status(request, body):
        return {
            "requests": sim.requests,
            "refused": dict(sim.refused),
            "accounts": len(eng.accounts),
            "orders": len(eng.orders),
            "executions": sum(len(rows) for rows in eng.executions.values()),  # trades and funding
            "replays": eng.replays,
            "websockets": len(sim.hub.conns),
            "venue": sim.venue,
        }

    r = app.router
    r.add_post("/control/accounts", guarded(create_account))
    r.add_post("/control/accounts/{uid}/keys", guarded(create_key))
    r.add_post("/control/accounts/{uid}/fund", guarded(fund))
    r.add_post("/control/accounts/{uid}/fees", guarded(set_fees))
    r.add_get("/control/accounts/{uid}/ledger", guarded(ledger))
    r.add_post("/control/accounts/{uid}/limits", guarded(set_limits))
    r.add_post("/control/price", guarded(set_price))
    r.add_get("/control/price/{symbol}", guarded(get_price))
    r.add_post("/control/path", guarded(set_path))
    r.add_post("/control/replay/start", guarded(replay_start))
    r.add_post("/control/replay/advance", guarded(replay_advance))
    r.add_post("/control/replay/stop", guarded(replay_stop))
    r.add_post("/control/funding/settle", guarded(funding_settle))
    r.add_post("/control/faults", guarded(add_fault))
    r.add_delete("/control/faults", guarded(clear_faults))
    r.add_get("/control/faults", guarded(list_faults))
    r.add_get("/control/status", guarded(status))
