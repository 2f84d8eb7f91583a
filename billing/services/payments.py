"""Payments: checkout (the Payment row is written before the provider is called), the webhook
inbox (each provider event stored once, processed at most once under a row lock), applying the
provider's CONFIRMED state to a payment (credit once, revoke on refund/chargeback), refunds and
the reconciliation that repairs whatever a crash or a lost callback left behind."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing import selectors
from billing.models import Payment, Plan, ProviderEvent, Refund, RejectedCallback, Subscription
from billing.providers import CallbackRejected, ProviderError, ProviderPayment, provider_for
from billing.providers.base import ProviderStatus
from billing.services.payouts import instrument_fingerprint
from billing.services.subscriptions import (
    CENT,
    prorate,
    subscription_credit_payment,
    subscription_locked,
    subscription_refund_part,
    subscription_revoke_payment,
)
from config.errors import ConflictError, DomainError
from referrals.services import (
    referral_first_payment_discount,
    referral_payment_reversed,
    referral_payment_succeeded,
)

logger = logging.getLogger("billing")
RECONCILE_DAYS = 35  # pending and credited payments this recent are compared with the provider
S = Subscription.Status


def _currency(provider: str) -> str:
    return "RUB" if provider == "yookassa" else "USDT"


def checkout_quote(*, user, plan: Plan, provider: str, now=None) -> dict:
    """What paying for `plan` through `provider` costs now: a new period, a renewal, or a
    prorated upgrade for the rest of the current period (minus downgrade credit)."""
    now = now or timezone.now()
    currency = _currency(provider)
    price = plan.price_rub if currency == "RUB" else plan.price_usdt
    sub = selectors.subscription_of(user=user)
    purpose, amount, days = Payment.Purpose.SUBSCRIPTION, price, plan.period_days
    active_paid = (
        sub is not None
        and sub.status == S.ACTIVE
        and sub.plan.kind != Plan.Kind.FREE
        and sub.period_end is not None
        and sub.period_end > now
    )
    if active_paid and sub is not None and sub.plan_id != plan.pk:
        assert sub.period_end is not None  # active_paid checked it
        current = sub.plan.price_rub if currency == "RUB" else sub.plan.price_usdt
        if price <= current:
            raise ConflictError(
                "That plan is not more expensive than yours: switch to it as a downgrade.", code="billing_use_downgrade"
            )
        purpose, days = Payment.Purpose.UPGRADE, 0
        amount = prorate(
            amount=price - current, remaining=sub.period_end - now, period=timedelta(days=sub.plan.period_days)
        )
    credit = Decimal(0)
    if sub is not None:
        credit = min(amount, sub.credit_rub if currency == "RUB" else sub.credit_usdt)
    discount = referral_first_payment_discount(user=user, amount=amount - credit)  # a referred user's first payment
    return {
        "purpose": purpose,
        "currency": currency,
        "price": price,
        "credit": credit,
        "discount": discount,
        "amount": amount - credit - discount,
        "period_days": days,
    }


def checkout_create(
    *, user, plan_code: str, provider: str, method: str = "", return_base: str = "", now=None
) -> Payment:
    """Start paying for a plan: write the Payment (with its idempotence key), then ask the
    provider for a payment page. A provider outage leaves a NEW payment that reconciliation
    completes with the same key (never a second provider payment)."""
    now = now or timezone.now()
    plan = Plan.objects.filter(code=plan_code, is_public=True).first()
    if plan is None or plan.kind == Plan.Kind.FREE:
        raise DomainError("Choose a paid plan.", code="billing_bad_plan", fields={"plan": ["Unknown plan."]})
    if provider not in settings.SETKA_BILLING_RAILS:
        raise DomainError("This payment method is not available.", code="billing_bad_provider")
    adapter = provider_for(provider)
    method = method or adapter.methods[0]
    if method not in adapter.methods:
        raise DomainError("This payment method is not available.", code="billing_bad_method")
    quote = checkout_quote(user=user, plan=plan, provider=provider, now=now)
    if plan.kind == Plan.Kind.PROFIT_SHARE and quote["price"] == 0:
        raise DomainError("This plan is paid from profit; switch to it without a payment.", code="billing_bad_plan")
    with transaction.atomic():
        payment = Payment.objects.create(
            user=user,
            plan=plan,
            provider=provider,
            method=method,
            purpose=quote["purpose"],
            amount=quote["amount"],
            currency=quote["currency"],
            credit_applied=quote["credit"],
            period_days=quote["period_days"],
            seller=settings.SETKA_BILLING_SELLERS.get(provider, ""),
            note=f"referral discount {quote['discount']}" if quote["discount"] else "",
        )
        if provider == "yookassa":
            from billing.providers.yookassa import receipt_for

            payment.receipt = receipt_for(payment=payment, customer_email=user.email)
            payment.save(update_fields=["receipt"])
    if payment.amount == 0:  # fully covered by credit
        with transaction.atomic():
            sub = subscription_locked(user=user)
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            locked.status, locked.credited_at = Payment.Status.SUCCEEDED, now
            locked.save(update_fields=["status", "credited_at", "updated_at"])
            subscription_credit_payment(sub=sub, payment=locked, now=now)
        return locked
    return payment_send(payment=payment, return_base=return_base)


def _return_url(payment: Payment, return_base: str = "") -> str:
    base = settings.SETKA_BILLING_PUBLIC_URL or return_base or "http://127.0.0.1:8000"
    return f"{base.rstrip('/')}/billing?payment={payment.pk}"


def payment_send(*, payment: Payment, return_base: str = "") -> Payment:
    """Create the provider's payment for a NEW Payment (idempotent: same key, same payment)."""
    adapter = provider_for(payment.provider)
    try:
        remote = adapter.payment_create(
            payment=payment, return_url=_return_url(payment, return_base), customer_email=payment.user.email
        )
    except ProviderError as exc:
        logger.warning("billing: payment %s could not be created at %s: %s", payment.pk, payment.provider, exc)
        raise DomainError(
            "The payment service is not answering; try again in a minute.",
            code="billing_provider_unavailable",
            status_code=503,
        ) from exc
    Payment.objects.filter(pk=payment.pk, status=Payment.Status.NEW).update(
        provider_payment_id=remote.provider_payment_id,
        confirmation_url=remote.confirmation_url,
        status=Payment.Status.PENDING,
        updated_at=timezone.now(),
    )
    payment.refresh_from_db()
    return payment


