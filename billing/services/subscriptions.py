"""Subscriptions as a state machine: trial, active, past due, grace (7 days), expired.

    (none) -> trial | active
    trial    -> active (paid) | expired (trial over)
    active   -> active (renewed, upgraded, comped) | past_due (period over) | expired (refund)
    past_due -> active (paid) | grace (after SETKA_BILLING_PAST_DUE_HOURS) | expired (refund)
    grace    -> active (paid) | expired (after SETKA_BILLING_GRACE_DAYS)
    expired  -> active (paid, comped) | trial (only if never trialled)

Expiry never cancels a live grid: bots beyond the free plan get a CycleHold (no new cycles,
orders kept) and the user is emailed. Time is an argument (`now`) everywhere."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import selectors
from billing.models import CycleHold, Payment, Plan, Subscription, SubscriptionEvent
from billing.services.notify import notify_user
from config.errors import ConflictError, DomainError

S = Subscription.Status
CENT = Decimal("0.01")
ALLOWED = {
    "": {S.TRIAL, S.ACTIVE},
    S.TRIAL: {S.ACTIVE, S.EXPIRED},
    S.ACTIVE: {S.ACTIVE, S.PAST_DUE, S.EXPIRED},
    S.PAST_DUE: {S.ACTIVE, S.GRACE, S.EXPIRED},
    S.GRACE: {S.ACTIVE, S.EXPIRED},
    S.EXPIRED: {S.ACTIVE, S.TRIAL, S.EXPIRED},
}


class TransitionError(Exception):
    """A transition the state machine does not allow: a bug in the caller, never user input."""


def prorate(*, amount: Decimal, remaining: timedelta, period: timedelta) -> Decimal:
    """amount x remaining / period, exact in Decimal (integer microseconds), to the cent
    (half up). 1500.00 x (17 d 6 h) / 30 d = 862.50."""
    if remaining <= timedelta(0) or amount == 0:
        return Decimal("0.00")
    remaining = min(remaining, period)
    micro = timedelta(microseconds=1)
    return (Decimal(amount) * Decimal(remaining // micro) / Decimal(period // micro)).quantize(CENT, ROUND_HALF_UP)


def _price(plan: Plan, currency: str) -> Decimal:
    return plan.price_rub if currency == "RUB" else plan.price_usdt


def subscription_locked(*, user) -> Subscription:
    """The user's subscription row under a lock (created on the free plan if missing)."""
    Subscription.objects.get_or_create(user=user, defaults={"plan": selectors.plan_free(), "status": S.ACTIVE})
    return Subscription.objects.select_for_update().select_related("plan").get(user=user)


def _move(sub: Subscription, *, to: str, reason: str, actor=None, payment=None, note: str = "", **fields):
    if to not in ALLOWED.get(sub.status, set()) and not (sub.status == to == S.EXPIRED):
        raise TransitionError(f"{sub.status} -> {to} ({reason})")
    from_status, from_plan = sub.status, sub.plan.code if sub.plan_id else ""
    sub.status = to
    for key, value in fields.items():
        setattr(sub, key, value)
    sub.save()
    SubscriptionEvent.objects.create(
        subscription=sub,
        from_status=from_status,
        to_status=to,
        from_plan=from_plan,
        to_plan=sub.plan.code,
        reason=reason,
        note=note[:300],
        actor=actor,
        payment=payment,
        period_end=sub.period_end,
    )
    return sub


def holds_sync(*, user) -> list:
    """Put a CycleHold on the live bots the plan in force does not cover (newest first to go)
    and lift it from the ones it covers. Returns the bots newly held."""
    plan = selectors.plan_effective(user=user)
    bots = list(selectors.live_bots(user=user).order_by("started_at", "id"))
    covered: set[int] = set()
    total = Decimal(0)
    for bot in bots:
        fits_count = plan.max_live_bots is None or len(covered) < plan.max_live_bots
        fits_money = plan.max_live_investment is None or total + bot.investment <= plan.max_live_investment
        if fits_count and fits_money:
            covered.add(bot.pk)
            total += bot.investment
    CycleHold.objects.filter(bot__user=user, bot_id__in=covered).delete()
    CycleHold.objects.filter(bot__user=user).exclude(bot_id__in=[b.pk for b in bots]).delete()
    newly = []
    for bot in bots:
        if bot.pk not in covered:
            _, created = CycleHold.objects.get_or_create(bot=bot, defaults={"reason": "plan_expired"})
            if created:
                newly.append(bot)
    return newly


