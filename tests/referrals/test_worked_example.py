"""The issue's worked example through billing's real path (YooKassa SDK against the fake,
callbacks through the webhook): A refers B, B refers C; B and C pay, C is refunded. The ledger
balances to the cent after every step and A's and B's balances are exactly right."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from billing import services as billing
from billing.models import Payment, Subscription
from referrals import selectors, services
from referrals.models import Attribution, LedgerPosting, Reward
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _balanced():
    assert selectors.ledger_unbalanced_entries() == []
    assert selectors.ledger_total() == 0


def _bal(user, kind, currency="RUB"):
    return selectors.balance(partner=selectors.partner_of(user=user), currency=currency, kind=kind)


def _pay(user, yookassa, hook):
    payment = billing.checkout_create(user=user, plan_code="start", provider="yookassa", method="bank_card")
    yookassa.pay(payment.provider_payment_id, method="bank_card")
    assert hook("yookassa", yookassa.outbox[-1]).json()["outcome"] == "applied"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


def _code(user):
    return services.partner_ensure(user=user).codes.get(custom=False).code


def test_a_refers_b_b_refers_c_b_and_c_pay_c_is_refunded(yookassa, hook):
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    services.referral_attribute(user=b, code=_code(a), source="link", ip="10.1.0.2", device="dev-b")
    services.referral_attribute(user=c, code=_code(b), source="telegram", ip="10.2.0.3", device="dev-c")
    _balanced()

    # B's first payment: 990 less the 10 % referral discount = 891.00; A earns 20 % = 178.20.
    pay_b = _pay(b, yookassa, hook)
    assert pay_b.amount == D("891.00") and yookassa.payments[pay_b.provider_payment_id]["amount"]["value"] == "891.00"
    _balanced()
    assert (_bal(a, "accrued"), _bal(a, "available")) == (D("178.20"), D("0"))

    # C pays 891.00: B earns 20 % = 178.20 (level 1), A 5 % = 44.55 (level 2).
    pay_c = _pay(c, yookassa, hook)
    _balanced()
    assert _bal(a, "accrued") == D("222.75") and _bal(b, "accrued") == D("178.20")
    # A redelivered callback pays nothing twice.
    hook("yookassa", yookassa.outbox[-1])
    assert Reward.objects.filter(payment=pay_c).count() == 2
    _balanced()

    # Inside the refund window nothing is available; after it everything is.
    assert services.rewards_mature(now=timezone.now() + timedelta(days=13)) == 0
    assert services.rewards_mature(now=timezone.now() + timedelta(days=15)) == 3
    _balanced()
    assert (_bal(a, "accrued"), _bal(a, "available")) == (D("0"), D("222.75"))
    assert _bal(b, "available") == D("178.20")

    # C is refunded after the window: both shares of C's payment come back out of "available".
    billing.payment_refund(payment=pay_c)
    _balanced()
    assert _bal(a, "available") == D("178.20") and _bal(a, "accrued") == D("0")
    assert _bal(b, "available") == D("0.00") and _bal(b, "accrued") == D("0")
    assert set(Reward.objects.filter(payment=pay_c).values_list("status", flat=True)) == {"reversed"}
    # The provider's own refund notification arrives later: nothing moves again.
    hook("yookassa", yookassa.outbox[-1])
    _balanced()
    assert _bal(a, "available") == D("178.20") and _bal(b, "available") == D("0.00")
    assert Reward.objects.filter(payment=pay_b).get().status == "available"


def test_a_refund_after_a_payout_leaves_a_negative_balance_netted_against_the_next_reward(yookassa, hook):
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    services.referral_attribute(user=b, code=_code(a), source="link")
    services.referral_attribute(user=c, code=_code(a), source="link")
    pay_b = _pay(b, yookassa, hook)
    services.rewards_mature(now=timezone.now() + timedelta(days=15))
    # A spends the 178.20 as credit towards A's own plan (billing's credit, spent on the next payment).
    payout = services.payout_request(user=a, kind="plan_credit", currency="RUB")
    assert payout.status == "paid" and payout.amount == D("178.20")
    assert Subscription.objects.get(user=a).credit_rub == D("178.20")
    billing.payment_refund(payment=pay_b)
    _balanced()
    assert _bal(a, "available") == D("-178.20") and _bal(a, "paid") == D("178.20")
    # Nothing more can be paid out while the balance is negative.
    with pytest.raises(Exception, match="Nothing is available"):
        services.payout_request(user=a, kind="plan_credit", currency="RUB", amount=D("1.00"))
    _pay(c, yookassa, hook)  # C's first payment: 891.00, A earns 178.20, which nets the debt to zero
    services.rewards_mature(now=timezone.now() + timedelta(days=15))
    _balanced()
    assert _bal(a, "available") == D("0.00")


def test_the_ledger_refuses_to_be_rewritten_and_a_referrer_cannot_be_changed(yookassa, hook):
    a, b, x = UserFactory(), UserFactory(), UserFactory()
    attribution = services.referral_attribute(user=b, code=_code(a), source="link")
    _pay(b, yookassa, hook)
    posting = LedgerPosting.objects.first()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        LedgerPosting.objects.filter(pk=posting.pk).update(amount=D("1000000"))
    with pytest.raises(DatabaseError, match="never changes"), transaction.atomic():
        Attribution.objects.filter(pk=attribution.pk).update(referrer=x)
    # Through the service: the same code is a no-op, another is refused.
    assert services.referral_attribute(user=b, code=_code(a), source="link").pk == attribution.pk
    with pytest.raises(Exception, match="another partner"):
        services.referral_attribute(user=b, code=_code(x), source="link")
    assert Attribution.objects.get(user=b).referrer == a
