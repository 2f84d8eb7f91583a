"""Paying for a plan in Telegram Stars (currency XTR) from the chat, through billing.

/plans offers the paid plans; a button sends an invoice for one full period (the Payment row is
written first, its id is the invoice payload). Telegram then asks before charging
(pre_checkout_query: answered within 10 s, ok only for the chat's own pending payment with the
same amount), and reports the charge in a successful_payment message. Only that message
credits: it is stored once in billing's provider-event inbox (ProviderEvent, unique per
telegram_payment_charge_id) and applied through billing's payment_apply, which credits a
payment at most once. A repeated delivery of the same update changes nothing."""

from __future__ import annotations

import logging
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing.models import Payment, Plan, ProviderEvent
from billing.providers.base import ProviderPayment, ProviderStatus
from billing.selectors import subscription_of
from billing.services.payments import payment_apply
from telegram_bot.selectors import link_for_chat

logger = logging.getLogger(__name__)

PROVIDER = "telegram_stars"
CURRENCY = "XTR"
PAYLOAD_PREFIX = "setka-pay:"


def stars_price(*, plan: Plan) -> int:
    """One period of the plan in Stars (whole Stars, rounded up) from its USDT price."""
    stars = (plan.price_usdt * Decimal(settings.SETKA_TELEGRAM_STARS_PER_USDT)).quantize(
        Decimal(1), rounding=ROUND_CEILING
    )
    return int(stars)


def plans_for_stars() -> list[Plan]:
    return [
        p for p in Plan.objects.filter(is_public=True, kind=Plan.Kind.TIER).order_by("price_usdt") if p.price_usdt > 0
    ]


def stars_invoice_create(*, chat_id: int, plan_code: str) -> dict | None:
    """Write the Payment for the chat's user and return the invoice to send (None for a
    stranger or an unknown plan). A user on another paid plan is sent to the app (upgrades are
    prorated there)."""
    link = link_for_chat(chat_id=chat_id)
    plan = Plan.objects.filter(code=plan_code, is_public=True, kind=Plan.Kind.TIER).first()
    if link is None or plan is None or plan.price_usdt <= 0:
        return None
    user = link.user
    sub = subscription_of(user=user)
    if (
        sub is not None
        and sub.status == "active"
        and sub.plan.kind != Plan.Kind.FREE
        and sub.plan_id != plan.pk
        and sub.period_end
        and sub.period_end > timezone.now()
    ):
        return {"refused": "upgrade_in_app"}
    amount = stars_price(plan=plan)
    with transaction.atomic():
        payment = Payment.objects.create(
            user=user,
            plan=plan,
            provider=PROVIDER,
            method="stars",
            purpose=Payment.Purpose.SUBSCRIPTION,
            amount=Decimal(amount),
            currency=CURRENCY,
            period_days=plan.period_days,
            status=Payment.Status.PENDING,
            seller="Telegram Stars",
        )
        payment.provider_payment_id = f"{PAYLOAD_PREFIX}{payment.pk}"
        payment.save(update_fields=["provider_payment_id"])
    english = user.language == "en"
    return {
        "title": plan.name_en if english else plan.name_ru,
        "description": (f"{plan.period_days} days of the plan" if english else f"Тариф на {plan.period_days} дней"),
        "payload": payment.provider_payment_id,
        "amount": amount,
    }


def stars_precheckout(*, chat_id: int, payload: str, currency: str, total_amount: int) -> str | None:
    """None when the charge may go ahead; otherwise the reason shown to the payer."""
    link = link_for_chat(chat_id=chat_id)
    payment = Payment.objects.filter(provider=PROVIDER, provider_payment_id=payload).first()
    if link is None or payment is None or payment.user_id != link.user_id:
        return "Unknown invoice."
    if payment.status != Payment.Status.PENDING or payment.credited_at is not None:
        return "This invoice is already paid or closed."
    if currency != CURRENCY or Decimal(total_amount) != payment.amount:
        return "The amount has changed: ask for a new invoice."
    return None


def stars_payment_received(*, chat_id: int, payment: dict, update: dict) -> str:
    """A successful_payment message: store it once in billing's inbox, then apply it once.
    Returns the inbox outcome ("applied", "duplicate", "unknown", "mismatch", "noop")."""
    charge_id = payment["telegram_payment_charge_id"]
    payload = payment["invoice_payload"]
    try:
        with transaction.atomic():
            row = ProviderEvent.objects.create(
                provider=PROVIDER,
                event_id=charge_id,
                event_type="successful_payment",
                provider_payment_id=payload,
                payload=update,
            )
    except IntegrityError:
        ProviderEvent.objects.filter(provider=PROVIDER, event_id=charge_id).update(deliveries=F("deliveries") + 1)
        row = ProviderEvent.objects.get(provider=PROVIDER, event_id=charge_id)
    with transaction.atomic():
        locked = ProviderEvent.objects.select_for_update().get(pk=row.pk)
        if locked.processed_at is not None:
            return "duplicate"
        ours = Payment.objects.filter(provider=PROVIDER, provider_payment_id=payload).first()
        link = link_for_chat(chat_id=chat_id)
        outcome: str
        if ours is None or link is None or ours.user_id != link.user_id:
            outcome, note = ProviderEvent.Outcome.UNKNOWN, "no such Stars payment for this chat"
        else:
            remote = ProviderPayment(
                provider_payment_id=payload,
                status=ProviderStatus.SUCCEEDED,
                amount=Decimal(payment["total_amount"]),
                currency=payment["currency"],
                method_title="Telegram Stars",
                metadata={"telegram_payment_charge_id": charge_id},
            )
            outcome = payment_apply(payment_id=ours.pk, remote=remote)
            note = f"charge {charge_id}"
        locked.processed_at, locked.outcome, locked.note = timezone.now(), outcome, note[:300]
        locked.save(update_fields=["processed_at", "outcome", "note"])
    logger.info("telegram stars: charge %s for %s: %s", charge_id, payload, outcome)
    return outcome
