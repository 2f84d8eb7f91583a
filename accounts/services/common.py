"""Helpers shared by the account services."""

from __future__ import annotations

from config.exceptions import DomainError


def field_error(field: str, message: str, *, code: str = "invalid", status_code: int | None = None) -> DomainError:
    return DomainError(message, code=code, fields={field: [message]}, status_code=status_code)


def email_normalize(email: str) -> str:
    return (email or "").strip().lower()
