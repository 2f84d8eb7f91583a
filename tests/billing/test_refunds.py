"""Partial refunds: an operator refunds part of a payment through YooKassa (the fake, real wire);
the provider's refund callback is stored once; the same share of the paid period is taken back
from its end; a resubmitted form or a retried call refunds once; the rest refunded takes the
plan back. Crypto Pay partial refunds are recorded after a manual transfer."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from billing import selectors, services
from billing.models import Payment, ProviderEvent, Refund, Subscription, SubscriptionEvent
from billing.services.subscriptions import period_share
from config.errors import DomainError
from notifications.models import Notification

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def _paid(user, yookassa, hook, plan="start"):
    payment = services.checkout_create(user=user, plan_code=plan, provider="yookassa")
    yookassa.pay(payment.provider_payment_id)
    hook("yookassa", yookassa.outbox[-1])
    payment.refresh_from_db()
    assert payment.credited_at is not None
    return payment


def test_period_share_worked_example():
    payment = Payment(amount=Decimal("990.00"), period_days=30)
    assert period_share(payment=payment, money=Decimal("330.00")) == 10 * DAY
    assert period_share(payment=payment, money=Decimal("0.01")) == timedelta(seconds=26)  # 25.1 s, half up
    assert period_share(payment=Payment(amount=Decimal("10.00"), period_days=0), money=Decimal(5)) == timedelta(0)


def test_partial_refund_through_yookassa_shortens_the_period_and_the_callback_is_stored_once(
    user, yookassa, hook, django_capture_on_commit_callbacks, mailoutbox
):
    payment = _paid(user, yookassa, hook)
    end = Subscription.objects.get(user=user).period_end
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_refund(payment=payment, amount=Decimal("330.00"))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.refunded_amount == Decimal("330.00")
    assert yookassa.payments[payment.provider_payment_id]["refunded_amount"]["value"] == "330.00"
    sub = Subscription.objects.get(user=user)
    assert sub.status == "active" and sub.period_end == end - 10 * DAY
    assert selectors.plan_effective(user=user).code == "start"
    refund = Refund.objects.get(payment=payment)
    assert refund.status == Refund.Status.SUCCEEDED and refund.provider_refund_id
    # YooKassa's refund.succeeded notification: stored once, changes nothing more, however often sent.
    body = yookassa.outbox[-1]
    assert b"refund.succeeded" in body
    assert hook("yookassa", body).json()["outcome"] == "noop"
    assert hook("yookassa", body).json()["outcome"] == "duplicate"
    event = ProviderEvent.objects.get(event_id=f"refund.succeeded:{refund.provider_refund_id}")
    assert event.deliveries == 2
    assert Subscription.objects.get(user=user).period_end == end - 10 * DAY
    assert SubscriptionEvent.objects.filter(subscription=sub, reason="partial_refund").count() == 1
    note = Notification.objects.get(user=user, event="billing_partial_refund")
    assert note.title == "Частичный возврат 330.00 RUB"
    assert (end - 10 * DAY).strftime("%Y-%m-%d") in note.body


def test_a_partial_refund_made_on_the_provider_side_is_applied_from_its_callback(user, yookassa, hook):
    payment = _paid(user, yookassa, hook)
    end = Subscription.objects.get(user=user).period_end
    with yookassa.lock:  # an operator refunds 99 RUB in YooKassa's dashboard
        yookassa._refund(yookassa.payments[payment.provider_payment_id], {"value": "99.00", "currency": "RUB"})
    yookassa._flush()
    assert hook("yookassa", yookassa.outbox[-1]).json()["outcome"] == "applied"
    assert Subscription.objects.get(user=user).period_end == end - 3 * DAY
    services.payments_reconcile()  # reconciliation sees the same total: nothing more
    assert Subscription.objects.get(user=user).period_end == end - 3 * DAY


def test_resubmitted_refund_form_refunds_once(user, yookassa, hook):
    payment = _paid(user, yookassa, hook)
    key = "4f0b6f0e-1c1e-4c63-9a55-3b8c3f2b8a11"
    services.payment_refund(payment=payment, amount=Decimal("100.00"), key=key)
    services.payment_refund(payment=payment, amount=Decimal("100.00"), key=key)
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("100.00") and Refund.objects.filter(payment=payment).count() == 1
    assert yookassa.payments[payment.provider_payment_id]["refunded_amount"]["value"] == "100.00"


def test_refunding_the_rest_takes_the_plan_back(user, yookassa, hook):
    payment = _paid(user, yookassa, hook)
    services.payment_refund(payment=payment, amount=Decimal("330.00"))
    services.payment_refund(payment=payment)  # all that is left
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED and payment.refunded_amount == Decimal("990.00")
    assert Subscription.objects.get(user=user).status == "expired"
    assert selectors.plan_effective(user=user).code == "free"
    assert [r.amount for r in Refund.objects.filter(payment=payment).order_by("id")] == [330, 660]


@pytest.mark.parametrize("amount", ["0", "-1", "990.01", "0.001", "NaN"])
def test_a_refund_beyond_what_is_left_is_refused_and_changes_nothing(user, yookassa, hook, amount):
    payment = _paid(user, yookassa, hook)
    with pytest.raises(DomainError) as exc:
        services.payment_refund(payment=payment, amount=Decimal(amount))
    assert exc.value.code == "billing_refund_amount"
    assert not Refund.objects.exists()
    assert yookassa.payments[payment.provider_payment_id].get("refunded_amount") is None


def test_provider_down_leaves_the_refund_new_and_the_same_form_retries_it(user, yookassa, hook, settings):
    payment = _paid(user, yookassa, hook)
    key = "0d8e6c52-9a55-4d7b-8e3c-7a4c8d7b2f10"
    up = settings.SETKA_YOOKASSA_API_URL
    settings.SETKA_YOOKASSA_API_URL = "http://127.0.0.1:9/v3"
    from billing.providers import ProviderError

    with pytest.raises(ProviderError):
        services.payment_refund(payment=payment, amount=Decimal("330.00"), key=key)
    assert Refund.objects.get(payment=payment).status == Refund.Status.NEW
    settings.SETKA_YOOKASSA_API_URL = up
    services.payment_refund(payment=payment, amount=Decimal("330.00"), key=key)
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("330.00") and Refund.objects.get().status == Refund.Status.SUCCEEDED


def test_crypto_partial_refund_is_recorded_after_a_transfer(user, cryptopay, hook):
    from tests.billing.test_subscriptions import _paid as credited

    payment = credited(user, "start", currency="USDT", amount=Decimal("10.00"))
    end = Subscription.objects.get(user=user).period_end
    payment.provider_payment_id = "ci-1"
    payment.save()
    services.payment_refund(payment=payment, amount=Decimal("2.50"), provider_call=False)
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("2.50")
    assert Subscription.objects.get(user=user).period_end == end - timedelta(days=7, hours=12)
    assert Refund.objects.get(payment=payment).status == Refund.Status.RECORDED


def test_admin_partial_refund_form(admin_client, user, yookassa, hook):
    payment = _paid(user, yookassa, hook)
    form = admin_client.post("/admin/billing/payment/", {"action": "refund_part", "_selected_action": [payment.pk]})
    assert form.status_code == 200 and re.search(rb"at most 990[.,]00 RUB left", form.content)
    key = form.context["form"].initial["key"]
    data = {"action": "refund_part", "_selected_action": [payment.pk], "apply": "1", "amount": "330", "key": key}
    done = admin_client.post("/admin/billing/payment/", data, follow=True)
    assert b"330.00 RUB refunded (330.00 of 990.00 in all)" in done.content
    admin_client.post("/admin/billing/payment/", data, follow=True)  # the browser re-sent the form
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("330.00")
    bad = admin_client.post(
        "/admin/billing/payment/", {**data, "amount": "5000", "key": str(uuid.uuid4())}, follow=True
    )
    assert b"between 0.01 and 660.00 RUB" in bad.content
