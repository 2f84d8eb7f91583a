"""Pool managers are paid what investors have paid them, through billing's payout port.

Worked example (USDT): two fees paid by the investor, 12.345678 + 7.654321 = 19.999999 earned;
available 19.99 (rounded down: never more than earned). The manager asks for 15.00 by Crypto Pay:
pending 15.00, available 4.99; an operator approves; one transfer of 15.00 is made: paid 15.00.
The remaining 4.99 is taken as plan credit (credit_usdt 4.99): available 0.00."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from billing import services as billing
from billing.models import Payment, ProviderPayout, Subscription
from config.errors import ConflictError
from pools import services as pool_services
from pools.models import ManagerPayout, PoolFee
from pools.payouts import manager_balance, manager_payout_decide, manager_payout_request
from tests.api.conftest import cookie_client
from tests.billing.test_pool_fee_charges import make_fee
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TELEGRAM = "777000111"


def _paid_fees(cryptopay, hook, amounts=("12.345678", "7.654321")):
    """Fees of one manager, each invoiced to the investor and paid on the fake Crypto Pay."""
    first = make_fee(amount=amounts[0])
    fees = [first]
    for i, amount in enumerate(amounts[1:], start=2):
        fees.append(
            PoolFee.objects.create(
                pool=first.pool,
                member=first.member,
                investor=first.investor,
                manager=first.manager,
                kind=first.kind,
                key=f"2.{i}",
                amount=D(amount),
                nav=first.nav,
                units=first.units,
                hwm_before=first.hwm_before,
                created_at=timezone.now(),
            )
        )
    for fee in fees:
        payment = pool_services.pool_fee_invoice(fee=fee)
        cryptopay.pay(int(payment.provider_payment_id))
        body, headers = cryptopay.outbox[-1]
        assert hook("cryptopay", body, headers=headers).json()["outcome"] == "applied"
    return first.manager, fees


def _figures(manager):
    b = manager_balance(user=manager)
    return b["earned"], b["pending"], b["paid"], b["available"]


def test_a_manager_is_paid_once_by_crypto_pay_and_the_rest_as_plan_credit(
    cryptopay, hook, payouts_sent_inline, django_capture_on_commit_callbacks
):
    manager, _ = _paid_fees(cryptopay, hook)
    client = cookie_client(manager)
    state = client.get("/api/pools/payouts/").json()
    assert (state["earned"], state["available"], state["payouts"]) == ("19.99", "19.99", [])

    asked = client.post(
        "/api/pools/payouts/",
        {"kind": "transfer", "rail": "cryptopay", "destination": TELEGRAM, "amount": "15.00"},
        format="json",
    )
    assert asked.status_code == 201
    assert _figures(manager) == (D("19.99"), D("15.00"), D("0"), D("4.99"))
    (row,) = asked.json()["payouts"]
    assert (row["status"], row["amount"], row["destination"]) == ("requested", "15.00", "Telegram 77•••11")
    assert cryptopay.transfers == {}  # nothing moves before an operator approves

    before = cryptopay.balance
    payout = ManagerPayout.objects.get(pk=row["id"])
    with django_capture_on_commit_callbacks(execute=True):
        manager_payout_decide(payout=payout, approve=True, actor=None)
    with pytest.raises(ConflictError) as twice:
        manager_payout_decide(payout=payout, approve=True, actor=None)  # approving twice sends nothing more
    assert twice.value.code == "pool_payout_decided"
    billing.payouts_reconcile(now=timezone.now() + timedelta(minutes=5))
    (transfer,) = cryptopay.transfers.values()
    assert (transfer["user_id"], transfer["amount"], cryptopay.balance) == (777000111, "15.00", before - D("15.00"))
    payout.refresh_from_db()
    assert payout.status == ManagerPayout.Status.PAID
    assert ProviderPayout.objects.get(owner_key=f"pool_payout:{payout.pk}").status == "succeeded"
    assert _figures(manager) == (D("19.99"), D("0"), D("15.00"), D("4.99"))

    credit = client.post("/api/pools/payouts/", {"kind": "plan_credit"}, format="json")
    assert credit.status_code == 201 and credit.json()["available"] == "0.00"
    assert Subscription.objects.get(user=manager).credit_usdt == D("4.99")
    assert _figures(manager) == (D("19.99"), D("0"), D("19.99"), D("0.00"))
    again = client.post("/api/pools/payouts/", {"kind": "plan_credit"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "pool_nothing_available"
    assert [p["status"] for p in client.get("/api/pools/payouts/").json()["payouts"]] == ["paid", "paid"]


def test_only_paid_in_fees_can_be_paid_out_and_a_refused_transfer_makes_the_amount_available_again(
    cryptopay, hook, payouts_sent_inline, django_capture_on_commit_callbacks
):
    unpaid = make_fee(amount="50")  # accrued, invoiced, not paid: not the manager's money yet
    pool_services.pool_fee_invoice(fee=unpaid)
    refused = cookie_client(unpaid.manager).post("/api/pools/payouts/", {"kind": "plan_credit"}, format="json")
    assert refused.status_code == 409 and ManagerPayout.objects.count() == 0

    manager, _ = _paid_fees(cryptopay, hook, amounts=("30.00",))
    payout = manager_payout_request(user=manager, kind="transfer", rail="cryptopay", destination=TELEGRAM)
    assert payout.amount == D("30.00")
    cryptopay.balance, kept = D("1"), cryptopay.balance  # the app's Crypto Pay balance is short
    try:
        with django_capture_on_commit_callbacks(execute=True):
            manager_payout_decide(payout=payout, approve=True, actor=None)
    finally:
        cryptopay.balance = kept
    payout.refresh_from_db()
    assert payout.status == ManagerPayout.Status.FAILED and "refused" in payout.note
    assert cryptopay.transfers == {}
    assert _figures(manager) == (D("30.00"), D("0"), D("0"), D("30.00"))


def test_the_minimum_the_destination_and_another_users_payouts(cryptopay, hook):
    manager, _ = _paid_fees(cryptopay, hook, amounts=("4.50",))
    client = cookie_client(manager)
    below = client.post(
        "/api/pools/payouts/", {"kind": "transfer", "rail": "cryptopay", "destination": TELEGRAM}, format="json"
    )
    assert below.status_code == 409 and below.json()["code"] == "pool_below_minimum"  # 4.50 < 5.00
    manager2, _ = _paid_fees(cryptopay, hook, amounts=("40.00",))
    bad = cookie_client(manager2).post(
        "/api/pools/payouts/", {"kind": "transfer", "rail": "cryptopay", "destination": "@manager"}, format="json"
    )
    assert bad.status_code == 400 and "destination" in bad.json()["fields"]
    manager_payout_request(user=manager2, kind="transfer", rail="cryptopay", destination=TELEGRAM)
    assert client.get("/api/pools/payouts/").json()["payouts"] == []  # only one's own
    stranger = cookie_client(UserFactory()).get("/api/pools/payouts/").json()
    assert (stranger["earned"], stranger["available"], stranger["payouts"]) == ("0.00", "0.00", [])
    assert Payment.objects.filter(purpose="pool_fee").count() == 2
