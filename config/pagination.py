"""Limit/offset pagination with bounds: `?limit=2**63` is clamped to MAX_LIMIT (DRF's default
has no maximum and hands the number to the database: "bigint out of range", a 500), and an
offset beyond 64 bits or beyond the last row answers an empty page."""

from __future__ import annotations

from rest_framework import pagination

from config.limits import MAX_ID

MAX_LIMIT = 500


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_ID)
