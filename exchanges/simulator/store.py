"""SQLite persistence (stdlib sqlite3): every object is a JSON row, written through after each change."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from .models import Account, ApiKey, Execution, Order, Position

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (uid INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (api_key TEXT PRIMARY KEY, uid INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, uid INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (exec_id TEXT PRIMARY KEY, uid INTEGER NOT NULL, seq INTEGER NOT NULL,
                                       data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (uid INTEGER NOT NULL, symbol TEXT NOT NULL, data TEXT NOT NULL,
                                      PRIMARY KEY (uid, symbol));
"""


class Store:
    def __init__(self, path: str | None):
        self.path = path or ":memory:"
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def load(self):
        cur = self.db.cursor()
        kv = {k: json.loads(v) for k, v in cur.execute("SELECT name, value FROM kv")}
        accounts = {
            a.uid: a for a in (Account.from_json(json.loads(d)) for (d,) in cur.execute("SELECT data FROM accounts"))
        }
        keys = {
            k.api_key: k for k in (ApiKey.from_json(json.loads(d)) for (d,) in cur.execute("SELECT data FROM api_keys"))
        }
        orders = [Order.from_json(json.loads(d)) for (d,) in cur.execute("SELECT data FROM orders")]
        execs = [Execution.from_json(json.loads(d)) for (d,) in cur.execute("SELECT data FROM executions ORDER BY seq")]
        positions = [Position.from_json(json.loads(d)) for (d,) in cur.execute("SELECT data FROM positions")]
        return kv, accounts, keys, orders, execs, positions

    def write(
        self,
        *,
        kv: dict,
        accounts: Iterable[Account],
        keys: Iterable[ApiKey],
        orders: Iterable[Order],
        executions: Iterable[Execution],
        positions: Iterable[Position],
    ) -> None:
        c = self.db
        c.execute("BEGIN")
        try:
            c.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)", [(k, json.dumps(v)) for k, v in kv.items()])
            c.executemany(
                "INSERT OR REPLACE INTO accounts VALUES (?, ?)", [(a.uid, json.dumps(a.to_json())) for a in accounts]
            )
            c.executemany(
                "INSERT OR REPLACE INTO api_keys VALUES (?, ?, ?)",
                [(k.api_key, k.uid, json.dumps(k.to_json())) for k in keys],
            )
            c.executemany(
                "INSERT OR REPLACE INTO orders VALUES (?, ?, ?)",
                [(o.order_id, o.uid, json.dumps(o.to_json())) for o in orders],
            )
            c.executemany(
                "INSERT OR REPLACE INTO executions VALUES (?, ?, ?, ?)",
                [(e.exec_id, e.uid, e.seq, json.dumps(e.to_json())) for e in executions],
            )
            c.executemany(
                "INSERT OR REPLACE INTO positions VALUES (?, ?, ?)",
                [(p.uid, p.symbol, json.dumps(p.to_json())) for p in positions],
            )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
