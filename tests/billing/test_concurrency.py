"""The same callback delivered twice at the same moment (two web workers): stored once, credited
once. And the periodic jobs are declared where schedules live."""

import threading

import pytest
from django.db import connection

from billing import services
from billing.models import Payment, ProviderEvent, SubscriptionEvent


@pytest.mark.django_db(transaction=True)
def test_simultaneous_duplicate_callbacks_credit_once(user, yookassa):
    payment = services.checkout_create(user=user, plan_code="start", provider="yookassa")
    yookassa.pay(payment.provider_payment_id)
    body = yookassa.outbox[-1]
    start = threading.Barrier(4)
    outcomes = []

    def deliver():
        try:
            start.wait()
            outcomes.append(
                services.webhook_receive(provider="yookassa", body=body, headers={}, remote_addr="127.0.0.1")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(outcomes) == 4 and all(code == 200 for code, _ in outcomes)
    assert [o for _, o in outcomes].count("applied") == 1
    assert ProviderEvent.objects.count() == 1 and ProviderEvent.objects.get().deliveries == 4
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert SubscriptionEvent.objects.filter(reason="payment").count() == 1


@pytest.mark.django_db
def test_billing_jobs_are_scheduled():
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("setup_schedules", stdout=open("/dev/null", "w"))
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "billing.tasks.billing_reconcile_task",
        "billing.tasks.billing_subscriptions_advance_task",
        "billing.tasks.billing_profit_share_accrue_task",
    } <= tasks
