"""Keyset ("cursor") pagination that stays fast at millions of rows.

The cursor encodes the last row's ordering key, e.g. (executed_at, id); the next page is
`WHERE key < cursor ORDER BY key DESC LIMIT n`, answered by walking the index from the cursor
(no OFFSET, no COUNT). `previous` walks the other way and reverses the page."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from config.limits import EARLIEST, LATEST, MAX_ID

# Bounds of a cursor's values: ids are positive 64-bit integers; times are aware and in a range
# every database and Python can hold after conversion to UTC (a forged "0001-01-01T00:00+14:00"
# is year 0 in UTC: OverflowError on SQLite, a 500).
MAX_CURSOR_LENGTH = 512


def _aware_in_range(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive time")
    moment = moment.astimezone(UTC)  # OverflowError past year 9999 / before year 1
    if not EARLIEST <= moment < LATEST:
        raise ValueError("time out of range")
    return moment


class KeysetPagination(BasePagination):
    """Descending keyset over `ordering` (field names, newest first; the last one unique)."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 50
    max_page_size = 500
    ordering: tuple[str, ...] = ("-id",)

    def __init__(self, ordering: tuple[str, ...] | None = None, page_size: int | None = None):
        if ordering:
            self.ordering = ordering
        if page_size:
            self.page_size = page_size

    # --- cursor encoding -------------------------------------------------------------------
    def _fields(self) -> list[str]:
        return [f.lstrip("-") for f in self.ordering]

    @staticmethod
    def _dump(value):
        return value.isoformat() if isinstance(value, datetime) else value

    def _encode(self, values, reverse: bool) -> str:
        raw = json.dumps({"k": [self._dump(v) for v in values], "r": reverse}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode(self, token: str):
        try:
            if len(token) > MAX_CURSOR_LENGTH:
                raise ValueError("cursor too long")
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            values, reverse = data["k"], bool(data.get("r", False))
            if not isinstance(values, list) or len(values) != len(self.ordering):
                raise ValueError
            parsed = []
            for field, value in zip(self._fields(), values, strict=True):
                if field.endswith("_at"):
                    value = _aware_in_range(value)
                elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
                    raise ValueError
                parsed.append(value)
            return parsed, reverse
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError, json.JSONDecodeError) as exc:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from exc

    def _after(self, values, *, forward: bool) -> Q:
        """Rows strictly after `values` in the walking direction (descending when forward)."""
        fields = self._fields()
        op_strict = "lt" if forward else "gt"
        op_loose = "lte" if forward else "gte"
        condition = Q()
        for i in range(len(fields) - 1, -1, -1):
            here = Q(**{f"{fields[i]}__{op_strict}": values[i]})
            if i == len(fields) - 1:
                condition = here
            else:
                condition = here | (Q(**{fields[i]: values[i]}) & condition)
        # The redundant bound on the first column lets PostgreSQL start the index scan there.
        return Q(**{f"{fields[0]}__{op_loose}": values[0]}) & condition

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError as exc:
            raise ValidationError({self.page_size_query_param: ["A whole number is required."]}) from exc
        if size < 1:
            raise ValidationError({self.page_size_query_param: ["Must be at least 1."]})
        return min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        token = request.query_params.get(self.cursor_query_param)
        forward = True
        if token:
            values, reverse = self._decode(token)
            forward = not reverse
            queryset = queryset.filter(self._after(values, forward=forward))
        order = list(self.ordering) if forward else [f.lstrip("-") for f in self.ordering]
        rows = list(queryset.order_by(*order)[: size + 1])
        has_more = len(rows) > size
        rows = rows[:size]
        if not forward:
            rows.reverse()
        self.page = rows
        fields = self._fields()
        key = lambda row: [getattr(row, f) for f in fields]  # noqa: E731
        self.next_token = self.prev_token = None
        if rows:
            if (forward and has_more) or (not forward):
                self.next_token = self._encode(key(rows[-1]), reverse=False)
            if (forward and token) or (not forward and has_more):
                self.prev_token = self._encode(key(rows[0]), reverse=True)
        return rows

    def _url(self, token):
        if token is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, token) if token else remove_query_param(url, "cursor")

    def get_paginated_response(self, data):
        return Response({"next": self._url(self.next_token), "previous": self._url(self.prev_token), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque cursor from `next` or `previous`.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (1-{self.max_page_size}, default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class TradeCursorPagination(KeysetPagination):
    ordering = ("-executed_at", "-id")


class IdCursorPagination(KeysetPagination):
    ordering = ("-id",)
