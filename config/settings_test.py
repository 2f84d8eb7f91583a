"""Test settings: the base settings with PostgreSQL and Redis on 127.0.0.1 by default.

Tests never run on SQLite (tests/conftest.py refuses to). Subprocesses started by tests
(worker, beat, streams, daphne) inherit DJANGO_SETTINGS_MODULE and these variables."""

import os

os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/setka")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SETKA_THROTTLE_ANON", "100000/min")
os.environ.setdefault("SETKA_THROTTLE_USER", "100000/min")

from config.settings import *  # noqa: E402,F403
