"""Payouts: money we send out by a rail, for another app (referrals, pools) that owns the reason.

The row (ProviderPayout, with its idempotency key) is committed BEFORE the provider is called.
Whatever happens next (an answer, a refusal, a timeout, a crash) the same key is what is sent
again, so the provider makes at most one payout per row. A payout settles once, from the
provider's fetched state (a callback is only a hint to fetch): its owner is told inside that
transaction through SETKA_PAYOUT_LISTENERS (key prefix -> `listener(*, key, status, reason)`),
so billing never imports the owners' apps. `payouts_reconcile` (beat) finishes what a timeout
or a crash left pending.

Also here: the payer's instrument fingerprint (keyed HMAC of what the rail says identifies the
card or wallet), which referrals compares to catch self-referral with the same card."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from billing.destinations import destination_open
from billing.models import ProviderPayout
from billing.payout_destinations import destination_mask
from billing.providers import ProviderError, provider_for
from billing.providers.base import PayoutRejected, ProviderStatus
from billing.providers.base import ProviderPayout as RemotePayout

logger = logging.getLogger("billing")
CENT = Decimal("0.01")


def instrument_fingerprint(raw: str) -> str:
    """HMAC-SHA256 (hex) of the raw instrument descriptor under the server's secret: equal for
    the same card, useless to anyone without the key. "" for ""."""
    if not raw:
        return ""
    key = settings.SETKA_INSTRUMENT_FINGERPRINT_KEY.encode()
    return hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()


@cache
def _listener(path: str):
    return import_string(path)


def _tell_owner(payout: ProviderPayout) -> None:
    for prefix, path in dict(getattr(settings, "SETKA_PAYOUT_LISTENERS", {})).items():
        if payout.owner_key.startswith(prefix):
            _listener(path)(key=payout.owner_key, status=payout.status, reason=payout.cancellation_reason)


def payout_create(
    *, owner_key: str, rail: str, amount: Decimal, currency: str, sealed_destination: str
) -> ProviderPayout:
    """Write the payout (idempotent on owner_key: the same reason is paid by one row) to a
    destination sealed by billing.destinations.destination_seal. Call inside the owner's
    transaction and send it after commit (payout_send_task)."""
    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(CENT):
        raise ValueError(f"payout amount {amount} is not a positive whole number of cents")
    existing = ProviderPayout.objects.filter(owner_key=owner_key).first()
    if existing is not None:
        return existing
    destination = destination_open(sealed_destination)
    try:
        with transaction.atomic():
            payout = ProviderPayout.objects.create(
                owner_key=owner_key,
                rail=rail,
                amount=amount,
                currency=currency,
                destination=destination,
                destination_masked=destination_mask(destination),
            )
    except IntegrityError:
        return ProviderPayout.objects.get(owner_key=owner_key)
    transaction.on_commit(lambda: _send_later(payout.pk))
    return payout


def _send_later(payout_id: int) -> None:
    from billing.tasks import payout_send_task

    payout_send_task.delay(payout_id)


def payout_send(*, payout_id: int, now=None) -> str:
    """Send (or re-send, with the same key) a payout nobody has an answer for. Returns its status."""
    now = now or timezone.now()
    payout = ProviderPayout.objects.get(pk=payout_id)
    if payout.status not in (ProviderPayout.Status.NEW, ProviderPayout.Status.PENDING):
        return payout.status
    ProviderPayout.objects.filter(pk=payout.pk).update(attempts=payout.attempts + 1, last_checked_at=now)
    adapter = provider_for(payout.rail)
    try:
        remote = adapter.payout(
            amount=payout.amount,
            currency=payout.currency,
            destination=payout.destination,
            idempotency_key=str(payout.idempotence_key),
        )
    except PayoutRejected as exc:
        logger.warning("billing: payout %s to %s refused: %s", payout.pk, payout.destination_masked, exc)
        return _settle(payout_id=payout.pk, remote=None, reason="refused", now=now)
    except ProviderError as exc:
        # The outcome is unknown: it stays pending; reconciliation asks again with the same key.
        logger.warning("billing: payout %s sent, no answer (%s): reconciliation will settle it", payout.pk, exc)
        ProviderPayout.objects.filter(pk=payout.pk, status=ProviderPayout.Status.NEW).update(
            status=ProviderPayout.Status.PENDING
        )
        return ProviderPayout.Status.PENDING
    return payout_apply(payout_id=payout.pk, remote=remote, now=now)


def payout_apply(*, payout_id: int, remote: RemotePayout, now=None) -> str:
    """Bring a payout in line with the provider's fetched state (settles at most once)."""
    return _settle(payout_id=payout_id, remote=remote, reason=remote.cancellation_reason, now=now)