def payment_apply(*, payment_id: int, remote: ProviderPayment, now=None) -> str:
    """Bring one payment in line with the provider's confirmed state. Returns the outcome
    (ProviderEvent.Outcome). Credits at most once; takes the plan back on refund/chargeback."""
    now = now or timezone.now()
    with transaction.atomic():
        user_id = Payment.objects.values_list("user_id", flat=True).get(pk=payment_id)
        from accounts.models import User

        sub = subscription_locked(user=User.objects.get(pk=user_id))  # lock order: subscription, then payment
        payment = Payment.objects.select_for_update().select_related("plan", "user").get(pk=payment_id)
        payment.last_checked_at = now
        if remote.amount != payment.amount or remote.currency != payment.currency:
            if payment.status != Payment.Status.MISMATCH and payment.credited_at is None:
                payment.status = Payment.Status.MISMATCH
                payment.note = f"provider says {remote.amount} {remote.currency}"[:300]
            payment.save()
            logger.warning(
                "billing: payment %s amount/currency mismatch: ours %s %s, %s says %s %s",
                payment.pk,
                payment.amount,
                payment.currency,
                payment.provider,
                remote.amount,
                remote.currency,
            )
            return ProviderEvent.Outcome.MISMATCH
        if (
            remote.refunded_amount > payment.refunded_amount
            and payment.credited_at is not None
            and payment.revoked_at is None
        ):
            # The provider's refunded total only grows: what is new in it is applied once, however
            # many callbacks or reconciliations report it.
            before = payment.refunded_amount
            payment.refunded_amount = min(remote.refunded_amount, payment.amount)
            if payment.refunded_amount < payment.amount:  # a part: the same share of the period back
                payment.save()
                subscription_refund_part(sub=sub, payment=payment, amount=payment.refunded_amount - before, now=now)
                logger.info(
                    "billing: payment %s partly refunded (%s of %s)",
                    payment.pk,
                    payment.refunded_amount,
                    payment.amount,
                )
                return ProviderEvent.Outcome.APPLIED
            payment.status = Payment.Status.REFUNDED
            payment.revoked_at = now
            payment.save()
            subscription_revoke_payment(sub=sub, payment=payment, now=now, already_refunded=before)
            if payment.purpose != Payment.Purpose.POOL_FEE:  # a pool fee is the manager's, not our revenue
                referral_payment_reversed(payment=payment, now=now)  # the referrers' shares go back too
            logger.info("billing: payment %s refunded (%s), plan taken back", payment.pk, remote.refunded_amount)
            return ProviderEvent.Outcome.APPLIED
        if remote.status == ProviderStatus.SUCCEEDED and payment.credited_at is None and payment.revoked_at is None:
            if payment.status == Payment.Status.MISMATCH:
                payment.save()
                return ProviderEvent.Outcome.MISMATCH
            payment.status = Payment.Status.SUCCEEDED
            payment.credited_at = now
            payment.paid_method_title = remote.method_title[:120]
            payment.instrument_fingerprint = instrument_fingerprint(remote.instrument)
            payment.save()
            subscription_credit_payment(sub=sub, payment=payment, now=now)
            if payment.purpose != Payment.Purpose.POOL_FEE:  # a pool fee is the manager's, not our revenue
                referral_payment_succeeded(payment=payment, now=now)  # the referrers' shares of real revenue
            logger.info("billing: payment %s credited (%s %s)", payment.pk, payment.amount, payment.currency)
            return ProviderEvent.Outcome.APPLIED
        if (
            remote.status == ProviderStatus.CANCELED
            and payment.credited_at is None
            and payment.status in (Payment.Status.NEW, Payment.Status.PENDING)
        ):
            payment.status = Payment.Status.CANCELED
            payment.save()
            return ProviderEvent.Outcome.APPLIED
        payment.save(update_fields=["last_checked_at", "updated_at"])
        return ProviderEvent.Outcome.NOOP


