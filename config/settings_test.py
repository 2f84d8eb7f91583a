"""Test settings: the base settings with PostgreSQL and Redis on 127.0.0.1 by default.

Tests never run on SQLite (tests/conftest.py refuses to). Subprocesses started by tests
(worker, beat, streams, daphne) inherit DJANGO_SETTINGS_MODULE and these variables."""

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

from config.settings import *  # noqa: E402,F403
