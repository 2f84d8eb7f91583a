"""Operators in admin: refund through the provider takes the plan back; comp and extend."""

import pytest

from billing import selectors, services
from billing.models import Payment, Plan, Subscription

pytestmark = pytest.mark.django_db


def test_refund_action_through_yookassa_takes_the_plan_back(admin_client, user, yookassa):
    payment = services.checkout_create(user=user, plan_code="start", provider="yookassa")
    yookassa.pay(payment.provider_payment_id)
    services.payments_reconcile()
    assert selectors.plan_effective(user=user).code == "start"
    response = admin_client.post(
        "/admin/billing/payment/", {"action": "refund", "_selected_action": [payment.pk]}, follow=True
    )
    assert response.status_code == 200 and b"refunded" in response.content
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUNDED
    assert yookassa.payments[payment.provider_payment_id]["refunded_amount"]["value"] == "990.00"
    assert selectors.plan_effective(user=user).code == "free"


def test_comp_and_extend_actions(admin_client, user):
    services.subscription_comp(user=user, plan=Plan.objects.get(code="start"), days=1)
    sub = Subscription.objects.get(user=user)
    form = admin_client.post("/admin/billing/subscription/", {"action": "comp_plan", "_selected_action": [sub.pk]})
    assert form.status_code == 200 and b"Comp a plan" in form.content
    pro = Plan.objects.get(code="pro")
    admin_client.post(
        "/admin/billing/subscription/",
        {
            "action": "comp_plan",
            "_selected_action": [sub.pk],
            "apply": "1",
            "plan": pro.pk,
            "days": 30,
            "note": "partner",
        },
    )
    sub.refresh_from_db()
    assert (sub.plan.code, sub.comped) == ("pro", True)
    end = sub.period_end
    admin_client.post(
        "/admin/billing/subscription/",
        {"action": "extend_plan", "_selected_action": [sub.pk], "apply": "1", "days": 7, "note": ""},
    )
    sub.refresh_from_db()
    assert (sub.period_end - end).days == 7
    assert admin_client.get(f"/admin/billing/subscription/{sub.pk}/change/").status_code == 200
    for path in ("payment", "providerevent", "rejectedcallback", "plan", "cyclehold", "profitsharemonth"):
        assert admin_client.get(f"/admin/billing/{path}/").status_code == 200, path
