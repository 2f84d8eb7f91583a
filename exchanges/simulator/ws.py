"""WebSocket endpoints: private /v5/private and public /v5/public/{spot,linear} (Bybit V5 message shapes)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import uuid

from aiohttp import WSMsgType, web

from . import wire
from .auth import authenticate_ws
from .instruments import INSTRUMENTS
from .models import BybitError

log = logging.getLogger(__name__)
PRIVATE_TOPICS = {
    "order",
    "execution",
    "wallet",
    "position",
    "order.spot",
    "order.linear",
    "execution.spot",
    "execution.linear",
    "position.linear",
}
SUBSCRIBE_ACK_DELAY = 0.05  # seconds
PUBLIC_RE = re.compile(r"^(tickers|publicTrade|orderbook\.(1|50|200|1000))\.([A-Z0-9]+)$")


class Conn:
    def __init__(self, ws: web.WebSocketResponse, kind: str, category: str | None):
        self.ws = ws
        self.kind = kind  # "private" | "public"
        self.category = category
        self.conn_id = secrets.token_hex(10)
        self.uid: int | None = None
        self.topics: set[str] = set()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.writer: asyncio.Task | None = None

    async def run_writer(self) -> None:
        while True:
            delay, text = await self.queue.get()
            if delay:
                await asyncio.sleep(delay)
            if self.ws.closed:
                continue
            try:
                await self.ws.send_str(text)
            except Exception:  # connection gone: the reader loop ends it
                pass

    def send(self, obj, delay: float = 0.0) -> None:
        self.queue.put_nowait((delay, json.dumps(obj)))


class Hub:
    def __init__(self, sim):
        self.sim = sim
        self.conns: set[Conn] = set()

    # ---------------------------------------------------------------- connection handling
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        path = request.path
        if path == "/v5/private":
            kind, category = "private", None
        else:
            category = request.match_info.get("channel")
            if category not in ("spot", "linear"):
                raise web.HTTPNotFound()
            kind = "public"
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        conn = Conn(ws, kind, category)
        conn.writer = asyncio.create_task(conn.run_writer())
        self.conns.add(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    conn.send({"success": False, "ret_msg": "error:invalid json", "conn_id": conn.conn_id, "op": ""})
                    continue
                if isinstance(data, dict):
                    self._on_message(conn, data)
        finally:
            self.conns.discard(conn)
            conn.writer.cancel()
            if conn.uid is not None and not any(c.uid == conn.uid for c in self.conns):
                self.sim.engine.ws_uids.discard(conn.uid)
        return ws

    def _on_message(self, conn: Conn, data: dict) -> None:
        op = data.get("op")
        req_id = data.get("req_id", "")
        if op == "ping":
            if conn.kind == "private":
                conn.send({"req_id": req_id, "op": "pong", "args": [str(self.sim.clock())], "conn_id": conn.conn_id})
            else:
                conn.send({"success": True, "ret_msg": "pong", "conn_id": conn.conn_id, "req_id": req_id, "op": "ping"})
        elif op == "auth":
            reply = {"success": True, "ret_msg": "", "op": "auth", "conn_id": conn.conn_id}
            if req_id:
                reply["req_id"] = req_id
            if conn.kind != "private":
                reply.update(success=False, ret_msg="error:auth is only for private channels")
            else:
                try:
                    key = authenticate_ws(self.sim.engine.keys, data.get("args"), now_ms=self.sim.clock())
                    conn.uid = key.uid
                    self.sim.engine.ws_uids.add(key.uid)
                except BybitError as exc:
                    reply.update(success=False, ret_msg=f"error:{exc.msg} ({exc.code})")
            conn.send(reply)
        elif op in ("subscribe", "unsubscribe"):
            args = data.get("args") or []
            reply = {"success": True, "ret_msg": "", "conn_id": conn.conn_id, "req_id": req_id, "op": op}
            if conn.kind == "private" and conn.uid is None:
                reply.update(success=False, ret_msg="Request not authorized")
                conn.send(reply)
                return
            bad = [t for t in args if not self._valid_topic(conn, t)]
            if bad or not isinstance(args, list):
                reply.update(success=False, ret_msg=f"error:handler not found,topic:{','.join(map(str, bad))}")
                conn.send(reply)
                return
            if op == "subscribe":
                conn.topics.update(args)
            else:
                conn.topics.difference_update(args)
            # pybit registers its callback only after send() returns: an instant answer over loopback
            # races it (KeyError in pybit's thread, socket closed). A few ms of "network" avoids that.
            conn.send(reply, SUBSCRIBE_ACK_DELAY)
            if op == "subscribe" and conn.kind == "public":
                for t in args:
                    self._public_snapshot(conn, t)
        else:
            conn.send(
                {
                    "success": False,
                    "ret_msg": f"error:unsupported op {op}",
                    "conn_id": conn.conn_id,
                    "req_id": req_id,
                    "op": op or "",
                }
            )

    def _valid_topic(self, conn: Conn, topic) -> bool:
        if not isinstance(topic, str):
            return False
        if conn.kind == "private":
            return topic in PRIVATE_TOPICS
        m = PUBLIC_RE.match(topic)
        return m is not None and conn.category is not None and (conn.category, m.group(3)) in INSTRUMENTS

    # ---------------------------------------------------------------- outgoing
    def _deliver(self, conn: Conn, topic: str, msg: dict) -> None:
        faults = self.sim.faults
        if faults.take("ws_drop", topic):
            return
        delay = faults.take("ws_delay", topic)
        conn.send(msg, (delay.params.get("ms", 500) / 1000) if delay else 0.0)

    def _public_snapshot(self, conn: Conn, topic: str) -> None:
        ex = self.sim.engine
        m = PUBLIC_RE.match(topic)
        assert m is not None and conn.category is not None  # a public topic that passed _valid_topic
        kind, depth, symbol = m.group(1), m.group(2), m.group(3)
        now = self.sim.clock()
        market = ex.markets[(conn.category, symbol)]
        if kind == "tickers":
            msg = {
                "topic": topic,
                "type": "snapshot",
                "ts": now,
                "cs": market.trade_seq,
                "data": wire.ticker(ex, conn.category, symbol),
            }
        elif kind.startswith("orderbook"):
            bids, asks = wire.book(ex, conn.category, symbol, int(depth))
            msg = {
                "topic": topic,
                "type": "snapshot",
                "ts": now,
                "data": {"s": symbol, "b": bids, "a": asks, "u": market.trade_seq + 1, "seq": market.trade_seq + 1},
                "cts": now,
            }
        else:
            return
        self._deliver(conn, topic, msg)

    def flush(self) -> None:
        """Send the events the engine collected since the last flush, then forget them."""
        ex = self.sim.engine
        now = self.sim.clock()
        private = [c for c in self.conns if c.kind == "private" and c.uid is not None and c.topics]
        by_uid: dict[int, list[Conn]] = {}
        for c in private:
            assert c.uid is not None  # filtered above
            by_uid.setdefault(c.uid, []).append(c)
        for uid, topics in ex.private_events.items():
            conns = by_uid.get(uid)
            if not conns:
                continue
            if topics.get("order"):
                rows: list[dict] = []
                for row in topics["order"]:  # drop repeats of an unchanged state
                    if not rows or rows[-1] != row:
                        rows.append(row)
                self._private(conns, "order", rows, {r["category"] for r in rows}, now)
            if topics.get("execution"):
                execs = topics["execution"]
                self._private(
                    conns,
                    "execution",
                    [wire.execution(e, with_category=True) for e in execs],
                    {e.category for e in execs},
                    now,
                )
        for uid in ex.wallet_touched:
            if uid in by_uid and uid in ex.accounts:
                self._private(by_uid[uid], "wallet", [wire.wallet(ex, uid)], set(), now)
        pos_by_uid: dict[int, list] = {}
        for uid, sym in ex.position_touched:
            if uid in by_uid:
                pos_by_uid.setdefault(uid, []).append(wire.position(ex, ex.position(uid, sym), ws=True))
        for uid, rows in pos_by_uid.items():
            self._private(by_uid[uid], "position", rows, {"linear"}, now)
        ex.private_events.clear()
        ex.wallet_touched.clear()
        ex.position_touched.clear()
        ticks = ex.public_ticks
        ex.public_ticks = []
        if not ticks:
            return
        public = [c for c in self.conns if c.kind == "public" and c.topics]
        if not public:
            return
        trades: dict[tuple[str, str], list] = {}
        for cat, sym, price, vol, side in ticks:
            m = ex.markets[(cat, sym)]
            m.trade_seq += 1
            trades.setdefault((cat, sym), []).append(
                {
                    "T": now,
                    "s": sym,
                    "S": side,
                    "v": wire.s(vol),
                    "p": wire.s(price),
                    "L": "PlusTick" if side == "Buy" else "MinusTick",
                    "i": str(uuid.uuid4()),
                    "BT": False,
                    "RPI": False,
                    "seq": m.trade_seq,
                }
            )
        for conn in public:
            for (cat, sym), rows in trades.items():
                if cat != conn.category:
                    continue
                topic = f"publicTrade.{sym}"
                if topic in conn.topics:
                    self._deliver(conn, topic, {"topic": topic, "type": "snapshot", "ts": now, "data": rows[-100:]})
                for t in conn.topics:
                    if t.endswith("." + sym) and not t.startswith("publicTrade"):
                        self._public_snapshot(conn, t)

    def _private(self, conns: list[Conn], topic: str, data: list, categories: set, now: int) -> None:
        for conn in conns:
            names = [
                t for t in conn.topics if t == topic or (t.startswith(topic + ".") and t.split(".")[1] in categories)
            ]
            for name in names:
                rows = data if name == topic else [d for d in data if d.get("category") == name.split(".")[1]]
                self._deliver(conn, name, {"id": str(uuid.uuid4()), "topic": name, "creationTime": now, "data": rows})

    async def disconnect(self, kind: str | None = None, reason: bytes = b"simulated disconnect") -> int:
        targets = [c for c in self.conns if kind in (None, "all", c.kind)]
        for c in targets:
            await c.ws.close(code=1000, message=reason)
        return len(targets)

    async def close_all(self) -> None:
        await self.disconnect(None, b"server shutdown")
