"""Helpers shared by the account services."""

from __future__ import annotations

from rest_framework import status

from config.errors import DomainError


class RateLimited(DomainError):
    """Too many attempts or messages: 429 with Retry-After (the auth views add the header)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after = max(1, int(retry_after or 1))


def field_error(field: str, message: str, *, code: str = "invalid", status_code: int | None = None) -> DomainError:
    return DomainError(message, code=code, fields={field: [message]}, status_code=status_code)


def email_normalize(email: str) -> str:
    return (email or "").strip().lower()
