"""Browser: a paid plan about to end is renewed from the billing page; the fake YooKassa page takes
the payment, the callback arrives and the next period is added after the current one (not from
today). A partly refunded payment says how much came back. Phone and desktop, Russian and English.

Runs on the billing journey's stack (its fakes and open registration)."""

# ruff: noqa: F811 - the test takes the stack fixtures imported below by name

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import FRONTEND, _db, login, make_user
from tests.e2e.test_billing_journey import e2e_stack, fakes  # noqa: F401 - the stack with the payment fakes

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db]


def _texts(lang: str) -> dict:
    return json.loads((FRONTEND / "i18n" / "locales" / f"{lang}.json").read_text())["billing"]


def _paid_plan_ending_soon(django_db_blocker, email: str, lang: str):
    """Paid 28 days ago for "start" (30 days) through YooKassa; 330 of the 990 RUB refunded since."""

    def make():
        from decimal import Decimal

        from django.contrib.auth import get_user_model
        from django.db import transaction
        from django.utils import timezone

        from billing.models import Payment, Plan
        from billing.services.subscriptions import subscription_credit_payment, subscription_locked

        user = get_user_model().objects.get(email=email)
        user.language = lang
        user.save(update_fields=["language"])
        plan = Plan.objects.get(code="start")
        paid_at = timezone.now() - timedelta(days=28)
        with transaction.atomic():
            payment = Payment.objects.create(
                user=user,
                plan=plan,
                provider="yookassa",
                amount=Decimal("990.00"),
                currency="RUB",
                period_days=30,
                status=Payment.Status.SUCCEEDED,
                credited_at=paid_at,
                seller="test",
                provider_payment_id=f"e2e-{user.pk}",
                refunded_amount=Decimal("330.00"),
            )
            sub = subscription_locked(user=user)
            subscription_credit_payment(sub=sub, payment=payment, now=paid_at)
        return payment.pk, sub.period_end

    return _db(django_db_blocker, make)


def _period_end(django_db_blocker, email: str):
    from billing.models import Subscription

    return _db(django_db_blocker, lambda: Subscription.objects.get(user__email=email).period_end)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_renew_from_the_billing_page_adds_the_period_after_the_current_one(
    page,
    lang,
    e2e_stack,
    fakes,
    django_db_blocker,
    shot,
):
    yoo, _ = fakes
    texts = _texts(lang)
    email, password = make_user(django_db_blocker)
    payment_id, end = _paid_plan_ending_soon(django_db_blocker, email, lang)
    page.goto("/login")
    page.evaluate("lang => localStorage.setItem('setka_lang', lang)", lang)
    page.reload()
    login(page, email, password, next_path="/billing")

    expect(page.get_by_test_id("renew-due")).to_be_visible()
    expect(page.get_by_test_id(f"refunded-{payment_id}")).to_contain_text("330")
    expect(page.get_by_test_id(f"refunded-{payment_id}")).to_contain_text(texts["partlyRefunded"].split("{")[0].strip())
    shot(page, f"billing-renew-due-{lang}")

    page.get_by_test_id("renew-link").click()
    page.wait_for_url("**/pricing")
    card = page.get_by_test_id("plan-start")
    expect(card.get_by_test_id("renew")).to_have_text(texts["renew"])
    expect(card.get_by_test_id("renew-hint")).to_contain_text(texts["renewHint"].split("{")[0].strip())
    shot(page, f"pricing-renew-{lang}")
    card.get_by_test_id("renew").click()
    page.wait_for_url(re.compile(re.escape(yoo.url) + r"/checkout/"))
    expect(page.get_by_test_id("fake-amount")).to_have_text("990.00 RUB")
    page.get_by_test_id("fake-pay").click()
    page.wait_for_url(re.compile(r"/billing\?payment="))
    expect(page.get_by_test_id("payment-succeeded")).to_be_visible()
    expect(page.get_by_test_id("renew-due")).to_have_count(0)
    assert _period_end(django_db_blocker, email) == end + timedelta(days=30)  # from the end, not from today
    shot(page, f"billing-renewed-{lang}")
