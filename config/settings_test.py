"""Test settings: the base settings with PostgreSQL and Redis on 127.0.0.1 by default.

Tests never run on SQLite (tests/conftest.py refuses to). Subprocesses started by tests
(worker, beat, streams, daphne) inherit DJANGO_SETTINGS_MODULE and these variables.

Nothing a test runs may leave this machine: SETKA_SOCKET_GUARD=loopback (the default here)
installs config.socket_guard in every process that loads these settings, and every Bybit
environment (mainnet, testnet, demo) is pointed at the simulator."""

import os

os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/setka")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
# pytest-xdist: each worker gets its own Redis database (gw0 -> the configured one, gw1 -> one
# below, ...), so one worker's cache.clear() or Celery queue never touches another's. Processes
# the tests start inherit the rewritten URL.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and not os.environ.get("SETKA_TEST_REDIS_PINNED"):
    _base, _, _db = os.environ["REDIS_URL"].rpartition("/")
    _db_index = (int(_db or 0) - int(_worker[2:])) % 16
    os.environ["REDIS_URL"] = f"{_base}/{_db_index}"
    for _name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        if os.environ.get(_name, "").startswith("redis://"):
            os.environ[_name] = os.environ["REDIS_URL"]
    os.environ["SETKA_TEST_REDIS_PINNED"] = "1"
os.environ.setdefault("SETKA_THROTTLE_ANON", "100000/min")
os.environ.setdefault("SETKA_THROTTLE_USER", "100000/min")
os.environ.setdefault("SETKA_SOCKET_GUARD", "loopback")

if os.environ["SETKA_SOCKET_GUARD"] == "loopback":
    from config import socket_guard

    socket_guard.install()

from config.settings import *  # noqa: E402,F403


class _SimulatorEndpoints(dict):
    """SETKA_BYBIT_ENDPOINTS for tests: every real environment resolves to the simulator the
    test runs (read at call time, so a test that moves SETKA_SIMULATOR_URL is followed)."""

    def get(self, environment, default=None):
        if environment not in ("mainnet", "testnet", "demo"):
            return super().get(environment, default)
        from django.conf import settings

        rest = settings.SETKA_SIMULATOR_URL.rstrip("/")
        ws = settings.SETKA_SIMULATOR_WS_URL or rest.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return (rest, ws.rstrip("/"))

    def __bool__(self) -> bool:
        return True


SETKA_BYBIT_ENDPOINTS = _SimulatorEndpoints()
