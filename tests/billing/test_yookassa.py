"""YooKassa through its official SDK against the fake (real wire): pay, and every fault the
issue lists: forged, replayed, duplicated, out-of-order, amount/currency-mismatched callbacks,
a payment confirmed twice, refund/chargeback, a crash between "paid" and "plan granted"."""

import json

import pytest

from billing import selectors, services
from billing.models import Payment, ProviderEvent, RejectedCallback, Subscription, SubscriptionEvent

pytestmark = pytest.mark.django_db


def _pay(user, yookassa, *, plan="start", method="bank_card"):
    payment = services.checkout_create(user=user, plan_code=plan, provider="yookassa", method=method)
    yookassa.pay(payment.provider_payment_id, method=method)
    return payment


def _state(user):
    """(status, plan in force, period end); a user who never subscribed is on the free plan."""
    sub = Subscription.objects.filter(user=user).first()
    if sub is None:
        return "active", selectors.plan_effective(user=user).code, None
    return sub.status, sub.plan.code, sub.period_end


def test_checkout_sends_54fz_receipt_and_the_seller_and_a_payment_page(user, yookassa):
    payment = services.checkout_create(user=user, plan_code="start", provider="yookassa", method="sbp")
    assert payment.status == Payment.Status.PENDING and payment.amount == 990 and payment.currency == "RUB"
    assert payment.confirmation_url.startswith(yookassa.url + "/checkout/")
    remote = yookassa.payments[payment.provider_payment_id]
    assert remote["amount"] == {"value": "990.00", "currency": "RUB"}
    assert remote["payment_method"]["type"] == "sbp"
    assert payment.receipt["customer"]["email"] == user.email
    item = payment.receipt["items"][0]
    assert (item["vat_code"], item["payment_mode"], item["payment_subject"]) == (1, "full_payment", "service")
    assert "ООО" in payment.seller
    # A retry with the same idempotence key gets the same provider payment, never a second one.
    again = services.payment_send(payment=Payment.objects.get(pk=payment.pk))
    assert again.provider_payment_id == payment.provider_payment_id and len(yookassa.keys) >= 1


def test_paid_callback_activates_the_plan_and_emails(
    user, yookassa, hook, django_capture_on_commit_callbacks, mailoutbox
):
    payment = _pay(user, yookassa)
    with django_capture_on_commit_callbacks(execute=True):
        response = hook("yookassa", yookassa.outbox[-1])
    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    payment.refresh_from_db()
    last4 = yookassa.payments[payment.provider_payment_id]["payment_method"]["card"]["last4"]
    assert payment.status == Payment.Status.SUCCEEDED and payment.paid_method_title == f"Bank card *{last4}"
    assert _state(user)[:2] == ("active", "start")
    assert selectors.plan_effective(user=user).code == "start"
    assert [m.subject for m in mailoutbox if user.email in m.to] == ["Тариф «Старт» активен"]


def test_duplicated_and_replayed_callbacks_credit_once(user, yookassa, hook):
    _pay(user, yookassa)
    body = yookassa.outbox[-1]
    assert hook("yookassa", body).json()["outcome"] == "applied"
    _, _, period_end = _state(user)
    for _ in range(3):
        assert hook("yookassa", body).json()["outcome"] == "duplicate"
    assert _state(user)[2] == period_end
    event = ProviderEvent.objects.get()
    assert event.deliveries == 4
    assert SubscriptionEvent.objects.filter(reason__in=["payment", "renewal"]).count() == 1


def test_confirmed_twice_by_different_events_credits_once(user, yookassa, hook):
    payment = _pay(user, yookassa)
    hook("yookassa", yookassa.outbox[-1])
    period_end = _state(user)[2]
    # The reconciliation also sees "succeeded" for the same payment: nothing more is granted.
    assert services.payment_refresh(payment=payment) == ProviderEvent.Outcome.NOOP
    services.payments_reconcile()
    assert _state(user)[2] == period_end


def test_callback_from_a_foreign_address_is_rejected_and_logged(user, yookassa, hook):
    _pay(user, yookassa)
    response = hook("yookassa", yookassa.outbox[-1], addr="203.0.113.7")
    assert response.status_code == 403
    assert RejectedCallback.objects.get().reason == "address_not_allowed"
    assert not ProviderEvent.objects.exists()
    assert _state(user)[:2] == ("active", "free")


def test_forged_success_from_a_trusted_address_changes_nothing(user, yookassa, hook):
    """The body claims success; YooKassa (fetched) says pending: nothing is granted."""
    payment = services.checkout_create(user=user, plan_code="pro", provider="yookassa")
    remote = dict(yookassa.payments[payment.provider_payment_id], status="succeeded", paid=True)
    forged = json.dumps({"type": "notification", "event": "payment.succeeded", "object": remote}).encode()
    assert hook("yookassa", forged).json()["outcome"] == "noop"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING and payment.credited_at is None
    assert _state(user)[:2] == ("active", "free")
    garbage = hook("yookassa", b"{not json")
    assert garbage.status_code == 400 and RejectedCallback.objects.filter(reason="malformed").exists()


