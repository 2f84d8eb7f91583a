""" "Pay from profit": a share of the realized grid profit of the user's live bots, accrued per
calendar month and capped. Each cent of profit is accrued once (a watermark per bot); the fee is
recomputed from the month's total, so increments never add rounding errors:

    fee = min(cap, rate x month's profit rounded DOWN to the cent), never below zero."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import selectors
from billing.models import Plan, ProfitShareMonth, ProfitWatermark

CENT = Decimal("0.01")


def profit_share_fee(*, profit: Decimal, rate: Decimal, cap: Decimal) -> Decimal:
    if profit <= 0:
        return Decimal("0.00")
    return min(Decimal(cap), (Decimal(profit) * Decimal(rate)).quantize(CENT, ROUND_DOWN)).quantize(CENT)


def profit_watermarks_start(*, user) -> None:
    """On joining the plan, profit made before it is not charged: start each live bot's
    watermark at its current grid profit."""
    for bot in selectors.live_bots(user=user):
        ProfitWatermark.objects.update_or_create(
            bot=bot, defaults={"accrued_profit": selectors.bot_realized_grid_profit(bot=bot)}
        )


def profit_share_accrue(*, user, now=None) -> ProfitShareMonth | None:
    """Accrue the profit made since the last accrual into this month's row (idempotent: run it
    as often as you like). Bots first seen here started under the plan: counted from zero."""
    now = now or timezone.now()
    plan = selectors.plan_effective(user=user)
    if plan.kind != Plan.Kind.PROFIT_SHARE:
        return None
    with transaction.atomic():
        month, _ = ProfitShareMonth.objects.select_for_update().get_or_create(
            user=user,
            month=selectors.month_start(now),
            defaults={"rate": plan.profit_share_rate, "cap": plan.profit_share_cap_usdt},
        )
        for bot in selectors.live_bots(user=user):
            mark, _ = ProfitWatermark.objects.select_for_update().get_or_create(bot=bot)
            cumulative = selectors.bot_realized_grid_profit(bot=bot)
            delta = cumulative - mark.accrued_profit
            if delta:
                month.profit += delta
                mark.accrued_profit = cumulative
                mark.save(update_fields=["accrued_profit", "updated_at"])
        month.fee = profit_share_fee(profit=month.profit, rate=month.rate, cap=month.cap)
        month.save()
    return month


def profit_share_accrue_all(*, now=None) -> int:
    from billing.models import Subscription

    count = 0
    users = Subscription.objects.filter(plan__kind=Plan.Kind.PROFIT_SHARE, status__in=selectors.PAID_STATUSES)
    for sub in users.select_related("user"):
        if profit_share_accrue(user=sub.user, now=now) is not None:
            count += 1
    return count


def profit_share_invoice(*, month: ProfitShareMonth, provider: str = "cryptopay", now=None):
    """Invoice a finished month's fee (USDT through the crypto rail; idempotent: one payment per
    month, re-sent if it was never created at the provider)."""
    from billing.models import Payment
    from billing.services.payments import payment_send

    now = now or timezone.now()
    if month.month >= selectors.month_start(now):
        raise ValueError("the month is not over yet")
    if month.fee <= 0 or month.paid_at is not None:
        return None
    with transaction.atomic():
        locked = ProfitShareMonth.objects.select_for_update().select_related("user").get(pk=month.pk)
        payment = locked.payment
        if payment is None or payment.status in (Payment.Status.CANCELED, Payment.Status.FAILED):
            payment = Payment.objects.create(
                user=locked.user,
                plan=Plan.objects.get(kind=Plan.Kind.PROFIT_SHARE, code="profit"),
                provider=provider,
                method="usdt",
                purpose=Payment.Purpose.PROFIT_SHARE,
                amount=locked.fee,
                currency="USDT",
                seller=settings.SETKA_BILLING_SELLERS.get(provider, ""),
                note=f"fee for {locked.month:%Y-%m}",
            )
            locked.payment = payment
            locked.save(update_fields=["payment", "updated_at"])
    if payment.status == Payment.Status.NEW:
        payment = payment_send(payment=payment)
    return payment


def profit_share_invoice_due(*, now=None) -> int:
    """The periodic job: invoice every finished month with a fee and no live invoice."""
    from billing.providers import ProviderError
    from config.errors import DomainError

    now = now or timezone.now()
    count = 0
    due = ProfitShareMonth.objects.filter(month__lt=selectors.month_start(now), fee__gt=0, paid_at__isnull=True)
    for month in due.filter(payment__isnull=True).select_related("user")[:500]:
        try:
            if profit_share_invoice(month=month, now=now) is not None:
                count += 1
        except (DomainError, ProviderError):
            continue
    return count
