"""Request-body JSON that cannot hurt the server.

DRF's own JSONParser hands the body to `json.load` as it is: a document nested 100,000 deep
ends in RecursionError (a 500), `1e999999999` becomes float infinity, and the body size is
unbounded (Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only for `request.body`, which DRF does
not use). `safe_json_loads` is the one parser of request bodies: bounded size, bounded depth,
finite numbers only; every refusal is a ParseError (400) with a sentence a person understands.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

# Deeper than any body the API accepts (the bot config is 2 levels); enough for clients that wrap.
MAX_DEPTH = 32
# Longest integer literal kept as an int; longer ones become a Decimal so the field that
# receives it can answer "too large" (Python refuses int() beyond 4,300 digits anyway).
MAX_INT_DIGITS = 40

MSG_TOO_DEEP = _("The request body is nested too deeply.")
MSG_NOT_JSON = _("The request body is not valid JSON.")
MSG_NOT_FINITE = _("The request contains a number that is too large or not a number (NaN, Infinity).")
MSG_TOO_LARGE = _("The request body is too large.")
MSG_NOT_UTF8 = _("The request body is not valid UTF-8 text.")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = MSG_TOO_LARGE
    default_code = "request_too_large"


class _Invalid(ValueError):
    pass


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Invalid(str(MSG_NOT_FINITE))
    return value


def _parse_int(text: str) -> int | Decimal:
    digits = len(text) - (text[0] == "-")
    return int(text) if digits <= MAX_INT_DIGITS else Decimal(text)


def _reject_constant(name: str):
    raise _Invalid(str(MSG_NOT_FINITE))


def _depth_ok(value: Any, limit: int) -> bool:
    """True when no container in `value` is nested deeper than `limit` (iterative: no recursion)."""
    stack = [(value, 1)]
    children: Iterable[Any]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


def safe_json_loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed document, or ParseError (400) saying why it cannot be read."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError(MSG_NOT_UTF8) from None
    try:
        data = json.loads(raw, parse_float=_parse_float, parse_int=_parse_int, parse_constant=_reject_constant)
    except RecursionError:
        raise ParseError(MSG_TOO_DEEP, code="json_too_deep") from None
    except _Invalid as exc:
        raise ParseError(str(exc), code="number_not_finite") from None
    except ValueError:
        raise ParseError(MSG_NOT_JSON) from None
    if not _depth_ok(data, max_depth):
        raise ParseError(MSG_TOO_DEEP, code="json_too_deep")
    return data


def _body_limit() -> int:
    limit = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
    return int(limit) if limit else 2_621_440


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser on top of safe_json_loads (same media type, same renderer)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = _body_limit()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge()
        if not raw.strip():
            raise ParseError(MSG_NOT_JSON)
        return safe_json_loads(raw)
