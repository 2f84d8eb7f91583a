"""The "pay from profit" fee: a worked example to the cent, the monthly cap, and accrual that
counts each cent of realized grid profit once."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing import selectors, services
from billing.models import Plan, ProfitShareMonth
from metrics.models import BotMetrics
from tests.billing.conftest import live_bot


def test_worked_example_to_the_cent():
    # Three cycles closed this month: 12.345678 + 7.654321 + 3.100000 = 23.099999 USDT of grid
    # profit. 20 % of it is 4.6199998: the fee is rounded DOWN to the cent -> 4.61 USDT.
    profit = Decimal("12.345678") + Decimal("7.654321") + Decimal("3.100000")
    assert profit == Decimal("23.099999")
    assert services.profit_share_fee(profit=profit, rate=Decimal("0.2"), cap=Decimal("50")) == Decimal("4.61")
    # 300 USDT of profit would be 60.00 at 20 %: the monthly cap holds it at 50.00.
    assert services.profit_share_fee(profit=Decimal("300"), rate=Decimal("0.2"), cap=Decimal("50")) == Decimal("50.00")
    # A losing month costs nothing.
    assert services.profit_share_fee(profit=Decimal("-5"), rate=Decimal("0.2"), cap=Decimal("50")) == Decimal("0.00")


@pytest.mark.django_db
def test_accrual_from_realized_grid_profit_counts_each_cent_once(user):
    plan = Plan.objects.get(code="profit")
    bot = live_bot(user)
    BotMetrics.objects.create(bot=bot, grid_profit=Decimal("40"))  # made before joining: not charged
    services.subscription_profit_share_join(user=user, plan=plan)
    now = datetime(2026, 11, 15, tzinfo=UTC)

    BotMetrics.objects.filter(bot=bot).update(grid_profit=Decimal("52.345678"))
    month = services.profit_share_accrue(user=user, now=now)
    assert month.profit == Decimal("12.345678") and month.fee == Decimal("2.46")
    assert services.profit_share_accrue(user=user, now=now).fee == Decimal("2.46")  # idempotent

    BotMetrics.objects.filter(bot=bot).update(grid_profit=Decimal("63.099999"))
    month = services.profit_share_accrue(user=user, now=now)
    assert month.profit == Decimal("23.099999") and month.fee == Decimal("4.61")

    # A bot started after joining counts from zero; December starts a new month.
    second = live_bot(user)
    BotMetrics.objects.create(bot=second, grid_profit=Decimal("500"))
    december = services.profit_share_accrue(user=user, now=datetime(2026, 12, 1, 1, tzinfo=UTC))
    assert december.profit == Decimal("500") and december.fee == Decimal("50.00")  # capped
    assert ProfitShareMonth.objects.get(user=user, month="2026-11-01").fee == Decimal("4.61")
    assert selectors.profit_share_month(user=user, now=datetime(2026, 12, 20, tzinfo=UTC)).fee == Decimal("50.00")


@pytest.mark.django_db
def test_a_finished_months_fee_is_invoiced_once_and_paid_in_usdt(user, cryptopay, hook):
    from billing.models import Payment

    services.subscription_profit_share_join(user=user, plan=Plan.objects.get(code="profit"))
    bot = live_bot(user)
    BotMetrics.objects.create(bot=bot, grid_profit=Decimal("23.099999"))
    services.profit_share_accrue(user=user, now=datetime(2026, 11, 20, tzinfo=UTC))
    assert services.profit_share_invoice_due(now=datetime(2026, 11, 30, tzinfo=UTC)) == 0  # November not over
    assert services.profit_share_invoice_due(now=datetime(2026, 12, 1, 0, 5, tzinfo=UTC)) == 1
    assert services.profit_share_invoice_due(now=datetime(2026, 12, 1, 1, tzinfo=UTC)) == 0  # once
    payment = Payment.objects.get(purpose=Payment.Purpose.PROFIT_SHARE)
    assert (payment.amount, payment.currency, payment.status) == (Decimal("4.61"), "USDT", Payment.Status.PENDING)
    assert cryptopay.invoices[int(payment.provider_payment_id)]["amount"] == "4.61"
    cryptopay.pay(int(payment.provider_payment_id))
    body, headers = cryptopay.outbox[-1]
    assert hook("cryptopay", body, headers=headers).json()["outcome"] == "applied"
    month = ProfitShareMonth.objects.get(user=user, month="2026-11-01")
    assert month.paid_at is not None and month.payment_id == payment.pk
    assert selectors.plan_effective(user=user).code == "profit"  # the plan itself is untouched
