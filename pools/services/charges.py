"""Pool fees become the investor's invoices through billing (billing.services.charge_invoice):
one payment per PoolFee (key "pool_fee:<id>"), re-issued only if the last one was canceled or
failed. The manager has earned a fee once its payment is credited (billing tells us through
SETKA_CHARGE_LISTENERS -> pool_fee_charge_settled); until then it is only accrued.

A paper pool's fees are figures of a simulation: they are accrued and shown as such, and never
invoiced (nobody pays real money for simulated gains, so a manager never earns them)."""

from __future__ import annotations

import logging

from django.db import transaction

from billing.services import charge_invoice
from pools.models import PoolFee

logger = logging.getLogger(__name__)
PREFIX = "pool_fee:"
DEAD = ("canceled", "failed")


def pool_fee_key(fee: PoolFee) -> str:
    return f"{PREFIX}{fee.pk}"


def pool_fee_invoice(*, fee: PoolFee):
    """Invoice one fee to its investor (idempotent). Returns the payment, or None when it is
    paid already or rounds to less than a cent."""
    with transaction.atomic():
        fee = (
            PoolFee.objects.select_for_update(of=("self",)).select_related("investor", "pool", "payment").get(pk=fee.pk)
        )
        if fee.paid_at is not None or fee.pool.is_paper:
            return None
        payment = charge_invoice(
            user=fee.investor,
            key=pool_fee_key(fee),
            amount=fee.amount,
            note=f"{fee.get_kind_display()} of pool #{fee.pool_id} ({fee.key})",
        )
        if payment is not None and fee.payment_id != payment.pk:
            fee.payment = payment
            fee.save(update_fields=["payment"])
    return payment


def pool_fees_invoice_due(*, limit: int = 500) -> int:
    """The periodic pass: every unpaid fee with no live invoice is invoiced. Returns how many."""
    from config.errors import DomainError

    count = 0
    due = PoolFee.objects.filter(paid_at__isnull=True, pool__is_paper=False).exclude(
        payment__status__in=("pending", "succeeded")
    )
    for fee in due.order_by("id")[:limit]:
        try:
            if pool_fee_invoice(fee=fee) is not None:
                count += 1
        except DomainError:  # the provider is not answering: the next pass tries again
            logger.warning("pools: fee %s could not be invoiced now", fee.pk)
            continue
    return count


def pool_fee_charge_settled(*, key: str, payment_id: int, paid_at) -> None:
    """billing's hook: the payment of a fee was credited (paid_at) or taken back (None)."""
    fee_id = key.removeprefix(PREFIX)
    if not fee_id.isdigit():
        return
    PoolFee.objects.filter(pk=int(fee_id)).update(payment_id=payment_id, paid_at=paid_at)
