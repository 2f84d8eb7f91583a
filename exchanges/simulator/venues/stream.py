"""The private order streams of the venue twins, as each venue's own client meets them.

- OKX v5: `/ws/v5/private`; `{"op":"login","args":[{apiKey, passphrase, timestamp, sign}]}` with
  sign = base64 HMAC-SHA256(timestamp + "GET" + "/users/self/verify"), then
  `{"op":"subscribe","args":[{"channel":"orders","instType":"ANY"}]}`; one `orders` push per
  order state change (the REST order shape plus `fillPx`/`fillSz`/`tradeId` of the last fill).
  Text `ping` answers `pong`.
- Binance spot: the WebSocket API at `/ws-api/v3`; `userDataStream.subscribe.signature` (params
  apiKey, timestamp, signature = hex HMAC of the key-sorted query) answers a subscriptionId, and
  every order change arrives as `{"subscriptionId": n, "event": {"e": "executionReport", ...}}`.
- MEXC's spot private stream is protobuf: not served (Setka polls MEXC by REST instead).

The engine collects events only for uids in `engine.ws_uids`; a logged-in socket adds its uid.
The control API's `ws_disconnect` fault closes these sockets too (`disconnect`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from decimal import Decimal
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

from ..models import ApiKey

log = logging.getLogger("exchanges.simulator")


class VenueConn:
    def __init__(self, ws: web.WebSocketResponse):
        self.ws = ws
        self.uid: int | None = None
        self.kind = "spot"  # which of the venue's streams (Binance: "spot" WS API, "linear" listenKey)
        self.subscribed = False
        self.sub_id = 0
        self.queue: asyncio.Queue = asyncio.Queue()
        self.writer: asyncio.Task | None = None

    async def run_writer(self) -> None:
        while True:
            text = await self.queue.get()
            if self.ws.closed:
                continue
            try:
                await self.ws.send_str(text)
            except Exception:  # noqa: BLE001 - the reader loop ends the connection
                pass

    def send(self, obj) -> None:
        self.queue.put_nowait(obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"), default=str))


class VenueStreamHub:
    """Connections of one venue's private stream; `flush()` turns the engine's collected order
    changes into that venue's pushes (the dialect's `stream_messages`)."""

    def __init__(self, sim, dialect):
        self.sim = sim
        self.dialect = dialect
        self.conns: set[VenueConn] = set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        conn = VenueConn(ws)
        conn.writer = asyncio.create_task(conn.run_writer())
        self.conns.add(conn)
        opened = getattr(self.dialect, "stream_on_open", None)
        if opened is not None and not opened(conn, request):
            self.conns.discard(conn)
            conn.writer.cancel()
            await ws.close(code=1008, message=b"invalid listenKey")
            return ws
        if conn.uid is not None:
            self.sim.engine.ws_uids.add(conn.uid)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "ping":
                    conn.send("pong")
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    self.dialect.stream_bad_message(conn, msg.data)
                    continue
                if isinstance(data, dict):
                    self.dialect.stream_on_message(conn, data)
                    if conn.uid is not None:
                        self.sim.engine.ws_uids.add(conn.uid)
        finally:
            self.conns.discard(conn)
            if conn.writer:
                conn.writer.cancel()
            if conn.uid is not None and not any(c.uid == conn.uid for c in self.conns):
                self.sim.engine.ws_uids.discard(conn.uid)
        return ws

    def flush(self) -> None:
        ex = self.sim.engine
        live = [c for c in self.conns if c.uid is not None and c.subscribed]
        if not live:
            return
        for uid, topics in ex.private_events.items():
            conns = [c for c in live if c.uid == uid]
            if not conns:
                continue
            last_fill = {}
            for e in topics.get("execution") or []:
                last_fill[e.order_id] = e
            seen = []
            for row in topics.get("order") or []:
                key = (row.get("orderId"), row.get("orderStatus"), row.get("cumExecQty"))
                if key in seen:
                    continue
                seen.append(key)
                o = ex.orders.get(str(row.get("orderId")))
                if o is None:
                    continue
                for conn in conns:
                    if self.sim.faults.take("ws_drop", "order"):
                        continue
                    for msg in self.dialect.stream_messages(conn, o, row, last_fill.get(o.order_id)):
                        conn.send(msg)

    async def disconnect(self) -> int:
        targets = list(self.conns)
        for c in targets:
            await c.ws.close(code=1000, message=b"simulated disconnect")
        return len(targets)


# --- OKX -------------------------------------------------------------------------------------
def okx_login(sim, args) -> tuple[ApiKey | None, str, str]:
    """(key, error code, message) of an OKX WebSocket login."""
    if not isinstance(args, list) or not args or not isinstance(args[0], dict):
        return None, "60012", "Illegal request"
    a = args[0]
    key = sim.engine.keys.get(str(a.get("apiKey") or ""))
    if key is None:
        return None, "60005", "Invalid OK-ACCESS-KEY"
    if not hmac.compare_digest(str(a.get("passphrase") or ""), key.passphrase):
        return None, "60024", "Wrong passphrase"
    ts = str(a.get("timestamp") or "")
    try:
        sent_ms = int(Decimal(ts) * 1000)
    except ArithmeticError:
        return None, "60006", "Timestamp request expired"
    if abs(sim.clock() - sent_ms) > 30_000:
        return None, "60006", "Timestamp request expired"
    expected = base64.b64encode(
        hmac.new(key.secret.encode(), f"{ts}GET/users/self/verify".encode(), hashlib.sha256).digest()
    ).decode()
    if not hmac.compare_digest(expected, str(a.get("sign") or "")):
        return None, "60007", "Invalid sign"
    if key.expires_ms is not None and key.expires_ms <= sim.clock():
        return None, "60005", "Invalid OK-ACCESS-KEY"
    return key, "0", ""


# --- Binance -----------------------------------------------------------------------------------
def binance_signature_ok(secret: str, params: dict) -> bool:
    signature = str(params.get("signature") or "")
    rest = {k: v for k, v in params.items() if k != "signature"}
    query = urlencode(sorted(rest.items()))
    expected = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.lower())
