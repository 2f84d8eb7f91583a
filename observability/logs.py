"""Structured logs: one JSON object a line, carrying the ids of what the line is about.

`log_context(bot_id=..., account_id=...)` binds ids for the code inside it (the tick, a stream
callback, a task); `ContextFilter` copies them onto every record, and `JsonFormatter` prints the
record with them. Secrets are masked before this by config.logging.RedactSecretsFilter."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_CONTEXT: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar("setka_log_context", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is printed.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Bind ids (bot_id, account_id, venue, task ...) to every log line written inside."""
    merged = {**(_CONTEXT.get() or {}), **{k: v for k, v in ids.items() if v is not None}}
    token = _CONTEXT.set(merged)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> dict[str, object]:
    return dict(_CONTEXT.get() or {})


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_CONTEXT.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
