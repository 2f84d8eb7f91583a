"""Bounds of what a request may name, checked at the edge (URL, query, body) so that nothing out
of range ever reaches the database (PostgreSQL answers "out of range"; the quick start's SQLite
raises OverflowError) or a conversion to UTC."""

from __future__ import annotations

from datetime import UTC, datetime

MAX_ID = 2**63 - 1  # a bigint primary key
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # dates in filters and cursors
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
