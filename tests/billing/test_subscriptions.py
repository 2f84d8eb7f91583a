"""The subscription state machine on the clock, prorated upgrades/downgrades (exact Decimal),
operators' comp/extend, and expiry that never cancels a grid: bots beyond the free plan get a
hold (no new cycles), keep their orders, and the user is emailed."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing import selectors, services
from billing.models import CycleHold, Payment, Plan, Subscription, SubscriptionEvent
from billing.services.subscriptions import subscription_credit_payment, subscription_locked
from tests.billing.conftest import live_bot

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _paid(user, plan_code="start", *, now=T0, currency="RUB", purpose=Payment.Purpose.SUBSCRIPTION, amount=None):
    plan = Plan.objects.get(code=plan_code)
    payment = Payment.objects.create(
        user=user,
        plan=plan,
        provider="yookassa" if currency == "RUB" else "cryptopay",
        amount=amount or plan.price_rub,
        currency=currency,
        period_days=plan.period_days if purpose == Payment.Purpose.SUBSCRIPTION else 0,
        purpose=purpose,
        status=Payment.Status.SUCCEEDED,
        credited_at=now,
        seller="test",
    )
    sub = subscription_locked(user=user)
    subscription_credit_payment(sub=sub, payment=payment, now=now)
    return payment


def test_prorate_worked_examples():
    month = timedelta(days=30)
    # Start (990) -> Pro (2490) with 12 of 30 days left: (2490 - 990) x 12/30 = 600.00 RUB.
    assert services.prorate(amount=Decimal("1500"), remaining=timedelta(days=12), period=month) == Decimal("600.00")
    # 17 days 6 hours left: 1500 x 414 h / 720 h = 862.50 exactly.
    assert services.prorate(amount=Decimal("1500"), remaining=timedelta(days=17, hours=6), period=month) == Decimal(
        "862.50"
    )
    # One second left of 15 USDT difference: 15 x 1/2592000 = 0.0000057... -> 0.00.
    assert services.prorate(amount=Decimal("15"), remaining=timedelta(seconds=1), period=month) == Decimal("0.00")
    # 10 days left of 1500: 500.00 (no float 499.99999).
    assert services.prorate(amount=Decimal("1500"), remaining=timedelta(days=10), period=month) == Decimal("500.00")


def test_upgrade_is_charged_prorated_and_keeps_the_period(user, yookassa, hook):
    _paid(user, "start", now=T0)
    now = T0 + timedelta(days=18)  # 12 of 30 days left
    quote = services.checkout_quote(user=user, plan=Plan.objects.get(code="pro"), provider="yookassa", now=now)
    assert (quote["purpose"], quote["amount"], quote["currency"]) == ("upgrade", Decimal("600.00"), "RUB")
    payment = services.checkout_create(user=user, plan_code="pro", provider="yookassa", now=now)
    assert payment.amount == Decimal("600.00")
    assert yookassa.payments[payment.provider_payment_id]["amount"]["value"] == "600.00"
    subscription_credit_payment(sub=subscription_locked(user=user), payment=payment, now=now)
    sub = Subscription.objects.get(user=user)
    assert sub.plan.code == "pro" and sub.period_end == T0 + timedelta(days=30)


def test_downgrade_leaves_prorated_credit_spent_on_the_next_payment(user, yookassa):
    _paid(user, "pro", now=T0, amount=Decimal("2490"))
    sub = services.subscription_downgrade(user=user, plan=Plan.objects.get(code="start"), now=T0 + timedelta(days=20))
    assert sub.plan.code == "start" and sub.credit_rub == Decimal("500.00")  # 1500 x 10/30
    quote = services.checkout_quote(
        user=user, plan=Plan.objects.get(code="start"), provider="yookassa", now=T0 + timedelta(days=31)
    )
    assert quote["credit"] == Decimal("500.00") and quote["amount"] == Decimal("490.00")


def test_the_clock_active_past_due_grace_expired(user, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.SETKA_BILLING_PAST_DUE_HOURS, settings.SETKA_BILLING_GRACE_DAYS = 24, 7
    _paid(user, "start", now=T0)
    end = T0 + timedelta(days=30)

    def at(moment):
        with django_capture_on_commit_callbacks(execute=True):
            return services.subscription_advance(user=user, now=moment).status

    assert at(end - timedelta(seconds=1)) == "active"
    assert at(end) == "past_due"
    assert selectors.plan_effective(user=user).code == "start"  # still paid while past due
    assert at(end + timedelta(hours=24)) == "grace"
    assert Subscription.objects.get(user=user).grace_until == end + timedelta(days=8)
    assert selectors.plan_effective(user=user).code == "start"
    assert at(end + timedelta(days=8)) == "expired"
    assert selectors.plan_effective(user=user).code == "free"
    subjects = [m.subject for m in mailoutbox]
    assert subjects[-3:] == [
        "Оплатите тариф «Старт»",
        f"Льготный период до {end + timedelta(days=8):%Y-%m-%d %H:%M} UTC",
        "Тариф «Старт» закончился",
    ]
    reasons = list(SubscriptionEvent.objects.order_by("id").values_list("reason", flat=True))
    assert reasons == ["payment", "period_over", "unpaid", "grace_over"]


def test_a_long_pause_catches_up_in_one_pass(user):
    _paid(user, "start", now=T0)
    assert services.subscriptions_advance_due(now=T0 + timedelta(days=90)) == 1
    assert Subscription.objects.get(user=user).status == "expired"


def test_paying_in_grace_reactivates_and_lifts_holds(user):
    _paid(user, "start", now=T0)
    services.subscription_advance(user=user, now=T0 + timedelta(days=60))
    assert Subscription.objects.get(user=user).status == "expired"
    _paid(user, "start", now=T0 + timedelta(days=61))
    sub = Subscription.objects.get(user=user)
    assert sub.status == "active" and sub.period_end == T0 + timedelta(days=91)


def test_expiry_holds_only_bots_beyond_the_free_plan_and_keeps_them_running(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.factories import OrderFactory
    from trading.models import Order

    _paid(user, "start", now=T0)
    first = live_bot(user, investment="100", started_at=T0)
    second = live_bot(user, investment="200", started_at=T0 + timedelta(hours=1))
    protective = OrderFactory(bot=second, side="Sell", level=5, status="open")
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_advance(user=user, now=T0 + timedelta(days=60))
    assert set(CycleHold.objects.values_list("bot_id", flat=True)) == {second.pk}  # free plan: 1 live bot
    assert selectors.bot_new_cycles_allowed(bot_id=first.pk) and not selectors.bot_new_cycles_allowed(bot_id=second.pk)
    second.refresh_from_db()
    assert second.status == "running"  # never cancelled
    assert Order.objects.get(pk=protective.pk).status == "open"  # its protective order stays
    assert second.name in mailoutbox[-1].body
    _paid(user, "start", now=T0 + timedelta(days=61))
    assert not CycleHold.objects.exists()


def test_the_tick_places_only_closing_orders_while_held(user):
    from billing.selectors import bot_new_cycles_allowed
    from bots.engine.planner import PlannedOrder
    from bots.services.decide import closing_only
    from exchanges.client import OrderType, Side

    bot = live_bot(user)

    def planned(side):
        return PlannedOrder(
            client_order_id=f"x-{side}",
            side=side,
            order_type=OrderType.LIMIT,
            price=Decimal("1"),
            qty=Decimal("1"),
            level=1,
            purpose="grid",
        )

    place = [planned(Side.BUY), planned(Side.SELL)]
    assert bot_new_cycles_allowed(bot_id=bot.pk)
    CycleHold.objects.create(bot=bot)
    assert not bot_new_cycles_allowed(bot_id=bot.pk)
    # the decide room keeps only what closes: on spot a buy opens a cycle, on a short grid a sell
    assert [p.side for p in closing_only(place, opening=Side.BUY)] == [Side.SELL]
    assert [p.side for p in closing_only(place, opening=Side.SELL)] == [Side.BUY]


def test_operator_comp_and_extend(user, admin_user):
    sub = services.subscription_comp(
        user=user, plan=Plan.objects.get(code="pro"), days=14, actor=admin_user, note="partner", now=T0
    )
    assert (sub.status, sub.plan.code, sub.comped, sub.period_end) == ("active", "pro", True, T0 + timedelta(days=14))
    sub = services.subscription_extend(user=user, days=7, actor=admin_user, now=T0 + timedelta(days=1))
    assert sub.period_end == T0 + timedelta(days=21)
    event = SubscriptionEvent.objects.filter(reason="comp").get()
    assert event.actor == admin_user and event.note == "partner"


def test_trial_once(user):
    sub = services.subscription_trial_start(user=user, plan=Plan.objects.get(code="start"), now=T0)
    assert sub.status == "trial" and sub.period_end == T0 + timedelta(days=7)
    services.subscription_advance(user=user, now=T0 + timedelta(days=7))
    assert Subscription.objects.get(user=user).status == "expired"
    with pytest.raises(Exception) as exc:
        services.subscription_trial_start(user=user, plan=Plan.objects.get(code="start"), now=T0 + timedelta(days=8))
    assert exc.value.code == "billing_trial_used"
