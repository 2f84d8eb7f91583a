"""Pool fees charged through billing (issue 16): each accrued PoolFee becomes exactly one USDT
invoice of its investor (key "pool_fee:<id>"), however often the job runs; paying it marks the
fee paid, and only then does it count in the manager's earned total (accrued until then). The
payment shows on the investor's billing list and earns referrers nothing (it is not our revenue)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.utils import timezone

from billing.models import Payment
from bots.models import Bot
from pools import selectors as pool_selectors
from pools import services as pool_services
from pools.models import Pool, PoolFee, PoolMember
from tests.api.conftest import cookie_client
from tests.factories import BotFactory, ExchangeAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_fee(*, amount="12.345678", kind=PoolFee.Kind.PERFORMANCE, key="1.2") -> PoolFee:
    manager, investor = UserFactory(language="ru"), UserFactory(language="ru")
    pool = Pool.objects.create(
        manager=manager,
        bot=BotFactory(user=manager, status=Bot.Status.RUNNING),
        name="BTC range",
        description="A calm grid.",
        risk_level="low",
        min_investment=D("20"),
        max_investment=D("3000"),
        performance_fee_percent=D("15"),
        status=Pool.Status.APPROVED,
    )
    member = PoolMember.objects.create(
        pool=pool, investor=investor, exchange_account=ExchangeAccountFactory(user=investor), amount=D("100")
    )
    return PoolFee.objects.create(
        pool=pool,
        member=member,
        investor=investor,
        manager=manager,
        kind=kind,
        key=key,
        amount=D(amount),
        nav=D("1.2"),
        units=D("100"),
        hwm_before=D("1"),
        created_at=timezone.now(),
    )


def _payments(user) -> list:
    body = cookie_client(user).get("/api/billing/payments/").json()
    return body["results"] if isinstance(body, dict) else body


def test_a_fee_is_invoiced_once_and_paying_it_credits_the_manager(cryptopay, hook):
    fee = make_fee()
    assert pool_services.pool_fees_invoice_due() == 1
    assert pool_services.pool_fees_invoice_due() == 0  # the job runs again: nothing new
    assert pool_services.pool_fee_invoice(fee=fee).pk == Payment.objects.get().pk  # nor when called directly
    payment = Payment.objects.get(purpose=Payment.Purpose.POOL_FEE)
    assert (payment.user_id, payment.amount, payment.currency, payment.status) == (
        fee.investor_id,
        D("12.34"),  # rounded down to the cent: never more than owed
        "USDT",
        Payment.Status.PENDING,
    )
    assert payment.charge_key == f"pool_fee:{fee.pk}"
    fee.refresh_from_db()
    assert fee.payment_id == payment.pk and fee.paid_at is None

    # the investor sees the invoice on their billing page; the manager sees it accrued, not earned
    assert [(p["id"], p["purpose"], p["amount"]) for p in _payments(fee.investor)] == [
        (payment.pk, "pool_fee", "12.34")
    ]
    assert _payments(fee.manager) == []  # the manager pays nothing
    earnings = cookie_client(fee.manager).get("/api/pools/earnings/").json()
    assert D(earnings["total"]) == 0 and D(earnings["accrued"]) == D("12.345678")
    assert earnings["fees"][0]["invoice_status"] == "pending" and earnings["fees"][0]["paid_at"] is None

    cryptopay.pay(int(payment.provider_payment_id))
    body, headers = cryptopay.outbox[-1]
    assert hook("cryptopay", body, headers=headers).json()["outcome"] == "applied"
    assert hook("cryptopay", body, headers=headers).status_code == 200  # delivered twice: applied once
    fee.refresh_from_db()
    assert fee.paid_at is not None
    earnings = pool_selectors.manager_earnings(user=fee.manager)
    assert (earnings["total"], earnings["accrued"]) == (D("12.345678"), 0)
    assert pool_services.pool_fees_invoice_due() == 0  # paid: never invoiced again
    assert Payment.objects.filter(charge_key=f"pool_fee:{fee.pk}").count() == 1


def test_a_canceled_invoice_is_issued_again_but_never_two_live_ones(cryptopay):
    fee = make_fee()
    first = pool_services.pool_fee_invoice(fee=fee)
    Payment.objects.filter(pk=first.pk).update(status=Payment.Status.CANCELED)
    assert pool_services.pool_fees_invoice_due() == 1
    second = Payment.objects.exclude(pk=first.pk).get()
    assert second.charge_key == first.charge_key and second.status == Payment.Status.PENDING
    fee.refresh_from_db()
    assert fee.payment_id == second.pk
    assert pool_services.pool_fees_invoice_due() == 0
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            user=second.user,
            plan=second.plan,
            provider="cryptopay",
            purpose=Payment.Purpose.POOL_FEE,
            amount=D("1"),
            currency="USDT",
            seller="x",
            charge_key=second.charge_key,
        )


def test_a_fee_below_a_cent_is_not_invoiced(cryptopay):
    make_fee(amount="0.004")
    assert pool_services.pool_fees_invoice_due() == 0
    assert not Payment.objects.exists()


def test_a_paper_pools_fee_is_accrued_but_never_invoiced(cryptopay):
    """Simulated gains cost nobody real money: the fee stays a figure on the pool's page."""
    fee = make_fee()
    Pool.objects.filter(pk=fee.pool_id).update(is_paper=True)
    fee.refresh_from_db()
    assert pool_services.pool_fee_invoice(fee=fee) is None
    assert pool_services.pool_fees_invoice_due() == 0
    assert not Payment.objects.exists() and _payments(fee.investor) == []
    fee.refresh_from_db()
    assert fee.payment_id is None and fee.paid_at is None
