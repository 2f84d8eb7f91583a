"""The control API under /control/ (Authorization: Bearer <token>): accounts, keys, funding, prices,
replay, ledger, faults. Plain JSON (not Bybit's envelope); errors are HTTP 4xx {"error": "..."}."""

from __future__ import annotations

import json
from decimal import Decimal

from aiohttp import web

from . import wire
from .instruments import CATEGORIES, INSTRUMENTS
from .models import BybitError


def _json(data, status=200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")


def add_routes(app: web.Application, sim) -> None:
    from .server import check_token

    def guarded(fn):
        async def handler(request: web.Request):
            check_token(sim, request)
            try:
                body = await request.json() if request.can_read_body else {}
            except ValueError:
                return _json({"error": "body is not JSON"}, 400)
            try:
                out = await fn(request, body or {})
            except (BybitError, ValueError, KeyError, TypeError) as exc:
                sim.settle()
                msg = exc.msg if isinstance(exc, BybitError) else str(exc)
                return _json({"error": msg}, 400)
            sim.settle()
            return _json(out)

        return handler

    eng = sim.engine

    def key_json(k):
        return {"uid": k.uid, "api_key": k.api_key, "api_secret": k.secret, "passphrase": k.passphrase,
                "venue": sim.venue}

    def key_kwargs(body):
        return dict(
            spot_trade=body.get("spot_trade", True),
            contract_trade=body.get("contract_trade", True),
            read_only=body.get("read_only", False),
            withdraw=body.get("withdraw", False),
            ips=body.get("ip_whitelist") or [],
            expires_ms=body.get("expires_at_ms"),
            note=body.get("note", ""),
            passphrase=body.get("passphrase") or None,
        )

    async def create_account(request, body):
        acc = eng.create_account(funding=body.get("funding", {"USDT": "10000"}), fees=body.get("fees"))
        key = eng.create_key(acc.uid, **key_kwargs(body))
        return key_json(key)

    async def create_key(request, body):
        return key_json(eng.create_key(int(request.match_info["uid"]), **key_kwargs(body)))

    async def fund(request, body):
        uid = int(request.match_info["uid"])
        eng.fund(uid, body["coin"], body["amount"])
        return {"uid": uid, "balances": {c: wire.s(v) for c, v in eng.account(uid).balances.items()}}

    async def set_fees(request, body):
        acc = eng.account(int(request.match_info["uid"]))
        for name in ("spot_maker", "spot_taker", "linear_maker", "linear_taker"):
            if name in body:
                setattr(acc, name, Decimal(str(body[name])))
        eng._dirty_accounts.add(acc.uid)  # noqa: SLF001
        return {"uid": acc.uid}

    async def set_limits(request, body):
        acc = eng.account(int(request.match_info["uid"]))
        acc.rate_multiplier = max(1, int(body.get("multiplier", 1)))
        eng._dirty_accounts.add(acc.uid)  # noqa: SLF001
        return {"uid": acc.uid, "multiplier": acc.rate_multiplier}

    async def set_price(request, body):
        eng.set_price(body["symbol"], body["price"], volume=body.get("volume"), category=body.get("category"))
        return prices_of(body["symbol"])

    async def set_path(request, body):
        symbol = body["symbol"]
        volume = body.get("volume")
        for price in body["prices"]:
            eng.set_price(symbol, price, volume=volume, category=body.get("category"))
            sim.settle()
        return prices_of(symbol)

    def prices_of(symbol):
        out = {c: wire.s(eng.price(c, symbol)) for c in CATEGORIES if (c, symbol) in INSTRUMENTS}
        if not out:
            raise ValueError(f"unknown symbol {symbol}")
        return {"symbol": symbol, "prices": out, "price": out.get("spot") or out.get("linear")}

    async def get_price(request, body):
        return prices_of(request.match_info["symbol"])

    async def replay_start(request, body):
        symbol = body["symbol"]
        state = eng.replay_start(
            symbol,
            csv_path=body.get("csv_path"),
            speed=float(body.get("speed", 0) or 0),
            start=body.get("start_ms"),
            categories=body.get("categories"),
            volume_in_quote=body.get("volume_in_quote"),
        )
        if state["speed"]:
            sim.run_replay(symbol)
        return {"symbol": symbol, **state}

    async def replay_advance(request, body):
        symbol = body["symbol"]
        n = int(body.get("candles", 1))
        if n < 0 or n > 100_000:
            raise ValueError("candles must be between 0 and 100000")
        done = 0
        while done < n:  # settle every 60 candles so WebSocket clients see a steady stream
            chunk = min(60, n - done)
            eng.replay_candles(symbol, chunk)
            sim.settle()
            done += chunk
        state = eng.replays[symbol]
        return {"symbol": symbol, "index": state["index"], **prices_of(symbol)}

    async def replay_stop(request, body):
        sim.stop_replay(body["symbol"])
        return {"symbol": body["symbol"], "running": False}

    async def ledger(request, body):
        uid = int(request.match_info["uid"])
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

    async def add_fault(request, body):
        body = dict(body)
        kind = body.pop("kind")
        if kind == "ws_disconnect":
            n = await sim.hub.disconnect(body.get("channel", "all"))
            return {"kind": kind, "disconnected": n}
        f = sim.faults.add(kind, count=body.pop("count", None), path=body.pop("path", None), **body)
        return f.to_json()

    async def clear_faults(request, body):
        sim.faults.clear()
        return {"faults": []}

    async def list_faults(request, body):
        return {"faults": [f.to_json() for f in sim.faults.active]}

    async def status(request, body):
        return {
            "requests": sim.requests,
            "accounts": len(eng.accounts),
            "orders": len(eng.orders),
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
    r.add_post("/control/faults", guarded(add_fault))
    r.add_delete("/control/faults", guarded(clear_faults))
    r.add_get("/control/faults", guarded(list_faults))
    r.add_get("/control/status", guarded(status))