def subscription_trial_start(*, user, plan: Plan, now=None) -> Subscription:
    now = now or timezone.now()
    if plan.trial_days <= 0:
        raise DomainError("This plan has no trial.", code="billing_no_trial")
    with transaction.atomic():
        sub = subscription_locked(user=user)
        if SubscriptionEvent.objects.filter(subscription=sub, to_status=S.TRIAL).exists():
            raise ConflictError("You have already used your trial.", code="billing_trial_used")
        if sub.status != S.EXPIRED and sub.plan.kind != Plan.Kind.FREE:
            raise ConflictError("You already have a plan.", code="billing_has_plan")
        if sub.plan.kind == Plan.Kind.FREE:  # the free plan's "active" row starts over as a trial
            sub.status = ""
        _move(
            sub,
            to=S.TRIAL,
            reason="trial",
            plan=plan,
            period_start=now,
            period_end=now + timedelta(days=plan.trial_days),
        )
        holds_sync(user=user)
    return sub


def renews_from_period_end(*, sub: Subscription | None, plan_id: int, days: timedelta, now) -> bool:
    """Whether paying `days` more of plan `plan_id` continues the current period (from its end)
    rather than starting a new one today: same plan, not expired, and the period end is recent
    enough that the new end is still ahead."""
    return (
        sub is not None
        and sub.plan_id == plan_id
        and sub.status in (S.ACTIVE, S.TRIAL, S.PAST_DUE, S.GRACE)
        and sub.period_end is not None
        and sub.period_end + days > now
    )


def subscription_credit_payment(*, sub: Subscription, payment: Payment, now) -> None:
    """Grant what a paid payment bought (caller holds the subscription's lock)."""
    if payment.purpose == Payment.Purpose.PROFIT_SHARE:  # a month's fee: the plan itself is unchanged
        from billing.models import ProfitShareMonth

        ProfitShareMonth.objects.filter(payment=payment).update(paid_at=now)
        return
    if payment.purpose == Payment.Purpose.POOL_FEE:  # a charge of another app: it is told, the plan is unchanged
        from billing.hooks import charge_settled

        charge_settled(payment=payment, paid_at=now)
        return
    days = timedelta(days=payment.period_days)
    credit_field = "credit_rub" if payment.currency == "RUB" else "credit_usdt"
    setattr(sub, credit_field, max(Decimal(0), getattr(sub, credit_field) - payment.credit_applied))
    if payment.purpose == Payment.Purpose.UPGRADE:
        if sub.status in (S.ACTIVE, S.TRIAL) and sub.period_end and sub.period_end > now:
            _move(sub, to=S.ACTIVE, reason="upgrade", payment=payment, plan=payment.plan, comped=False)
        else:  # the period ran out before the upgrade was paid: keep the money as credit
            setattr(sub, credit_field, getattr(sub, credit_field) + payment.amount)
            sub.save()
            return
    elif renews_from_period_end(sub=sub, plan_id=payment.plan_id, days=days, now=now):
        # The next period follows the current one, whenever it is paid: early, in the trial, or
        # late (past due, grace: those days were used). Nothing paid is lost, nothing is given twice.
        assert sub.period_end is not None  # checked by renews_from_period_end
        late = sub.status in (S.PAST_DUE, S.GRACE)
        _move(
            sub,
            to=S.ACTIVE,
            reason="renewal",
            payment=payment,
            period_start=sub.period_end if late or sub.status == S.TRIAL else sub.period_start,
            period_end=sub.period_end + days,
            grace_until=None,
            comped=False,
        )
    else:
        _move(
            sub,
            to=S.ACTIVE,
            reason="payment",
            payment=payment,
            plan=payment.plan,
            period_start=now,
            period_end=now + days,
            grace_until=None,
            comped=False,
        )
    holds_sync(user=sub.user)
    notify_user(
        user=sub.user,
        kind="activated",
        plan=sub.plan.name_ru if sub.user.language == "ru" else sub.plan.name_en,
        until=f"{sub.period_end:%Y-%m-%d}",
    )


