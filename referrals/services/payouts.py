"""Paying partners what is available: at once as credit towards their own plan (billing spends
it on their next payment), or a payout request an operator approves in admin after the
transfer by the rail. The amount leaves "available" when requested (no double requests); a
rejected request returns it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.exceptions import ConflictError, DomainError
from referrals import selectors
from referrals.models import Partner, Payout
from referrals.services.ledger import CENT, ledger_post

RAIL_CURRENCY = {"yookassa": "RUB", "cryptopay": "USDT"}


def _minimum(partner: Partner, currency: str) -> Decimal:
    return partner.tier.min_payout_rub if currency == "RUB" else partner.tier.min_payout_usdt


def payout_request(
    *,
    user,
    kind: str,
    currency: str,
    amount: Decimal | None = None,
    rail: str = "",
    destination: str = "",
    now=None,
) -> Payout:
    now = now or timezone.now()
    if currency not in RAIL_CURRENCY.values():
        raise DomainError("Choose RUB or USDT.", code="referral_bad_currency")
    if kind not in Payout.Kind.values:
        raise DomainError("Choose how to be paid.", code="referral_bad_payout")
    with transaction.atomic():
        partner = Partner.objects.select_for_update().select_related("tier").filter(user=user).first()
        if partner is None:
            raise ConflictError("Nothing is available to pay out.", code="referral_nothing_available")
        available = selectors.balance(partner=partner, currency=currency, kind="available")
        if available <= 0:
            raise ConflictError("Nothing is available to pay out.", code="referral_nothing_available")
        amount = available if amount is None else Decimal(amount)
        if amount != amount.quantize(CENT) or amount <= 0:
            raise DomainError("Enter an amount in whole cents.", code="referral_bad_amount")
        if amount > available:
            raise ConflictError("That is more than is available.", code="referral_nothing_available")
        if kind == Payout.Kind.TRANSFER:
            if RAIL_CURRENCY.get(rail) != currency or rail not in settings.SETKA_BILLING_RAILS:
                raise DomainError("This payout method is not available.", code="referral_bad_payout")
            if not destination.strip():
                raise DomainError("Say where to send the money.", code="invalid", fields={"destination": ["Required."]})
            if amount < _minimum(partner, currency):
                raise ConflictError(
                    f"The minimum payout is {_minimum(partner, currency)} {currency}.", code="referral_below_minimum"
                )
        payout = Payout.objects.create(
            partner=partner,
            kind=kind,
            rail=rail if kind == Payout.Kind.TRANSFER else "",
            destination=destination.strip()[:200],
            amount=amount,
            currency=currency,
            status=Payout.Status.REQUESTED,
        )
        if kind == Payout.Kind.PLAN_CREDIT:
            _credit_plan(user=user, currency=currency, amount=amount)
            ledger_post(
                key=f"payout:{payout.pk}:paid",
                kind="payout",
                currency=currency,
                memo="credit towards the plan",
                lines=[(partner, "available", -amount), (partner, "paid", amount)],
            )
            payout.status, payout.decided_at = Payout.Status.PAID, now
            payout.save(update_fields=["status", "decided_at"])
        else:
            ledger_post(
                key=f"payout:{payout.pk}:request",
                kind="payout",
                currency=currency,
                memo=f"payout requested by {rail}",
                lines=[(partner, "available", -amount), (partner, "pending", amount)],
            )
    return payout


def _credit_plan(*, user, currency: str, amount: Decimal) -> None:
    """Billing's downgrade credit, spent on the user's next payment in that currency."""
    from billing.services.subscriptions import subscription_locked

    sub = subscription_locked(user=user)
    field = "credit_rub" if currency == "RUB" else "credit_usdt"
    setattr(sub, field, getattr(sub, field) + amount)
    sub.save(update_fields=[field, "updated_at"])


def payout_decide(*, payout: Payout, approve: bool, actor, note: str = "", now=None) -> Payout:
    """An operator marks a transfer as sent (paid) or rejects the request (money back to available)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Payout.objects.select_for_update().select_related("partner").get(pk=payout.pk)
        if locked.status != Payout.Status.REQUESTED:
            raise ConflictError("This payout has been decided already.", code="referral_payout_decided")
        target = "paid" if approve else "available"
        ledger_post(
            key=f"payout:{locked.pk}:{'paid' if approve else 'rejected'}",
            kind="payout",
            currency=locked.currency,
            memo=note or ("transfer sent" if approve else "request rejected"),
            lines=[(locked.partner, "pending", -locked.amount), (locked.partner, target, locked.amount)],
        )
        locked.status = Payout.Status.PAID if approve else Payout.Status.REJECTED
        locked.decided_by, locked.decided_at, locked.note = actor, now, note[:300]
        locked.save(update_fields=["status", "decided_by", "decided_at", "note"])
    return locked
