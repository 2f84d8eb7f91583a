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