def _log_rejected(*, provider: str, reason: str, remote_addr, body: bytes) -> None:
    RejectedCallback.objects.create(
        provider=provider, reason=reason, remote_addr=remote_addr, body_excerpt=body[:2000].decode("utf-8", "replace")
    )
    logger.warning("billing: %s callback rejected (%s) from %s", provider, reason, remote_addr)


def webhook_receive(*, provider: str, body: bytes, headers, remote_addr: str | None) -> tuple[int, str]:
    """Authenticate, store once, process. Returns (HTTP status, outcome) for the view."""
    try:
        adapter = provider_for(provider)
    except KeyError:
        return 404, "unknown_provider"
    try:
        event = adapter.callback_parse(body=body, headers=headers, remote_addr=remote_addr)
    except CallbackRejected as exc:
        _log_rejected(provider=provider, reason=exc.reason, remote_addr=remote_addr, body=body)
        return (403 if exc.reason in ("address_not_allowed", "bad_signature") else 400), exc.reason
    try:
        with transaction.atomic():
            row = ProviderEvent.objects.create(
                provider=provider,
                event_id=event.event_id,
                event_type=event.event_type,
                provider_payment_id=event.provider_payment_id,
                payload=event.payload,
                remote_addr=remote_addr,
            )
    except IntegrityError:
        ProviderEvent.objects.filter(provider=provider, event_id=event.event_id).update(deliveries=F("deliveries") + 1)
        row = ProviderEvent.objects.get(provider=provider, event_id=event.event_id)
        if row.processed_at is not None:
            logger.info("billing: duplicate %s event %s ignored", provider, event.event_id)
            return 200, "duplicate"
        # Stored earlier but not processed (a crash, or another worker right now): process it;
        # the row lock lets only one of us apply it.
    try:
        outcome, mine = _event_process(event_pk=row.pk)
    except ProviderError as exc:  # stored: reconciliation processes it later
        logger.warning("billing: %s event %s stored, provider unreachable: %s", provider, event.event_id, exc)
        return 200, "stored"
    if not mine:  # another delivery applied it first (even when this one stored the row)
        logger.info("billing: duplicate %s event %s ignored", provider, event.event_id)
        return 200, "duplicate"
    return 200, outcome


