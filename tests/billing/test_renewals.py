"""Renewals: paying for the next period extends from the period end (early, in the trial, late in
past due or grace), never from today; reminders before the end, once per period; an unpaid period
goes past due -> grace -> expired and holds the bots beyond the free plan."""

from datetime import timedelta

import pytest

from billing import services
from billing.models import CycleHold, Plan, Subscription, SubscriptionEvent
from notifications.models import Notification
from tests.billing.conftest import live_bot
from tests.billing.test_subscriptions import T0, _paid

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def test_paying_early_adds_the_next_period_after_the_current_one(user):
    _paid(user, "start", now=T0)
    _paid(user, "start", now=T0 + 20 * DAY)  # ten days before the end
    sub = Subscription.objects.get(user=user)
    assert sub.status == "active" and sub.period_end == T0 + 60 * DAY  # not T0 + 50 days
    assert sub.events.first().reason == "renewal"


@pytest.mark.parametrize("late_by, status", [(2 * DAY, "grace"), (timedelta(hours=3), "past_due")])
def test_paying_late_continues_from_the_period_end_not_from_today(user, late_by, status):
    _paid(user, "start", now=T0)
    paid_at = T0 + 30 * DAY + late_by
    services.subscription_advance(user=user, now=paid_at)
    assert Subscription.objects.get(user=user).status == status
    _paid(user, "start", now=paid_at)
    sub = Subscription.objects.get(user=user)
    assert sub.status == "active" and sub.grace_until is None
    assert sub.period_start == T0 + 30 * DAY and sub.period_end == T0 + 60 * DAY


def test_paying_in_the_trial_keeps_the_trial_days(user):
    services.subscription_trial_start(user=user, plan=Plan.objects.get(code="start"), now=T0)
    _paid(user, "start", now=T0 + 2 * DAY)
    sub = Subscription.objects.get(user=user)
    assert sub.status == "active" and sub.period_end == T0 + 7 * DAY + 30 * DAY


def test_after_expiry_a_payment_starts_a_new_period_today(user):
    _paid(user, "start", now=T0)
    services.subscription_advance(user=user, now=T0 + 45 * DAY)
    assert Subscription.objects.get(user=user).status == "expired"
    _paid(user, "start", now=T0 + 45 * DAY)
    assert Subscription.objects.get(user=user).period_end == T0 + 75 * DAY


def test_a_renewal_through_yookassa_extends_from_the_end(user, yookassa, hook):
    first = services.checkout_create(user=user, plan_code="start", provider="yookassa")
    yookassa.pay(first.provider_payment_id)
    hook("yookassa", yookassa.outbox[-1])
    end = Subscription.objects.get(user=user).period_end
    quote = services.checkout_quote(user=user, plan=Plan.objects.get(code="start"), provider="yookassa")
    assert quote["purpose"] == "subscription" and quote["amount"] == Plan.objects.get(code="start").price_rub
    second = services.checkout_create(user=user, plan_code="start", provider="yookassa")
    yookassa.pay(second.provider_payment_id)
    hook("yookassa", yookassa.outbox[-1])
    hook("yookassa", yookassa.outbox[-1])  # delivered twice: extended once
    assert Subscription.objects.get(user=user).period_end == end + 30 * DAY


def test_reminder_before_the_end_once_per_period(user, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.SETKA_BILLING_REMIND_DAYS = 3
    _paid(user, "start", now=T0)
    assert services.subscriptions_remind_due(now=T0 + 26 * DAY) == 0  # four days left: not yet
    with django_capture_on_commit_callbacks(execute=True):
        assert services.subscriptions_remind_due(now=T0 + 27 * DAY + timedelta(hours=1)) == 1
    assert services.subscriptions_remind_due(now=T0 + 28 * DAY) == 0  # told already
    note = Notification.objects.get(user=user, event="billing_renewal_due")
    assert note.title == f"Тариф «Старт» заканчивается {(T0 + 30 * DAY):%Y-%m-%d}"
    assert any("Тариф «Старт» заканчивается" in m.subject for m in mailoutbox)
    # Renewed: the next period's end gets its own reminder, three days before it.
    _paid(user, "start", now=T0 + 28 * DAY)
    assert services.subscriptions_remind_due(now=T0 + 29 * DAY) == 0
    assert services.subscriptions_remind_due(now=T0 + 58 * DAY) == 1


def test_free_and_profit_share_plans_get_no_reminder(user):
    other = type(user).objects.create_user(email="share@example.com", password="x-Strong-pass-1")
    services.subscription_profit_share_join(user=other, plan=Plan.objects.get(code="profit"), now=T0)
    assert services.subscriptions_remind_due(now=T0 + 29 * DAY) == 0


def test_unpaid_period_goes_past_due_grace_expired_and_holds_the_extra_bots(user, settings):
    settings.SETKA_BILLING_PAST_DUE_HOURS, settings.SETKA_BILLING_GRACE_DAYS = 24, 7
    _paid(user, "start", now=T0)
    first, second = live_bot(user), live_bot(user)
    steps = []
    for at in (T0 + 30 * DAY, T0 + 31 * DAY, T0 + 38 * DAY):
        steps.append(services.subscription_advance(user=user, now=at).status)
    assert steps == ["past_due", "grace", "expired"]
    assert list(CycleHold.objects.filter(bot__user=user).values_list("bot_id", flat=True)) == [second.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == "running"  # nothing cancelled, only no new cycles
    reasons = list(SubscriptionEvent.objects.filter(subscription__user=user).values_list("reason", flat=True))
    assert reasons[:3] == ["grace_over", "unpaid", "period_over"]
