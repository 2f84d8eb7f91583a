"""Pool managers are paid what investors have paid them: fees count as earned once their
invoices are credited (PoolFee.paid_at, set by billing's charge hook), never while only accrued.

A manager asks for a payout of what is available (earned, less every payout requested, being
sent or paid): as credit towards their own plan (billing's USDT credit, at once), or by a rail
(Crypto Pay transfer to their Telegram account). An operator approves a transfer in admin; it
goes through billing's payout port (written with its key before the provider is called, sent
once) and is paid when the provider confirms it; a canceled or rejected payout no longer counts
against the balance, so the amount is available again, exactly. Fees are in USDT."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.destinations import BadDestination, destination_seal
from billing.services import payout_create, subscription_locked
from config.errors import ConflictError, DomainError
from pools.models import ManagerPayout, PoolFee

CENT = Decimal("0.01")
ZERO = Decimal(0)
CURRENCY = "USDT"
PREFIX = "pool_payout:"
RAILS = ("cryptopay",)  # pool fees are USDT; YooKassa pays roubles only


def manager_balance(*, user) -> dict:
    """earned (paid-in fees), pending (requested or being sent), paid, and available (earned less
    pending and paid, rounded down to the cent: what may be asked for)."""
    earned = PoolFee.objects.filter(manager=user, paid_at__isnull=False).aggregate(s=Sum("amount"))["s"] or ZERO
    sums = ManagerPayout.objects.filter(manager=user).aggregate(
        pending=Sum("amount", filter=Q(status__in=["requested", "sending"])),
        paid=Sum("amount", filter=Q(status="paid")),
    )
    pending, paid = sums["pending"] or ZERO, sums["paid"] or ZERO
    available = (earned - pending - paid).quantize(CENT, ROUND_DOWN)
    return {
        "currency": CURRENCY,
        "earned": earned.quantize(CENT, ROUND_DOWN),
        "pending": pending,
        "paid": paid,
        "available": available,
        "minimum": Decimal(settings.SETKA_PAYOUT_MINIMUMS.get("cryptopay", {}).get(CURRENCY, 0)),
        "rails": [r for r in RAILS if r in settings.SETKA_BILLING_RAILS],
    }


def manager_payouts(*, user):
    return ManagerPayout.objects.filter(manager=user)


def manager_payout_request(
    *, user, kind: str, amount: Decimal | None = None, rail: str = "", destination: str = "", now=None
) -> ManagerPayout:
    now = now or timezone.now()
    if kind not in ManagerPayout.Kind.values:
        raise DomainError(_("Choose how to be paid."), code="pool_bad_payout")
    with transaction.atomic():
        sub = subscription_locked(user=user)  # one request at a time per manager (the row lock)
        balance = manager_balance(user=user)
        available = balance["available"]
        if available <= 0:
            raise ConflictError(_("Nothing is available to pay out."), code="pool_nothing_available")
        amount = available if amount is None else Decimal(amount)
        if amount <= 0 or amount != amount.quantize(CENT):
            raise DomainError(_("Enter an amount in whole cents."), code="pool_bad_amount")
        if amount > available:
            raise ConflictError(_("That is more than is available."), code="pool_nothing_available")
        sealed = masked = ""
        if kind == ManagerPayout.Kind.TRANSFER:
            if rail not in balance["rails"]:
                raise DomainError(_("This payout method is not available."), code="pool_bad_payout")
            if amount < balance["minimum"]:
                raise ConflictError(
                    _("The minimum payout is %(amount)s %(currency)s.")
                    % {"amount": balance["minimum"], "currency": CURRENCY},
                    code="pool_below_minimum",
                )
            try:
                sealed, masked = destination_seal(rail=rail, raw=destination)
            except BadDestination as exc:
                message = _("Enter your Telegram user id (digits only).")
                raise DomainError(message, code="invalid", fields={"destination": [message]}) from exc
        payout = ManagerPayout.objects.create(
            manager=user,
            kind=kind,
            rail=rail if kind == ManagerPayout.Kind.TRANSFER else "",
            destination=masked,
            destination_sealed=sealed,
            amount=amount,
            currency=CURRENCY,
            status=ManagerPayout.Status.REQUESTED,
        )
        if kind == ManagerPayout.Kind.PLAN_CREDIT:
            sub.credit_usdt += amount
            sub.save(update_fields=["credit_usdt", "updated_at"])
            payout.status, payout.decided_at = ManagerPayout.Status.PAID, now
            payout.save(update_fields=["status", "decided_at"])
    return payout


def manager_payout_decide(*, payout: ManagerPayout, approve: bool, actor, note: str = "", now=None) -> ManagerPayout:
    """An operator approves a transfer (written to billing's payout port, sent after commit) or
    rejects it (the amount is available again)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = ManagerPayout.objects.select_for_update().get(pk=payout.pk)
        if locked.status != ManagerPayout.Status.REQUESTED:
            raise ConflictError(_("This payout has been decided already."), code="pool_payout_decided")
        locked.decided_by, locked.decided_at, locked.note = actor, now, note[:300]
        if approve:
            remote = payout_create(
                owner_key=f"{PREFIX}{locked.pk}",
                rail=locked.rail,
                amount=locked.amount,
                currency=locked.currency,
                sealed_destination=locked.destination_sealed,
            )
            locked.status, locked.provider_payout_id = ManagerPayout.Status.SENDING, remote.pk
        else:
            locked.status = ManagerPayout.Status.REJECTED
        locked.save(update_fields=["status", "provider_payout_id", "decided_by", "decided_at", "note"])
    return locked


def pool_payout_settled(*, key: str, status: str, reason: str = "") -> None:
    """billing's hook (SETKA_PAYOUT_LISTENERS), inside its settling transaction, once per payout:
    paid when the provider succeeded; failed (no longer counted: available again) when canceled."""
    payout_id = key.removeprefix(PREFIX)
    if not payout_id.isdigit():
        return
    locked = ManagerPayout.objects.select_for_update().filter(pk=int(payout_id)).first()
    if locked is None or locked.status != ManagerPayout.Status.SENDING:
        return
    if status == "succeeded":
        locked.status = ManagerPayout.Status.PAID
    else:
        locked.status = ManagerPayout.Status.FAILED
        locked.note = f"canceled by the provider: {reason}"[:300]
    locked.save(update_fields=["status", "note"])