def period_share(*, payment: Payment, money: Decimal) -> timedelta:
    """The part of a payment's period that `money` of it bought: period x money / amount, to the
    second (half up). 990.00 RUB for 30 days, 330.00 back = 10 days."""
    if payment.period_days <= 0 or payment.amount <= 0 or money <= 0:
        return timedelta(0)
    seconds = Decimal(payment.period_days * 86400) * min(Decimal(money), payment.amount) / payment.amount
    return timedelta(seconds=int(seconds.quantize(Decimal(1), ROUND_HALF_UP)))


def subscription_refund_part(*, sub: Subscription, payment: Payment, amount: Decimal, now) -> None:
    """Take back the refunded share of a period payment (caller holds the lock): the same share of
    its days, from the end of the period. A part of an upgrade or of a profit-share fee is money
    back only (the plan stays). Recorded in the subscription's history either way."""
    taken = period_share(payment=payment, money=amount) if payment.purpose == Payment.Purpose.SUBSCRIPTION else None
    note = f"{amount} {payment.currency} of payment #{payment.pk} refunded"
    if taken and sub.plan_id == payment.plan_id and sub.period_end and sub.status != S.EXPIRED:
        end = sub.period_end - taken
        if end > now and sub.status == S.ACTIVE:
            _move(sub, to=S.ACTIVE, reason="partial_refund", payment=payment, note=note, period_end=end)
        else:
            _move(
                sub,
                to=S.EXPIRED,
                reason="partial_refund",
                payment=payment,
                note=note,
                period_end=min(end, now),
                grace_until=None,
            )
        held = holds_sync(user=sub.user)
        if held:
            notify_user(user=sub.user, kind="expired", plan=_plan_name(sub), bots=", ".join(b.name for b in held))
    else:
        SubscriptionEvent.objects.create(
            subscription=sub,
            from_status=sub.status,
            to_status=sub.status,
            from_plan=sub.plan.code,
            to_plan=sub.plan.code,
            reason="partial_refund",
            note=f"{note}; plan unchanged"[:300],
            payment=payment,
            period_end=sub.period_end,
        )
    notify_user(
        user=sub.user,
        kind="partial_refund",
        dedupe=f"{payment.pk}:{payment.refunded_amount}",
        amount=f"{amount:.2f}",
        currency=payment.currency,
        plan=_plan_name(sub),
        until=f"{sub.period_end:%Y-%m-%d}" if sub.period_end and sub.status != S.EXPIRED else "—",
    )


def subscription_revoke_payment(
    *, sub: Subscription, payment: Payment, now, already_refunded: Decimal = Decimal(0)
) -> None:
    """Take back what a refunded (or charged-back) payment bought (caller holds the lock). Of a
    period payment partly refunded before, only the days not yet taken back are taken now."""
    if payment.purpose == Payment.Purpose.PROFIT_SHARE:
        from billing.models import ProfitShareMonth

        ProfitShareMonth.objects.filter(payment=payment).update(paid_at=None)
        return
    if payment.purpose == Payment.Purpose.POOL_FEE:
        from billing.hooks import charge_settled

        charge_settled(payment=payment, paid_at=None)
        return
    if payment.purpose == Payment.Purpose.UPGRADE:
        event = SubscriptionEvent.objects.filter(subscription=sub, payment=payment, reason="upgrade").first()
        if event and sub.plan.code == event.to_plan and event.from_plan:
            _move(
                sub,
                to=sub.status if sub.status in (S.ACTIVE,) else S.EXPIRED,
                reason="refund",
                payment=payment,
                plan=Plan.objects.get(code=event.from_plan),
            )
    else:
        left = timedelta(days=payment.period_days) - period_share(payment=payment, money=already_refunded)
        end = (sub.period_end or now) - left
        if sub.plan_id == payment.plan_id and end > now and sub.status == S.ACTIVE:
            _move(sub, to=S.ACTIVE, reason="refund", payment=payment, period_end=end)
        elif sub.plan_id == payment.plan_id and sub.status != S.EXPIRED:
            _move(sub, to=S.EXPIRED, reason="refund", payment=payment, period_end=min(end, now), grace_until=None)
    held = holds_sync(user=sub.user)
    notify_user(
        user=sub.user,
        kind="revoked",
        amount=f"{payment.amount:.2f}",
        currency=payment.currency,
        plan=payment.plan.name_ru if sub.user.language == "ru" else payment.plan.name_en,
    )
    if held:
        notify_user(user=sub.user, kind="expired", plan=payment.plan.name_en, bots=", ".join(b.name for b in held))


