"""The double-entry ledger: one function posts an entry, checks that it balances and posts it at
most once (its key names the source event; a second call with the same key returns the first
entry and posts nothing)."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction

from referrals.models import LedgerAccount, LedgerEntry, LedgerPosting, Partner

CENT = Decimal("0.01")


class UnbalancedEntry(Exception):
    """A bug in the caller: the postings of an entry must sum to zero."""


def ledger_account(*, partner: Partner | None, kind: str, currency: str) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(partner=partner, kind=kind, currency=currency)
    return account


def ledger_post(
    *, key: str, kind: str, currency: str, lines: list[tuple[Partner | None, str, Decimal]], reward=None, memo=""
) -> tuple[LedgerEntry, bool]:
    """Post (partner or None for the platform, account kind, signed amount) lines as one entry.
    Returns (entry, created). Zero lines are dropped; the rest must sum to exactly zero."""
    lines = [(p, k, Decimal(a)) for p, k, a in lines if Decimal(a) != 0]
    for _, _, amount in lines:
        if amount != amount.quantize(CENT):
            raise UnbalancedEntry(f"{key}: {amount} is not a whole number of cents")
    if sum((a for _, _, a in lines), Decimal(0)) != 0:
        raise UnbalancedEntry(f"{key}: postings sum to {sum(a for _, _, a in lines)}")
    existing = LedgerEntry.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(key=key, kind=kind, reward=reward, memo=memo[:200])
            LedgerPosting.objects.bulk_create(
                LedgerPosting(entry=entry, account=ledger_account(partner=p, kind=k, currency=currency), amount=a)
                for p, k, a in lines
            )
    except IntegrityError:  # the same event, posted concurrently: theirs stands
        return LedgerEntry.objects.get(key=key), False
    return entry, True
