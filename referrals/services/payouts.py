"""Paying partners what is available: at once as credit towards their own plan (billing spends
it on their next payment), or a payout request an operator approves in admin; approval sends it
through billing's payout port (YooKassa payouts to a card or wallet, Crypto Pay transfers to a
Telegram user), exactly once. The amount leaves "available" for "pending" when requested (no
double requests); it moves to "paid" when the provider confirms the payout, and back to
"available" when an operator rejects the request or the provider cancels the payout."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.destinations import BadDestination, destination_seal
from config.errors import ConflictError, DomainError
from referrals import selectors
from referrals.models import Partner, Payout
from referrals.services.ledger import CENT, ledger_post

RAIL_CURRENCY = {"yookassa": "RUB", "cryptopay": "USDT"}


def payout_minimum(partner: Partner, currency: str, rail: str) -> Decimal:
    """The tier's minimum, never below the rail's (settings.SETKA_PAYOUT_MINIMUMS)."""
    tier = partner.tier.min_payout_rub if currency == "RUB" else partner.tier.min_payout_usdt
    return max(tier, Decimal(settings.SETKA_PAYOUT_MINIMUMS.get(rail, {}).get(currency, 0)))


def _sealed(*, rail: str, destination: str) -> tuple[str, str]:
    try:
        return destination_seal(rail=rail, raw=destination)
    except BadDestination as exc:
        message = {
            "card_checksum": _("This card number has a typo (its check digit does not match)."),
            "card_format": _("Enter a bank card number (16 to 19 digits) or a YooMoney wallet (41001...)."),
            "telegram_format": _("Enter your Telegram user id (digits only)."),
        }.get(str(exc), _("This payout method is not available."))
        raise DomainError(message, code="invalid", fields={"destination": [message]}) from exc


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
            minimum = payout_minimum(partner, currency, rail)
            if amount < minimum:
                raise ConflictError(
                    _("The minimum payout is %(amount)s %(currency)s.") % {"amount": minimum, "currency": currency},
                    code="referral_below_minimum",
                )
            sealed, masked = _sealed(rail=rail, destination=destination)
        else:
            sealed, masked = "", ""
        payout = Payout.objects.create(
            partner=partner,
            kind=kind,
            rail=rail if kind == Payout.Kind.TRANSFER else "",
            destination=masked,
            destination_sealed=sealed,
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


PAYOUT_PREFIX = "referral_payout:"


def payout_decide(*, payout: Payout, approve: bool, actor, note: str = "", now=None) -> Payout:
    """An operator approves a transfer (billing sends it by the rail; it is paid when the
    provider confirms) or rejects the request (money back to available)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Payout.objects.select_for_update().select_related("partner").get(pk=payout.pk)
        if locked.status != Payout.Status.REQUESTED:
            raise ConflictError("This payout has been decided already.", code="referral_payout_decided")
        if approve and locked.destination_sealed:
            from billing.services.payouts import payout_create  # billing.services imports ours: a cycle at load

            # Written before the provider is called; sent after commit, exactly once by its key.
            remote = payout_create(
                owner_key=f"{PAYOUT_PREFIX}{locked.pk}",
                rail=locked.rail,
                amount=locked.amount,
                currency=locked.currency,
                sealed_destination=locked.destination_sealed,
            )
            locked.status, locked.provider_payout_id = Payout.Status.SENDING, remote.pk
            locked.decided_by, locked.decided_at, locked.note = actor, now, note[:300]
            locked.save(update_fields=["status", "provider_payout_id", "decided_by", "decided_at", "note"])
            return locked
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


def referral_payout_settled(*, key: str, status: str, reason: str = "") -> None:
    """billing's hook (SETKA_PAYOUT_LISTENERS): the provider paid the payout (succeeded: pending ->
    paid) or canceled it (pending -> available, the exact amount). Runs inside billing's
    settling transaction, once per payout; a repeat changes nothing."""
    payout_id = key.removeprefix(PAYOUT_PREFIX)
    if not payout_id.isdigit():
        return
    locked = Payout.objects.select_for_update().select_related("partner").filter(pk=int(payout_id)).first()
    if locked is None or locked.status != Payout.Status.SENDING:
        return
    paid = status == "succeeded"
    ledger_post(
        key=f"payout:{locked.pk}:{'paid' if paid else 'canceled'}",
        kind="payout",
        currency=locked.currency,
        memo="paid by the rail" if paid else f"the rail canceled it: {reason}"[:200],
        lines=[
            (locked.partner, "pending", -locked.amount),
            (locked.partner, "paid" if paid else "available", locked.amount),
        ],
    )
    locked.status = Payout.Status.PAID if paid else Payout.Status.FAILED
    if not paid:
        locked.note = f"canceled by the provider: {reason}"[:300]
    locked.save(update_fields=["status", "note"])
