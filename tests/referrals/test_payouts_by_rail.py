"""Partner payouts through billing's payout port, against the fakes' real wire: YooKassa
Payouts (POST /v3/payouts with an Idempotence-Key; payout.succeeded / payout.canceled
notifications, each confirmed by fetching the payout) and Crypto Pay transfers (spend_id).

Worked example (RUB): six payments of 990.00 by one referred user at 20 % = 6 x 198.00 =
1188.00 available. The partner asks for 1000.00 by card: available 188.00, pending 1000.00.
The provider pays: paid 1000.00, pending 0.00. A second request of 188.00 is below the rail's
500.00 minimum; as plan credit it is taken at once (credit_rub 188.00)."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from billing import services as billing
from billing.models import Payment, Plan, ProviderPayout, Subscription
from referrals import selectors, services
from referrals.models import Partner, Payout
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
CARD = "4111 1111 1111 1111"
LATER = timedelta(minutes=5)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _earned(currency="RUB", amount="990.00", times=6):
    """A partner with `times` x 20 % of `amount` available (rewards matured)."""
    partner, referred = UserFactory(), UserFactory()
    code = services.partner_ensure(user=partner).codes.get(custom=False).code
    services.referral_attribute(user=referred, code=code, source="link")
    for _ in range(times):
        payment = Payment.objects.create(
            user=referred,
            plan=Plan.objects.get(code="start"),
            provider="yookassa" if currency == "RUB" else "cryptopay",
            amount=D(amount),
            currency=currency,
            status="succeeded",
            credited_at=timezone.now(),
            seller="test",
        )
        services.referral_payment_succeeded(payment=payment)
    services.rewards_mature(now=timezone.now() + timedelta(days=15))
    return partner, Partner.objects.get(user=partner)


def _bal(p, kind, currency="RUB"):
    return selectors.balance(partner=p, currency=currency, kind=kind)


def _balanced():
    assert selectors.ledger_unbalanced_entries() == [] and selectors.ledger_total() == 0


def _approve(payout, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.payout_decide(payout=payout, approve=True, actor=None)


def test_a_card_payout_is_sent_once_and_paid_when_yookassa_confirms_it(
    yookassa, hook, payouts_sent_inline, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)
    user, p = _earned()
    assert _bal(p, "available") == D("1188.00")
    response = _client(user).post(
        "/api/referrals/payouts/",
        {"kind": "transfer", "currency": "RUB", "rail": "yookassa", "destination": CARD, "amount": "1000.00"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["destination"] == "•••• 1111"
    assert (_bal(p, "available"), _bal(p, "pending")) == (D("188.00"), D("1000.00"))
    payout = Payout.objects.get(pk=response.json()["id"])
    assert "4111111111111111" not in payout.destination_sealed  # encrypted at rest
    assert yookassa.payouts == {}  # nothing is sent before an operator approves

    payout = _approve(payout, django_capture_on_commit_callbacks)
    assert payout.status == Payout.Status.SENDING
    (remote,) = yookassa.payouts.values()
    assert remote["amount"] == {"value": "1000.00", "currency": "RUB"}
    assert remote["payout_destination"]["card"]["last4"] == "1111" and remote["status"] == "pending"
    row = ProviderPayout.objects.get(owner_key=f"referral_payout:{payout.pk}")
    assert (row.status, row.provider_payout_id, row.destination_masked) == ("pending", remote["id"], "•••• 1111")
    # A retry of the send (a worker restarted) pays nothing twice: the same key, the same payout.
    billing.payout_send(payout_id=row.pk)
    assert len(yookassa.payouts) == 1

    yookassa.payout_settle(remote["id"], "succeeded")
    assert hook("yookassa", yookassa.outbox[-1]).json()["outcome"] == "applied"
    assert hook("yookassa", yookassa.outbox[-1]).json()["outcome"] == "duplicate"
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert (_bal(p, "available"), _bal(p, "pending"), _bal(p, "paid")) == (D("188.00"), D("0.00"), D("1000.00"))
    _balanced()
    history = _client(user).get("/api/referrals/payouts/").json()
    assert [(h["status"], h["amount"], h["destination"]) for h in history] == [("paid", "1000.00", "•••• 1111")]
    assert "4111111111111111" not in caplog.text and "4111 1111 1111 1111" not in caplog.text

    # 188.00 is below the rail's minimum (500.00 RUB), but may be taken as plan credit at once.
    below = _client(user).post(
        "/api/referrals/payouts/",
        {"kind": "transfer", "currency": "RUB", "rail": "yookassa", "destination": CARD},
        format="json",
    )
    assert below.status_code == 409 and below.json()["code"] == "referral_below_minimum"
    credit = _client(user).post("/api/referrals/payouts/", {"kind": "plan_credit", "currency": "RUB"}, format="json")
    assert credit.status_code == 201 and credit.json()["status"] == "paid"
    assert Subscription.objects.get(user=user).credit_rub == D("188.00")
    assert (_bal(p, "available"), _bal(p, "paid")) == (D("0.00"), D("1188.00"))
    _balanced()


def test_a_canceled_payout_returns_the_exact_amount_to_available(
    yookassa, hook, payouts_sent_inline, django_capture_on_commit_callbacks
):
    user, p = _earned()
    payout = services.payout_request(user=user, kind="transfer", currency="RUB", rail="yookassa", destination=CARD)
    _approve(payout, django_capture_on_commit_callbacks)
    (remote,) = yookassa.payouts.values()
    yookassa.payout_settle(remote["id"], "canceled", reason="one_time_limit_exceeded")
    # The callback body is only a hint: forging "succeeded" for it changes nothing.
    forged = {**yookassa.payouts[remote["id"]], "status": "succeeded"}
    yookassa.notify("payout.succeeded", forged)
    hook("yookassa", yookassa.outbox[-1])
    payout.refresh_from_db()
    assert payout.status == Payout.Status.FAILED and "one_time_limit_exceeded" in payout.note
    assert (_bal(p, "available"), _bal(p, "pending"), _bal(p, "paid")) == (D("1188.00"), D("0.00"), D("0"))
    _balanced()
    assert [h["status"] for h in _client(user).get("/api/referrals/payouts/").json()] == ["failed"]


def test_a_lost_answer_leaves_the_payout_pending_and_the_reconciliation_settles_it_without_paying_twice(
    yookassa, hook, payouts_sent_inline, django_capture_on_commit_callbacks
):
    user, p = _earned()
    payout = services.payout_request(user=user, kind="transfer", currency="RUB", rail="yookassa", destination=CARD)
    yookassa.fail_next_payout_answer = True  # YooKassa makes the payout; its answer never arrives
    _approve(payout, django_capture_on_commit_callbacks)
    row = ProviderPayout.objects.get(owner_key=f"referral_payout:{payout.pk}")
    assert (row.status, row.provider_payout_id) == ("pending", None) and len(yookassa.payouts) == 1
    # The reconciliation asks again with the same key: the same payout, still pending at YooKassa.
    assert billing.payouts_reconcile(now=timezone.now() + LATER)["checked"] == 1
    row.refresh_from_db()
    assert row.provider_payout_id == next(iter(yookassa.payouts)) and len(yookassa.payouts) == 1
    # The notification is lost too: the next reconciliation finds the payout succeeded.
    yookassa.webhook_url = ""
    yookassa.payout_settle(row.provider_payout_id, "succeeded")
    assert billing.payouts_reconcile(now=timezone.now() + LATER)["settled"] == 1
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID and _bal(p, "paid") == D("1188.00") and _bal(p, "pending") == 0
    _balanced()


def test_a_crash_before_sending_is_finished_by_the_reconciliation(yookassa, django_capture_on_commit_callbacks):
    user, p = _earned()
    payout = services.payout_request(user=user, kind="transfer", currency="RUB", rail="yookassa", destination=CARD)
    services.payout_decide(payout=payout, approve=True, actor=None)  # committed; the process dies before sending
    row = ProviderPayout.objects.get(owner_key=f"referral_payout:{payout.pk}")
    assert row.status == "new" and yookassa.payouts == {}
    yookassa.settle_payouts = "succeeded"
    try:
        billing.payouts_reconcile(now=timezone.now() + LATER)
    finally:
        yookassa.settle_payouts = None
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID and len(yookassa.payouts) == 1
    assert billing.payouts_reconcile(now=timezone.now() + LATER)["checked"] == 0  # nothing left open
    _balanced()


def test_a_usdt_payout_is_a_crypto_pay_transfer_made_once(
    cryptopay, payouts_sent_inline, django_capture_on_commit_callbacks
):
    user, p = _earned(currency="USDT", amount="9.90", times=6)  # 6 x 1.98 = 11.88 USDT
    assert _bal(p, "available", "USDT") == D("11.88")
    before = cryptopay.balance
    bad = _client(user).post(
        "/api/referrals/payouts/",
        {"kind": "transfer", "currency": "USDT", "rail": "cryptopay", "destination": "@ivan"},
        format="json",
    )
    assert bad.status_code == 400 and "destination" in bad.json()["fields"]
    payout = services.payout_request(
        user=user, kind="transfer", currency="USDT", rail="cryptopay", destination="123456789"
    )
    cryptopay.fail_next_transfer_answer = True  # the transfer is made; the answer is lost
    _approve(payout, django_capture_on_commit_callbacks)
    payout.refresh_from_db()
    assert payout.status == Payout.Status.SENDING and len(cryptopay.transfers) == 1
    billing.payouts_reconcile(now=timezone.now() + LATER)  # found by its spend_id, not sent again
    payout.refresh_from_db()
    (transfer,) = cryptopay.transfers.values()
    assert payout.status == Payout.Status.PAID and transfer["user_id"] == 123456789
    assert (transfer["amount"], cryptopay.balance) == ("11.88", before - D("11.88"))
    assert (_bal(p, "available", "USDT"), _bal(p, "paid", "USDT")) == (D("0.00"), D("11.88"))
    _balanced()


@pytest.mark.parametrize(
    ("rail", "currency", "destination", "message"),
    [
        ("yookassa", "RUB", "4111 1111 1111 1112", "check digit"),
        ("yookassa", "RUB", "12345", "16 to 19 digits"),
        ("cryptopay", "USDT", "99999999999999999999", "Telegram"),
    ],
)
def test_a_destination_with_a_typo_is_refused_with_a_message(rail, currency, destination, message):
    user, _ = _earned(currency=currency, amount="99000.00" if currency == "RUB" else "990.00", times=1)
    response = _client(user).post(
        "/api/referrals/payouts/",
        {"kind": "transfer", "currency": currency, "rail": rail, "destination": destination},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and message in response.json()["fields"]["destination"][0]
    assert Payout.objects.count() == 0
