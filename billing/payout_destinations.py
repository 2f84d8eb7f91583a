"""Where a payout goes, in one home both ways: what a user types -> a normalised destination
("bank_card:<digits>", "yoo_money:<digits>", "telegram:<user id>") that the adapters send, and
the masked form that is the only one ever shown or logged. Pure: no Django, no network."""

from __future__ import annotations

# Which kinds each rail can pay to.
RAIL_KINDS = {"yookassa": ("bank_card", "yoo_money"), "cryptopay": ("telegram",)}
TELEGRAM_MAX_ID = 2**52  # Telegram user ids fit in 52 bits


class BadDestination(ValueError):
    """What the user typed is not a destination this rail can pay to (the message says why)."""


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def destination_parse(*, rail: str, raw: str) -> str:
    """The normalised destination, or BadDestination. YooKassa: a bank card number (Luhn) or a
    YooMoney wallet (41001..., 11-20 digits); Crypto Pay: the recipient's Telegram user id."""
    text = "".join(ch for ch in str(raw) if not ch.isspace() and ch != "-")
    if rail == "yookassa":
        if text.isdigit() and text.startswith("4100") and 11 <= len(text) <= 20 and not luhn_ok(text):
            return f"yoo_money:{text}"
        if text.isdigit() and 16 <= len(text) <= 19:
            if not luhn_ok(text):
                raise BadDestination("card_checksum")
            return f"bank_card:{text}"
        if text.isdigit() and text.startswith("4100") and 11 <= len(text) <= 20:
            return f"yoo_money:{text}"
        raise BadDestination("card_format")
    if rail == "cryptopay":
        if text.isdigit() and 0 < int(text) < TELEGRAM_MAX_ID and len(text) <= 16:
            return f"telegram:{int(text)}"
        raise BadDestination("telegram_format")
    raise BadDestination("rail")


def destination_kind(destination: str) -> str:
    return destination.partition(":")[0]


def destination_mask(destination: str) -> str:
    """What may be shown and logged: a card's last four, a wallet's first four and last four."""
    kind, _, value = destination.partition(":")
    if kind == "bank_card":
        return f"•••• {value[-4:]}"
    if kind == "yoo_money":
        return f"{value[:4]}••••{value[-4:]}"
    if kind == "telegram":
        return f"Telegram {value[:2]}•••{value[-2:]}"
    return "••••"
