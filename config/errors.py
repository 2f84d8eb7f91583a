"""Domain errors: services raise them when a rule of the product is broken by the request (not a
bug). They name no HTTP machinery but their status; config.exceptions.api_exception_handler is the
one place that answers them (400/409 with {"detail", "code", "fields"}). A plain module any app
can import (the handler itself imports the exchange errors, which accounts must not reach)."""

from __future__ import annotations

from rest_framework import status


class DomainError(Exception):
    """A rule of the product was broken by the request (not a bug): answered with 400/409."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None, fields=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.fields = fields or {}


class ConflictError(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"