def event_process(*, event_pk: int, now=None) -> str:
    """Process one inbox event at most once: fetch the payment from the provider (never trust the
    callback body), then apply under the rows' locks and mark the event processed."""
    return _event_process(event_pk=event_pk, now=now)[0]


def _event_process(*, event_pk: int, now=None) -> tuple[str, bool]:
    """(outcome, processed by this call)."""
    now = now or timezone.now()
    event = ProviderEvent.objects.get(pk=event_pk)
    if event.processed_at is not None:
        return event.outcome, False
    if event.event_type.startswith("payout."):
        return _payout_event_process(event=event, now=now)
    payment = Payment.objects.filter(provider=event.provider, provider_payment_id=event.provider_payment_id).first()
    remote = None
    if payment is not None:
        remote = provider_for(event.provider).payment_fetch(provider_payment_id=event.provider_payment_id)
    with transaction.atomic():
        locked = ProviderEvent.objects.select_for_update().get(pk=event_pk)
        if locked.processed_at is not None:
            return locked.outcome, False
        outcome: str
        if payment is None:
            outcome, note = ProviderEvent.Outcome.UNKNOWN, "no payment with this provider id"
            logger.warning(
                "billing: %s event %s for unknown payment %s", event.provider, event.event_id, event.provider_payment_id
            )
        else:
            assert remote is not None  # fetched above for every known payment
            outcome = payment_apply(payment_id=payment.pk, remote=remote, now=now)
            note = f"provider status {remote.status}, refunded {remote.refunded_amount}"
        locked.processed_at, locked.outcome, locked.note = now, outcome, note[:300]
        locked.save(update_fields=["processed_at", "outcome", "note"])
    return outcome, True


def _payout_event_process(*, event: ProviderEvent, now) -> tuple[str, bool]:
    """A payout callback (YooKassa's payout.succeeded / payout.canceled): the payout is fetched by
    id and applied (billing.services.payouts), then the event is marked processed once."""
    from billing.services.payouts import payout_event

    status = payout_event(rail=event.provider, provider_payout_id=event.provider_payment_id, now=now)
    with transaction.atomic():
        locked = ProviderEvent.objects.select_for_update().get(pk=event.pk)
        if locked.processed_at is not None:
            return locked.outcome, False
        if status is None:
            outcome, note = ProviderEvent.Outcome.UNKNOWN, "no payout with this provider id"
        else:
            outcome, note = ProviderEvent.Outcome.APPLIED, f"payout {status}"
        locked.processed_at, locked.outcome, locked.note = now, outcome, note
        locked.save(update_fields=["processed_at", "outcome", "note"])
    return outcome, True


def payment_refresh(*, payment: Payment, now=None) -> str:
    assert payment.provider_payment_id is not None  # every caller refreshes only payments already sent
    remote = provider_for(payment.provider).payment_fetch(provider_payment_id=payment.provider_payment_id)
    return payment_apply(payment_id=payment.pk, remote=remote, now=now)


def payment_refund(
    *,
    payment: Payment,
    amount: Decimal | None = None,
    actor=None,
    provider_call: bool = True,
    note: str = "",
    key: uuid.UUID | str | None = None,
    now=None,
) -> Payment:
    """An operator refunds a credited payment, all of it (amount None) or a part: through the
    provider when it has a refunds API (YooKassa), otherwise recorded after a manual transfer
    (Crypto Pay). A Refund row is written first; `key` (the admin form's) makes a resubmitted
    form return that refund instead of refunding again. What it takes back (the plan, or the
    same share of the period) is applied from the provider's confirmed refunded total."""
    now = now or timezone.now()
    payment = Payment.objects.select_related("plan", "user").get(pk=payment.pk)
    if key is not None:
        earlier = Refund.objects.filter(idempotence_key=key).first()
        if earlier is not None:
            if earlier.payment_id != payment.pk:
                raise ConflictError("This refund form was used for another payment.", code="billing_not_refundable")
            return _refund_send(refund=earlier, payment=payment, provider_call=provider_call, now=now)
    if payment.credited_at is None or payment.revoked_at is not None:
        raise ConflictError("Only a credited, not yet refunded payment can be refunded.", code="billing_not_refundable")
    asked = Refund.objects.filter(payment=payment).exclude(status=Refund.Status.FAILED).aggregate(s=Sum("amount"))["s"]
    remaining = payment.amount - max(payment.refunded_amount, asked or Decimal(0))
    amount = remaining if amount is None else Decimal(amount)
    if not amount.is_finite() or amount <= 0 or amount > remaining or amount != amount.quantize(CENT):
        raise DomainError(
            f"The refund must be between 0.01 and {remaining:.2f} {payment.currency}.",
            code="billing_refund_amount",
            fields={"amount": [f"0.01 – {remaining:.2f} {payment.currency}"]},
        )
    with transaction.atomic():
        refund = Refund.objects.create(
            payment=payment, amount=amount, actor=actor, note=note[:300], **({"idempotence_key": key} if key else {})
        )
    return _refund_send(refund=refund, payment=payment, provider_call=provider_call, now=now)


