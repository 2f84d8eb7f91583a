"""Rewards from real revenue: a share of every payment a referred user makes (level 1 to their
referrer, level 2 to the referrer's referrer; never deeper), accrued in the ledger, available
after the refund window, reversed exactly on a refund or chargeback (an available amount too:
the balance may go negative and is netted against later rewards). Billing calls
`referral_payment_succeeded` and `referral_payment_reversed` from `payment_apply` inside its
transaction; both are idempotent (a reward is unique per payment and level, a ledger entry per
key), so a redelivered or reconciled event never pays twice."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from referrals.models import Attribution, LedgerEntry, Partner, Reward
from referrals.services.ledger import ledger_post

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
SAME_INSTRUMENT = "same_instrument"
PAYABLE = (Attribution.Status.OK, Attribution.Status.APPROVED)


def reward_amount(*, base: Decimal, rate: Decimal) -> Decimal:
    """rate x base, rounded DOWN to the cent (never more than the share)."""
    return (Decimal(base) * Decimal(rate)).quantize(CENT, ROUND_DOWN)


def _reward_create(*, payment, partner: Partner, attribution, via, level: int, rate: Decimal, now) -> Reward | None:
    amount = reward_amount(base=payment.amount, rate=rate)
    if amount <= 0:
        return None
    try:
        with transaction.atomic():
            reward = Reward.objects.create(
                payment=payment,
                partner=partner,
                attribution=attribution,
                via=via,
                level=level,
                rate=rate,
                base=payment.amount,
                amount=amount,
                currency=payment.currency,
                matures_at=now + timedelta(days=settings.SETKA_REFERRAL_HOLD_DAYS),
            )
    except IntegrityError:
        return None  # this payment's reward at this level exists already
    ledger_post(
        key=f"reward:{reward.pk}:accrue",
        kind="accrue",
        currency=reward.currency,
        reward=reward,
        memo=f"L{level} {rate} of payment {payment.pk}",
        lines=[(None, "expense", -amount), (partner, "accrued", amount)],
    )
    return reward


def _hold(reward: Reward, *, why: str) -> None:
    """An available reward goes back to "accrued" while an operator reviews its attribution
    (caller holds the reward's lock); it matures again only if the operator approves."""
    n = LedgerEntry.objects.filter(reward=reward, kind="hold").count() + 1
    ledger_post(
        key=f"reward:{reward.pk}:hold:{n}",
        kind="hold",
        currency=reward.currency,
        reward=reward,
        memo=why,
        lines=[(reward.partner, "available", -reward.amount), (reward.partner, "accrued", reward.amount)],
    )
    reward.status = Reward.Status.ACCRUED
    reward.save(update_fields=["status"])


def _flag_for_instrument(attribution: Attribution) -> bool:
    """Flag an attribution whose referred user paid with a referrer's card (or a referrer with a
    referred user's): its rewards, at both levels, are held until an operator decides."""
    locked = Attribution.objects.select_for_update().get(pk=attribution.pk)
    if locked.status == Attribution.Status.REJECTED:
        return False
    if locked.status == Attribution.Status.APPROVED and SAME_INSTRUMENT in locked.flags:
        return False  # an operator has seen this very match and cleared it
    if locked.status == Attribution.Status.FLAGGED and SAME_INSTRUMENT in locked.flags:
        return False
    locked.status = Attribution.Status.FLAGGED
    locked.flags = [*locked.flags, SAME_INSTRUMENT] if SAME_INSTRUMENT not in locked.flags else locked.flags
    locked.save(update_fields=["status", "flags"])
    rewards = Reward.objects.select_for_update().select_related("partner")
    for reward in rewards.filter(Q(attribution=locked) | Q(via=locked), status=Reward.Status.AVAILABLE):
        _hold(reward, why=f"attribution {locked.pk}: same payment instrument")
    logger.warning("referrals: attribution %s flagged: the same payment instrument as a referrer", locked.pk)
    return True


def referral_instrument_check(*, payment) -> list[Attribution]:
    """Compare the instrument `payment` was paid with (billing's keyed fingerprint) with those of
    the payer's referrers (levels 1 and 2) and of the users the payer referred (levels 1 and 2).
    A match flags the attribution between them for review. Returns the attributions flagged."""
    from billing.models import Payment

    fingerprint = payment.instrument_fingerprint
    if not fingerprint:
        return []
    paid_with = Payment.objects.filter(instrument_fingerprint=fingerprint, credited_at__isnull=False)
    suspects: list[Attribution] = []
    first = Attribution.objects.filter(user_id=payment.user_id).first()
    if first is not None:
        uplines = [first.referrer_id]
        second = Attribution.objects.filter(user_id=first.referrer_id).first()
        if second is not None:
            uplines.append(second.referrer_id)
        if paid_with.filter(user_id__in=uplines).exists():
            suspects.append(first)
    referred = list(Attribution.objects.filter(referrer_id=payment.user_id))
    referred += list(Attribution.objects.filter(referrer_id__in=[a.user_id for a in referred]))
    suspects += [a for a in referred if paid_with.filter(user_id=a.user_id).exists()]
    return [a for a in suspects if _flag_for_instrument(a)]


def referral_payment_succeeded(*, payment, now=None) -> list[Reward]:
    """Billing credited `payment`: check its instrument against the referrers' and the referred
    users' (a match holds the rewards for review), then accrue the referrers' shares (once)."""
    now = now or timezone.now()
    if payment.amount <= 0:
        return []
    with transaction.atomic():
        referral_instrument_check(payment=payment)
    first = Attribution.objects.filter(user_id=payment.user_id).first()
    if first is None or first.status == Attribution.Status.REJECTED:
        return []
    created = []
    with transaction.atomic():
        partner1 = Partner.objects.select_related("tier").filter(user_id=first.referrer_id).first()
        if partner1 is None:
            return []
        reward = _reward_create(
            payment=payment,
            partner=partner1,
            attribution=first,
            via=None,
            level=1,
            rate=partner1.tier.level1_rate,
            now=now,
        )
        if reward:
            created.append(reward)
        second = Attribution.objects.filter(user_id=first.referrer_id).first()
        if second is not None and second.status != Attribution.Status.REJECTED:
            partner2 = Partner.objects.select_related("tier").filter(user_id=second.referrer_id).first()
            if partner2 is not None and partner2.tier.level2_rate > 0:
                reward = _reward_create(
                    payment=payment,
                    partner=partner2,
                    attribution=first,
                    via=second,
                    level=2,
                    rate=partner2.tier.level2_rate,
                    now=now,
                )
                if reward:
                    created.append(reward)
    return created


def _reverse(reward: Reward, *, why: str) -> bool:
    """Take a reward back exactly from where it is now (caller holds the reward's lock)."""
    if reward.status == Reward.Status.REVERSED:
        return False
    where = "accrued" if reward.status == Reward.Status.ACCRUED else "available"
    ledger_post(
        key=f"reward:{reward.pk}:reverse",
        kind="reverse",
        currency=reward.currency,
        reward=reward,
        memo=why,
        lines=[(reward.partner, where, -reward.amount), (None, "reversed", reward.amount)],
    )
    reward.status = Reward.Status.REVERSED
    reward.save(update_fields=["status"])
    return True


def referral_payment_reversed(*, payment, now=None) -> int:
    """Billing took `payment` back (refund or chargeback): reverse every reward it paid."""
    count = 0
    with transaction.atomic():
        for reward in Reward.objects.select_for_update().select_related("partner").filter(payment_id=payment.pk):
            count += _reverse(reward, why=f"payment {payment.pk} refunded")
    return count


def _payable(reward: Reward) -> bool:
    if reward.attribution.status not in PAYABLE:
        return False
    return reward.via is None or reward.via.status in PAYABLE


def rewards_mature(*, now=None, limit: int = 1000) -> int:
    """Rewards past the refund window become available (those of flagged attributions wait for
    an operator). Run periodically; idempotent."""
    now = now or timezone.now()
    done = 0
    due = Reward.objects.filter(status=Reward.Status.ACCRUED, matures_at__lte=now).values_list("pk", flat=True)
    for pk in list(due[:limit]):
        with transaction.atomic():
            reward = (
                Reward.objects.select_for_update(of=("self",))
                .select_related("partner", "attribution", "via", "payment")
                .get(pk=pk)
            )
            if reward.status != Reward.Status.ACCRUED or not _payable(reward):
                continue
            if reward.payment.revoked_at is not None:  # billing's hook missed? never pay it
                _reverse(reward, why=f"payment {reward.payment_id} revoked")
                continue
            again = LedgerEntry.objects.filter(reward=reward, kind="mature").count()
            ledger_post(
                key=f"reward:{reward.pk}:mature" + (f":{again + 1}" if again else ""),
                kind="mature",
                currency=reward.currency,
                reward=reward,
                memo="refund window over",
                lines=[(reward.partner, "accrued", -reward.amount), (reward.partner, "available", reward.amount)],
            )
            reward.status = Reward.Status.AVAILABLE
            reward.save(update_fields=["status"])
            done += 1
    return done


def attribution_review(*, attribution: Attribution, approve: bool, actor, now=None) -> Attribution:
    """An operator decides a flagged attribution: approved rewards mature as usual; a rejected
    attribution earns nothing and everything it earned is reversed."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Attribution.objects.select_for_update().get(pk=attribution.pk)
        locked.status = Attribution.Status.APPROVED if approve else Attribution.Status.REJECTED
        locked.reviewed_by, locked.reviewed_at = actor, now
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        if not approve:
            rewards = Reward.objects.select_for_update().select_related("partner")
            for reward in rewards.filter(Q(attribution=locked) | Q(via=locked)):
                _reverse(reward, why=f"attribution {locked.pk} rejected")
    if approve:
        rewards_mature(now=now)
    return locked


def referral_first_payment_discount(*, user, amount: Decimal) -> Decimal:
    """The referred user's discount on their first payment (billing's checkout subtracts it)."""
    from billing.models import Payment

    if amount <= 0:
        return Decimal("0.00")
    attribution = Attribution.objects.filter(user=user).exclude(status=Attribution.Status.REJECTED).first()
    if attribution is None or Payment.objects.filter(user=user, credited_at__isnull=False).exists():
        return Decimal("0.00")
    partner = Partner.objects.select_related("tier").filter(user_id=attribution.referrer_id).first()
    if partner is None:
        return Decimal("0.00")
    return reward_amount(base=amount, rate=partner.tier.referee_discount_rate)