def _plan_name(sub: Subscription) -> str:
    return sub.plan.name_ru if sub.user.language == "ru" else sub.plan.name_en


def subscription_advance(*, user, now=None) -> Subscription:
    """Move a subscription along the clock (period over -> past due -> grace -> expired). Runs
    from the periodic job; catches up several steps after a long pause."""
    now = now or timezone.now()
    past_due_for = timedelta(hours=settings.SETKA_BILLING_PAST_DUE_HOURS)
    grace_for = timedelta(days=settings.SETKA_BILLING_GRACE_DAYS)
    with transaction.atomic():
        sub = subscription_locked(user=user)
        for _ in range(4):
            if sub.plan.kind == Plan.Kind.FREE or sub.period_end is None:
                break
            if sub.status == S.TRIAL and sub.period_end <= now:
                _move(sub, to=S.EXPIRED, reason="trial_over")
            elif sub.status == S.ACTIVE and sub.period_end <= now:
                _move(sub, to=S.PAST_DUE, reason="period_over")
                notify_user(user=user, kind="past_due", plan=_plan_name(sub), until=f"{sub.period_end:%Y-%m-%d}")
            elif sub.status == S.PAST_DUE and sub.period_end + past_due_for <= now:
                until = sub.period_end + past_due_for + grace_for
                _move(sub, to=S.GRACE, reason="unpaid", grace_until=until)
                notify_user(user=user, kind="grace", plan=_plan_name(sub), until=f"{until:%Y-%m-%d %H:%M} UTC")
            elif sub.status == S.GRACE and sub.grace_until and sub.grace_until <= now:
                _move(sub, to=S.EXPIRED, reason="grace_over")
            else:
                break
            if sub.status == S.EXPIRED:
                held = holds_sync(user=user)
                notify_user(
                    user=user, kind="expired", plan=_plan_name(sub), bots=", ".join(b.name for b in held) or "—"
                )
                break
    return sub


def subscriptions_remind_due(*, now=None) -> int:
    """Tell users whose paid plan (or trial) ends within SETKA_BILLING_REMIND_DAYS to pay for the
    next period: once per period end (the notification's dedupe key), however often this runs.
    Returns how many were told now."""
    now = now or timezone.now()
    ahead = timedelta(days=settings.SETKA_BILLING_REMIND_DAYS)
    due = Subscription.objects.filter(
        status__in=[S.ACTIVE, S.TRIAL],
        plan__kind=Plan.Kind.TIER,
        period_end__gt=now,
        period_end__lte=now + ahead,
    ).select_related("user", "plan")
    told = 0
    for sub in due:
        assert sub.period_end is not None  # filtered above
        if notify_user(
            user=sub.user,
            kind="renewal_due",
            dedupe=f"{sub.pk}:{sub.period_end:%Y%m%dT%H%M%S}",
            plan=_plan_name(sub),
            until=f"{sub.period_end:%Y-%m-%d}",
        ):
            told += 1
    return told


def subscriptions_advance_due(*, now=None) -> int:
    now = now or timezone.now()
    due = Subscription.objects.filter(
        status__in=[S.TRIAL, S.ACTIVE, S.PAST_DUE, S.GRACE], period_end__isnull=False
    ).filter(period_end__lte=now)
    moved = 0
    for sub in due.select_related("user"):
        before = sub.status
        if subscription_advance(user=sub.user, now=now).status != before:
            moved += 1
    return moved