def _settle(*, payout_id: int, remote: RemotePayout | None, reason: str, now=None) -> str:
    now = now or timezone.now()
    with transaction.atomic():
        payout = ProviderPayout.objects.select_for_update().get(pk=payout_id)
        payout.last_checked_at = now
        if payout.status in (ProviderPayout.Status.SUCCEEDED, ProviderPayout.Status.CANCELED):
            payout.save(update_fields=["last_checked_at", "updated_at"])
            return payout.status
        if remote is not None:
            if remote.amount != payout.amount or remote.currency != payout.currency:
                logger.error(
                    "billing: payout %s: ours %s %s, %s says %s %s (held for an operator)",
                    payout.pk,
                    payout.amount,
                    payout.currency,
                    payout.rail,
                    remote.amount,
                    remote.currency,
                )
                payout.save(update_fields=["last_checked_at", "updated_at"])
                return payout.status
            payout.provider_payout_id = remote.provider_payout_id
        status = {
            None: ProviderPayout.Status.CANCELED,
            ProviderStatus.SUCCEEDED: ProviderPayout.Status.SUCCEEDED,
            ProviderStatus.CANCELED: ProviderPayout.Status.CANCELED,
        }.get(remote.status if remote is not None else None, ProviderPayout.Status.PENDING)
        payout.status = status
        if status != ProviderPayout.Status.PENDING:
            payout.settled_at = now
            payout.cancellation_reason = (reason or "")[:64] if status == ProviderPayout.Status.CANCELED else ""
        payout.save()
        if status != ProviderPayout.Status.PENDING:
            _tell_owner(payout)
            logger.info("billing: payout %s %s (%s %s)", payout.pk, status, payout.amount, payout.currency)
    return status


def payout_refresh(*, payout_id: int, now=None) -> str:
    """Ask the provider about an unsettled payout: by its id, or by our key; if it never got
    there, send it again with the same key."""
    payout = ProviderPayout.objects.get(pk=payout_id)
    remote = provider_for(payout.rail).payout_fetch(
        provider_payout_id=payout.provider_payout_id or "", idempotency_key=str(payout.idempotence_key)
    )
    if remote is None:
        return payout_send(payout_id=payout.pk, now=now)
    return payout_apply(payout_id=payout.pk, remote=remote, now=now)


def payout_event(*, rail: str, provider_payout_id: str, now=None) -> str | None:
    """A payout callback: fetch the payout by id (never trust the body) and apply. None: not ours."""
    payout = ProviderPayout.objects.filter(rail=rail, provider_payout_id=provider_payout_id).first()
    if payout is None:
        return None
    return payout_refresh(payout_id=payout.pk, now=now)


def payouts_reconcile(*, now=None, limit: int = 200) -> dict:
    """The periodic pass: payouts written but unanswered or still pending are settled from the
    provider (a lost answer, a crash between writing and sending, a missed callback)."""
    now = now or timezone.now()
    counts = {"checked": 0, "settled": 0, "errors": 0}
    stale = now - timedelta(seconds=30)
    due = ProviderPayout.objects.filter(
        status__in=[ProviderPayout.Status.NEW, ProviderPayout.Status.PENDING], created_at__lte=stale
    ).order_by("last_checked_at", "id")
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        try:
            status = payout_refresh(payout_id=pk, now=now)
        except ProviderError:
            counts["errors"] += 1
            continue
        counts["checked"] += 1
        if status in (ProviderPayout.Status.SUCCEEDED, ProviderPayout.Status.CANCELED):
            counts["settled"] += 1
    return counts
