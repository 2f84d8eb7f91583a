"""One error shape for the whole API: {"detail": "...", "code": "...", "fields": {...}}.

DRF's default already answers 4xx for validation, auth and throttling; this adds a readable
top-level `detail` to field errors and turns domain errors (services raise DomainError) into
400/409 instead of 500."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A rule of the product was broken by the request (not a bug): answered with 400/409."""

    status_code = status.HTTP_400_BAD_REQUEST
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


def _first_message(data) -> str:
    if isinstance(data, dict):
        for key, value in data.items():
            message = _first_message(value)
            if message:
                return message if key in ("detail", "non_field_errors") else f"{key}: {message}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    if isinstance(data, str):
        return data
    return ""


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.fields:
            body["fields"] = exc.fields
        return Response(body, status=exc.status_code)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        fields = response.data
        response.data = {"detail": _first_message(fields) or "Invalid input.", "code": "invalid", "fields": fields}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data.setdefault("code", getattr(response.data["detail"], "code", "error"))
    return response
