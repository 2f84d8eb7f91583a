"""Payout destinations at rest: validated, normalised (billing.payout_destinations) and sealed
with the platform's encryption keys, so another app can keep a destination until a payout is
approved without ever holding it in clear. Only billing opens a sealed destination, to send it."""

from __future__ import annotations

from billing.payout_destinations import BadDestination, destination_mask, destination_parse
from exchanges.fields import current_fernet, decrypt_secret

__all__ = ["BadDestination", "destination_open", "destination_seal"]


def destination_seal(*, rail: str, raw: str) -> tuple[str, str]:
    """(sealed, masked) for what the user typed, or BadDestination."""
    destination = destination_parse(rail=rail, raw=raw)
    return current_fernet().encrypt(destination.encode()).decode(), destination_mask(destination)


def destination_open(sealed: str) -> str:
    return decrypt_secret(sealed, label="payout destination")