def test_out_of_order_cancel_after_success_changes_nothing(user, yookassa, hook):
    payment = _pay(user, yookassa)
    succeeded = yookassa.outbox[-1]
    stale = dict(yookassa.payments[payment.provider_payment_id], status="canceled")
    canceled = json.dumps({"type": "notification", "event": "payment.canceled", "object": stale}).encode()
    assert hook("yookassa", canceled).json()["outcome"] == "applied"  # fetched: succeeded -> credited
    assert hook("yookassa", succeeded).json()["outcome"] == "noop"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and _state(user)[:2] == ("active", "start")


def test_amount_or_currency_mismatch_is_held_not_credited(user, yookassa, hook):
    payment = services.checkout_create(user=user, plan_code="start", provider="yookassa")
    yookassa.tamper_amount(payment.provider_payment_id, "9.90")
    yookassa.pay(payment.provider_payment_id)
    assert hook("yookassa", yookassa.outbox[-1]).json()["outcome"] == "mismatch"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.MISMATCH and payment.credited_at is None
    assert _state(user)[:2] == ("active", "free")
    other = services.checkout_create(user=user, plan_code="start", provider="yookassa")
    yookassa.tamper_amount(other.provider_payment_id, "990.00", "USD")
    yookassa.pay(other.provider_payment_id)
    assert hook("yookassa", yookassa.outbox[-1]).json()["outcome"] == "mismatch"
    assert _state(user)[:2] == ("active", "free")


def test_refund_by_operator_takes_the_plan_back(user, yookassa, hook):
    payment = _pay(user, yookassa)
    hook("yookassa", yookassa.outbox[-1])
    services.payment_refund(payment=payment)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED and payment.refunded_amount == 990
    assert _state(user)[0] == "expired" and selectors.plan_effective(user=user).code == "free"
    # YooKassa's own refund.succeeded notification then arrives: already applied, nothing moves.
    assert hook("yookassa", yookassa.outbox[-1]).json()["outcome"] == "noop"


def test_chargeback_on_the_provider_side_takes_the_plan_back(
    user, yookassa, hook, django_capture_on_commit_callbacks, mailoutbox
):
    payment = _pay(user, yookassa, plan="pro")
    hook("yookassa", yookassa.outbox[-1])
    yookassa.refund_from_dashboard(payment.provider_payment_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert hook("yookassa", yookassa.outbox[-1]).json()["outcome"] == "applied"
    assert selectors.plan_effective(user=user).code == "free"
    assert "Платёж возвращён" in [m.subject for m in mailoutbox]


def test_crash_between_paid_and_plan_granted_is_repaired_by_reconciliation(user, yookassa, hook, monkeypatch):
    from billing.services import payments as payments_module

    payment = _pay(user, yookassa)

    def crash(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(payments_module, "subscription_credit_payment", crash)
    with pytest.raises(RuntimeError):
        hook("yookassa", yookassa.outbox[-1])
    payment.refresh_from_db()
    assert payment.credited_at is None and ProviderEvent.objects.get().processed_at is None  # rolled back, kept
    monkeypatch.undo()
    counts = services.payments_reconcile()
    assert counts["events"] == 1
    payment.refresh_from_db()
    assert payment.credited_at is not None and _state(user)[:2] == ("active", "start")
    assert ProviderEvent.objects.get().outcome == "applied"
    services.payments_reconcile()
    assert SubscriptionEvent.objects.filter(reason="payment").count() == 1


def test_a_lost_callback_is_found_by_reconciliation(user, yookassa):
    payment = _pay(user, yookassa)  # the notification never reaches us
    assert services.payments_reconcile()["changed"] == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and _state(user)[:2] == ("active", "start")


def test_provider_down_at_checkout_leaves_a_payment_that_reconciliation_completes(user, yookassa, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SETKA_YOOKASSA_API_URL = "http://127.0.0.1:9/v3"  # nothing listens
    with pytest.raises(Exception) as exc:
        services.checkout_create(user=user, plan_code="start", provider="yookassa")
    assert getattr(exc.value, "code", "") == "billing_provider_unavailable"
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.NEW
    settings.SETKA_YOOKASSA_API_URL = f"{yookassa.url}/v3"
    services.payments_reconcile(now=timezone.now() + timedelta(minutes=2))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING and payment.provider_payment_id in yookassa.payments


def test_webhook_endpoint_never_500s_on_unknown_provider(api_client):
    assert (
        api_client.post("/api/billing/webhooks/paypal/", data=b"{}", content_type="application/json").status_code == 404
    )
