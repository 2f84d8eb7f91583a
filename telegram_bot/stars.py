"""Paying for a plan in Telegram Stars (currency XTR) from the chat, through billing.

/plans offers the paid plans; a button sends an invoice for one full period (the Payment row is
written first, its id is the invoice payload). Telegram then asks before charging
(pre_checkout_query: answered within 10 s, ok only for the chat's own pending payment with the
same amount), and reports the charge in a successful_payment message. Only that message
credits: it is stored once in billing's provider-event inbox (ProviderEvent, unique per
telegram_payment_charge_id) and applied through billing's payment_apply, which credits a
payment at most once. A repeated delivery of the same update changes nothing.

Refunds: an operator refunds a Stars payment from billing's admin like any other; billing finds
this rail's adapter (StarsProvider) through the setting SETKA_BILLING_PROVIDER_ADAPTERS. Billing
writes the Refund row (with its idempotence key) first, then the adapter calls the Bot API's
refundStarPayment for the charge's payer; Telegram refunds a whole charge only, and answers a
repeated call with CHARGE_ALREADY_REFUNDED, which is the refund we asked for already done."""

from __future__ import annotations

import asyncio
import logging
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing.models import Payment, Plan, ProviderEvent, Refund
from billing.providers.base import CallbackRejected, ProviderError, ProviderPayment, ProviderStatus
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


def _charge_of(payment: Payment) -> tuple[int, str]:
    """The payer's Telegram user id and the charge id of a credited Stars payment, from the
    successful_payment update stored once in billing's inbox."""
    event = (
        ProviderEvent.objects.filter(
            provider=PROVIDER,
            event_type="successful_payment",
            provider_payment_id=payment.provider_payment_id,
            outcome=ProviderEvent.Outcome.APPLIED,
        )
        .order_by("id")
        .first()
    )
    if event is None:
        raise ProviderError(f"no Telegram charge is recorded for payment {payment.pk}")
    message = (event.payload or {}).get("message") or event.payload or {}
    sender = message.get("from") or message.get("from_user") or message.get("chat") or {}
    try:
        user_id = int(sender["id"])
    except (KeyError, TypeError, ValueError):
        raise ProviderError(f"the charge of payment {payment.pk} names no payer") from None
    return user_id, event.event_id


async def _refund(user_id: int, charge_id: str) -> bool:
    from telegram_bot.client import make_bot

    bot = make_bot()
    try:
        return await bot.refund_star_payment(user_id=user_id, telegram_payment_charge_id=charge_id)
    finally:
        await bot.session.close()


class StarsProvider:
    """Billing's port (billing.providers.base.PaymentProvider) for Telegram Stars. Payments are
    created and confirmed in the chat (stars_invoice_create, stars_payment_received); what
    billing asks of the rail here is a refund and, for reconciliation, the payment's state."""

    code = PROVIDER
    currency = CURRENCY
    methods = ("stars",)

    def payment_create(self, *, payment, return_url: str, customer_email: str) -> ProviderPayment:
        raise ProviderError("Stars invoices are sent in the Telegram chat (/plans)")

    def payment_fetch(self, *, provider_payment_id: str) -> ProviderPayment:
        """Telegram has no call that reads one charge: a payment is paid once its
        successful_payment was applied, and refunded by the refunds the Bot API confirmed."""
        payment = Payment.objects.get(provider=PROVIDER, provider_payment_id=provider_payment_id)
        refunded = sum(
            Refund.objects.filter(payment=payment, status=Refund.Status.SUCCEEDED).values_list("amount", flat=True),
            Decimal(0),
        )
        return ProviderPayment(
            provider_payment_id=provider_payment_id,
            status=ProviderStatus.SUCCEEDED if payment.credited_at is not None else ProviderStatus.PENDING,
            amount=payment.amount,
            currency=payment.currency,
            refunded_amount=min(refunded, payment.amount),
            method_title="Telegram Stars",
        )

    def refund_create(self, *, payment, amount: Decimal, idempotence_key: str) -> str:
        if Decimal(amount) != payment.amount:
            raise ProviderError("Telegram Stars refunds only a whole payment: refund all of it.")
        # aiogram when it is used (telegram_bot.sending says why not at import)
        from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

        user_id, charge_id = _charge_of(payment)
        try:
            asyncio.run(_refund(user_id, charge_id))
        except TelegramBadRequest as exc:
            if "CHARGE_ALREADY_REFUNDED" not in exc.message:
                raise ProviderError(f"Telegram refused the refund: {exc.message}") from exc
            # Refunded by an earlier call whose answer we did not record: the same refund.
            logger.info("telegram stars: charge %s was refunded already", charge_id)
        except TelegramAPIError as exc:  # network errors included
            raise ProviderError(f"Telegram did not answer the refund: {exc}") from exc
        logger.info("telegram stars: charge %s of payment %s refunded (key %s)", charge_id, payment.pk, idempotence_key)
        return charge_id

    def callback_parse(self, *, body: bytes, headers: dict, remote_addr: str | None):
        raise CallbackRejected("Telegram Stars updates arrive through the bot, not a billing callback")
