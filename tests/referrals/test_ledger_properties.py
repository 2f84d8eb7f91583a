"""Hypothesis: whatever sequence of payments, redelivered events, refunds, maturing and payouts
happens, every ledger entry balances, the whole ledger sums to zero, a payment is paid for at
most once per level, and each partner holds exactly the rewards not reversed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Payment, Plan
from referrals import selectors, services
from referrals.models import LedgerPosting, Partner, Reward
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(1, 3), st.integers(1, 500_000)),  # user, amount in cents
        st.tuples(st.just("redeliver"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("refund"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("mature"), st.integers(0, 30), st.just(0)),  # days from the start
        st.tuples(st.just("payout"), st.integers(0, 3), st.just(0)),
    ),
    max_size=18,
)


class Rollback(Exception):
    pass


def _check(partners, payments):
    assert selectors.ledger_unbalanced_entries() == []
    assert selectors.ledger_total() == 0
    for payment in payments:
        levels = list(Reward.objects.filter(payment=payment).values_list("level", flat=True))
        assert sorted(levels) == sorted(set(levels))
    for partner in partners:
        held = LedgerPosting.objects.filter(account__partner=partner).aggregate(t=Sum("amount"))["t"] or 0
        earned = Reward.objects.filter(partner=partner).exclude(status="reversed").aggregate(t=Sum("amount"))["t"] or 0
        assert held == earned  # accrued + available + pending + paid, to the cent
        # A reversed reward leaves nothing behind.
        for reward in Reward.objects.filter(partner=partner, status="reversed"):
            net = LedgerPosting.objects.filter(entry__reward=reward, account__partner=partner).aggregate(
                t=Sum("amount")
            )["t"]
            assert net == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_any_sequence_keeps_the_ledger_balanced_and_never_pays_twice(db, steps):
    start = timezone.now()
    plan = Plan.objects.get(code="start")
    try:
        with transaction.atomic():
            a, b, c, d = (UserFactory() for _ in range(4))
            services.referral_attribute(user=b, code=services.partner_ensure(user=a).codes.first().code, source="link")
            services.referral_attribute(user=c, code=services.partner_ensure(user=b).codes.first().code, source="link")
            services.referral_attribute(user=d, code=services.partner_ensure(user=a).codes.first().code, source="link")
            users = [a, b, c, d]
            partners = list(Partner.objects.filter(user__in=users))
            payments: list[Payment] = []
            for op, x, y in steps:
                if op == "pay":
                    payment = Payment.objects.create(
                        user=users[x],
                        plan=plan,
                        provider="yookassa",
                        amount=Decimal(y) / 100,
                        currency="RUB",
                        status="succeeded",
                        credited_at=start,
                        seller="test",
                    )
                    payments.append(payment)
                    services.referral_payment_succeeded(payment=payment, now=start)
                elif op == "redeliver" and payments:
                    payment = payments[x % len(payments)]
                    if payment.revoked_at is None:
                        services.referral_payment_succeeded(payment=payment, now=start)
                    else:
                        services.referral_payment_reversed(payment=payment)
                elif op == "refund" and payments:
                    payment = payments[x % len(payments)]
                    payment.revoked_at, payment.status = start, "refunded"
                    payment.save(update_fields=["revoked_at", "status"])
                    services.referral_payment_reversed(payment=payment)
                elif op == "mature":
                    services.rewards_mature(now=start + timedelta(days=x))
                elif op == "payout":
                    available = selectors.balance(
                        partner=services.partner_ensure(user=users[x]), currency="RUB", kind="available"
                    )
                    if available > 0:
                        services.payout_request(user=users[x], kind="plan_credit", currency="RUB")
                _check(partners, payments)
            raise Rollback
    except Rollback:
        pass