def _refund_send(*, refund: Refund, payment: Payment, provider_call: bool, now) -> Payment:
    if refund.status == Refund.Status.NEW:
        if provider_call:
            refund_id = provider_for(payment.provider).refund_create(
                payment=payment, amount=refund.amount, idempotence_key=str(refund.idempotence_key)
            )  # ProviderError leaves the refund NEW: the same form (same key) tries again
            Refund.objects.filter(pk=refund.pk, status=Refund.Status.NEW).update(
                provider_refund_id=refund_id[:64], status=Refund.Status.SUCCEEDED, updated_at=now
            )
            payment_refresh(payment=payment, now=now)
        else:
            with transaction.atomic():
                if Refund.objects.filter(pk=refund.pk, status=Refund.Status.NEW).update(
                    status=Refund.Status.RECORDED, updated_at=now
                ):
                    recorded = Refund.objects.filter(payment=payment, status=Refund.Status.RECORDED).aggregate(
                        s=Sum("amount")
                    )["s"]
                    payment_apply(
                        payment_id=payment.pk,
                        remote=ProviderPayment(
                            provider_payment_id=payment.provider_payment_id or "",
                            status=ProviderStatus.SUCCEEDED,
                            amount=payment.amount,
                            currency=payment.currency,
                            refunded_amount=min(payment.amount, recorded or Decimal(0)),
                        ),
                        now=now,
                    )
        logger.info("billing: %s of payment %s refunded by %s", refund.amount, payment.pk, refund.actor_id)
    payment.refresh_from_db()
    return payment


def payments_reconcile(*, now=None, limit: int = 200) -> dict:
    """The periodic safety net: finish inbox events left unprocessed, create provider payments
    for NEW rows (same idempotence key), and compare pending and recently credited payments
    with the provider (lost callbacks, crashes between "paid" and "plan granted", refunds and
    chargebacks nobody told us about)."""
    now = now or timezone.now()
    counts = {"events": 0, "sent": 0, "checked": 0, "changed": 0, "errors": 0}
    for pk in (
        ProviderEvent.objects.filter(processed_at__isnull=True).order_by("id").values_list("pk", flat=True)[:limit]
    ):
        try:
            event_process(event_pk=pk, now=now)
            counts["events"] += 1
        except ProviderError:
            counts["errors"] += 1
    stale = now - timedelta(minutes=1)
    for payment in Payment.objects.filter(
        status=Payment.Status.NEW, created_at__lte=stale, created_at__gte=now - timedelta(days=1)
    ).select_related("user", "plan")[:limit]:
        try:
            payment_send(payment=payment)
            counts["sent"] += 1
        except DomainError:
            counts["errors"] += 1
    recent = now - timedelta(days=RECONCILE_DAYS)
    open_or_recent = Payment.objects.filter(provider_payment_id__isnull=False, created_at__gte=recent).filter(
        status__in=[Payment.Status.PENDING, Payment.Status.SUCCEEDED]
    )
    for payment in open_or_recent.order_by("last_checked_at", "id")[:limit]:
        try:
            outcome = payment_refresh(payment=payment, now=now)
        except ProviderError:
            counts["errors"] += 1
            continue
        counts["checked"] += 1
        if outcome == ProviderEvent.Outcome.APPLIED:
            counts["changed"] += 1
            logger.warning("billing: reconciliation repaired payment %s", payment.pk)
    return counts
