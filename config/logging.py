"""A logging filter that masks anything that looks like an API key, secret, token or password.

Defence in depth: code never logs secrets on purpose, and this catches the accidents (an
exception message that echoes a request body, a pybit debug line with headers)."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    re.compile(r"(?i)(api[_-]?secret|api[_-]?key|secret|password|token|X-BAPI-SIGN|X-BAPI-API-KEY|sign)(['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}&]+)"),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
