"""Charges of other apps (a pool's fees): an amount owed by a user, invoiced in USDT through the
crypto rail, exactly once per key (the unique live `charge_key`), and reported back through
billing.hooks when paid. The plan is never touched by such a payment."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from billing import selectors
from billing.models import Payment

CENT = Decimal("0.01")
DEAD = (Payment.Status.CANCELED, Payment.Status.FAILED)


def charge_amount(amount: Decimal) -> Decimal:
    """What is invoiced for an accrued amount: rounded DOWN to the cent (never more than owed)."""
    return Decimal(amount).quantize(CENT, ROUND_DOWN)


def charge_payment(*, key: str) -> Payment | None:
    """The live (or paid) payment of a charge, if any."""
    return Payment.objects.filter(charge_key=key).exclude(status__in=DEAD).first()


def charge_invoice(*, user, key: str, amount: Decimal, note: str, provider: str = "cryptopay") -> Payment | None:
    """Invoice `amount` to `user` for the charge `key` (idempotent: the live payment of the key
    is returned as it is; a NEW one is sent to the provider). None if it rounds to nothing."""
    from billing.services.payments import payment_send

    amount = charge_amount(amount)
    if amount <= 0:
        return None
    payment = charge_payment(key=key)
    if payment is None:
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    user=user,
                    plan=selectors.plan_effective(user=user),
                    provider=provider,
                    method="usdt",
                    purpose=Payment.Purpose.POOL_FEE,
                    amount=amount,
                    currency="USDT",
                    seller=settings.SETKA_BILLING_SELLERS.get(provider, ""),
                    note=note[:300],
                    charge_key=key,
                )
        except IntegrityError:  # a concurrent run invoiced it first
            payment = charge_payment(key=key)
            if payment is None:
                raise
    if payment.status == Payment.Status.NEW:
        payment = payment_send(payment=payment)
    return payment