def subscription_comp(*, user, plan: Plan, days: int, actor=None, note: str = "", now=None) -> Subscription:
    """An operator grants a plan for `days` without payment."""
    now = now or timezone.now()
    if days <= 0:
        raise DomainError("Days must be positive.", code="invalid")
    with transaction.atomic():
        sub = subscription_locked(user=user)
        _move(
            sub,
            to=S.ACTIVE,
            reason="comp",
            actor=actor,
            note=note,
            plan=plan,
            comped=True,
            period_start=now,
            period_end=now + timedelta(days=days),
            grace_until=None,
        )
        holds_sync(user=user)
    return sub


def subscription_extend(*, user, days: int, actor=None, note: str = "", now=None) -> Subscription:
    """An operator adds days to the current plan (from now if it already lapsed)."""
    now = now or timezone.now()
    if days <= 0:
        raise DomainError("Days must be positive.", code="invalid")
    with transaction.atomic():
        sub = subscription_locked(user=user)
        if sub.plan.kind == Plan.Kind.FREE:
            raise ConflictError("The free plan has no end to extend; comp a plan instead.", code="billing_free_plan")
        start = sub.period_end if sub.period_end and sub.period_end > now else now
        _move(
            sub,
            to=S.ACTIVE,
            reason="extend",
            actor=actor,
            note=note,
            period_end=start + timedelta(days=days),
            grace_until=None,
        )
        holds_sync(user=user)
    return sub


def subscription_downgrade(*, user, plan: Plan, now=None) -> Subscription:
    """Switch at once to a cheaper paid plan; the unused difference of this period becomes credit
    (prorated) in the currency last paid, spent on the next payment."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = subscription_locked(user=user)
        if sub.status != S.ACTIVE or sub.plan.kind == Plan.Kind.FREE or not sub.period_end or sub.period_end <= now:
            raise ConflictError("Only an active paid plan can be downgraded.", code="billing_not_active")
        if plan.kind == Plan.Kind.FREE or plan.pk == sub.plan_id:
            raise DomainError("Choose a cheaper paid plan.", code="billing_bad_plan")
        last = (
            Payment.objects.filter(user=user, credited_at__isnull=False, revoked_at__isnull=True)
            .order_by("-credited_at")
            .first()
        )
        currency = last.currency if last else "RUB"
        old, new = _price(sub.plan, currency), _price(plan, currency)
        if new >= old:
            raise DomainError("That plan is not cheaper; upgrade instead.", code="billing_not_cheaper")
        credit = Decimal(0)
        if not sub.comped:
            credit = prorate(
                amount=old - new, remaining=sub.period_end - now, period=timedelta(days=sub.plan.period_days)
            )
        field = "credit_rub" if currency == "RUB" else "credit_usdt"
        _move(
            sub,
            to=S.ACTIVE,
            reason="downgrade",
            note=f"credit {credit} {currency}",
            plan=plan,
            **{field: getattr(sub, field) + credit},
        )
        held = holds_sync(user=user)
        if held:
            notify_user(user=user, kind="expired", plan=_plan_name(sub), bots=", ".join(b.name for b in held))
    return sub


def subscription_profit_share_join(*, user, plan: Plan, now=None) -> Subscription:
    """Switch to "pay from profit": no payment up front, no period; the fee accrues monthly from
    realized grid profit made from now on (billing.services.profit_share)."""
    from billing.services.profit_share import profit_watermarks_start

    now = now or timezone.now()
    if plan.kind != Plan.Kind.PROFIT_SHARE:
        raise DomainError("Choose the pay-from-profit plan.", code="billing_bad_plan")
    with transaction.atomic():
        sub = subscription_locked(user=user)
        if (
            sub.status in (S.ACTIVE, S.TRIAL)
            and sub.plan.kind == Plan.Kind.TIER
            and sub.period_end
            and sub.period_end > now
        ):
            raise ConflictError("Your paid plan is still running; switch when it ends.", code="billing_has_plan")
        _move(
            sub,
            to=S.ACTIVE,
            reason="profit_share",
            plan=plan,
            period_start=now,
            period_end=None,
            grace_until=None,
            comped=False,
        )
        profit_watermarks_start(user=user)
        holds_sync(user=user)
    return sub
