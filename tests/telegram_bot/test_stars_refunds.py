"""Refunding a plan paid in Telegram Stars, from billing's admin, through the Bot API's
refundStarPayment on the fake (real wire, aiogram client). The plan is paid on the fake as a user
would (invoice, pre-checkout answered, successful_payment applied by the bot's own functions);
the operator's refund writes the Refund row first, calls Telegram once, takes the rest of the
period back once and reverses the referrer's reward; a re-sent form refunds nothing more."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import requests
from aiogram.types import Message
from django.test import override_settings

from billing import services as billing
from billing.models import Payment, Plan, ProviderEvent, Refund, Subscription
from billing.providers import ProviderError
from referrals import services as referrals
from referrals.models import Reward
from telegram_bot import stars
from telegram_bot.models import TelegramLink
from tests.factories import UserFactory
from tests.telegram_bot.conftest import TOKEN

pytestmark = pytest.mark.django_db

CHAT = 7_300_001


@pytest.fixture
def telegram(fake_telegram):
    with override_settings(
        SETKA_TELEGRAM_API_URL=fake_telegram.url,
        SETKA_TELEGRAM_BOT_TOKEN=TOKEN,
        SETKA_TELEGRAM_LIMIT_PREFIX=f"test:stars:{time.monotonic_ns()}",
    ):
        yield fake_telegram


def _api(fake, method: str, **params) -> dict:
    return requests.post(f"{fake.url}/bot{TOKEN}/{method}", json=params, timeout=10).json()


def _next_update(fake, key: str, offset: list[int]) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for update in _api(fake, "getUpdates", offset=offset[0], timeout=0)["result"]:
            offset[0] = update["update_id"] + 1
            if key in update or key in update.get("message", {}):
                return update
        time.sleep(0.02)
    raise AssertionError(f"no {key} update")


def _pay_in_stars(fake, user, chat: int) -> Payment:
    """The user buys the plan in the chat: the invoice, Telegram's pre-checkout question answered
    by our check, then the successful_payment message applied as the bot process applies it."""
    offset = [0]
    fake.control("message", user_id=chat, text="/plans", language_code="en")
    _next_update(fake, "text", offset)
    TelegramLink.objects.get_or_create(user=user, defaults={"chat_id": chat})
    plan = Plan.objects.get(code="start")
    invoice = stars.stars_invoice_create(chat_id=chat, plan_code=plan.code)
    sent = _api(
        fake,
        "sendInvoice",
        chat_id=chat,
        title=invoice["title"],
        description=invoice["description"],
        payload=invoice["payload"],
        currency="XTR",
        prices=[{"label": invoice["title"], "amount": invoice["amount"]}],
    )["result"]
    answer: dict = {}
    pay = threading.Thread(
        target=lambda: answer.update(fake.control("pay", user_id=chat, message_id=sent["message_id"]))
    )
    pay.start()
    query = _next_update(fake, "pre_checkout_query", offset)["pre_checkout_query"]
    problem = stars.stars_precheckout(
        chat_id=chat, payload=query["invoice_payload"], currency=query["currency"], total_amount=query["total_amount"]
    )
    assert problem is None
    _api(fake, "answerPreCheckoutQuery", pre_checkout_query_id=query["id"], ok=True)
    pay.join(10)
    assert answer["paid"] is True
    message = Message.model_validate(_next_update(fake, "successful_payment", offset)["message"])
    assert message.successful_payment is not None
    outcome = stars.stars_payment_received(
        chat_id=chat,
        payment=message.successful_payment.model_dump(),
        update=message.model_dump(mode="json", exclude_none=True),
    )
    assert outcome == "applied"
    return Payment.objects.get(provider=stars.PROVIDER, provider_payment_id=invoice["payload"])


def _charge(fake, payment: Payment) -> dict:
    charge_id = ProviderEvent.objects.get(provider=stars.PROVIDER, provider_payment_id=payment.provider_payment_id)
    charges = requests.get(f"{fake.url}/_control/{TOKEN}/charges", timeout=5).json()
    return charges[charge_id.event_id]


def test_operator_refunds_a_stars_payment_once_from_admin(telegram, admin_client):
    referrer = UserFactory()
    user = UserFactory(language="en")
    code = referrals.partner_ensure(user=referrer).codes.get(custom=False).code
    referrals.referral_attribute(user=user, code=code, source="telegram", ip="10.3.0.4", device="dev-s")
    payment = _pay_in_stars(telegram, user, CHAT)
    assert payment.status == Payment.Status.SUCCEEDED and payment.currency == "XTR"
    assert Subscription.objects.get(user=user).status == "active"
    reward = Reward.objects.get(payment=payment)
    assert reward.status != "reversed"

    # The operator opens the refund form for the Stars payment and sends all of it; the browser
    # then sends the same form again.
    form = admin_client.post("/admin/billing/payment/", {"action": "refund_part", "_selected_action": [payment.pk]})
    key = str(form.context["form"].initial["key"])
    data = {
        "action": "refund_part",
        "_selected_action": [payment.pk],
        "apply": "1",
        "amount": str(payment.amount),
        "key": key,
    }
    done = admin_client.post("/admin/billing/payment/", data, follow=True)
    assert f"{payment.amount:.2f} XTR refunded".encode() in done.content
    again = admin_client.post("/admin/billing/payment/", data, follow=True)
    assert again.status_code == 200
    # The "refund" action pressed again on the refunded payment is refused, not sent.
    refused = admin_client.post(
        "/admin/billing/payment/", {"action": "refund", "_selected_action": [payment.pk]}, follow=True
    )
    assert b"Only a credited, not yet refunded payment can be refunded." in refused.content

    charge = _charge(telegram, payment)
    assert charge["refunded"] is True and charge["refund_calls"] == 1  # Telegram was asked once
    refund = Refund.objects.get(payment=payment)
    assert refund.status == Refund.Status.SUCCEEDED and str(refund.idempotence_key) == key
    assert refund.provider_refund_id == ProviderEvent.objects.get(provider=stars.PROVIDER).event_id
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED and payment.refunded_amount == payment.amount
    sub = Subscription.objects.get(user=user)
    assert sub.status == "expired"  # the whole period taken back, once
    assert sub.events.filter(reason="refund").count() == 1
    assert Reward.objects.get(payment=payment).status == "reversed"
    # Telegram's own refunded_payment message reached the bot's updates.
    refunded = _api(telegram, "getUpdates", offset=0, timeout=0)["result"]
    assert any(u.get("message", {}).get("refunded_payment") for u in refunded)
    # Reconciliation reads the same refunded total and changes nothing.
    billing.payments_reconcile()
    assert Subscription.objects.get(user=user).events.filter(reason="refund").count() == 1


def test_a_refund_whose_answer_was_lost_is_retried_with_the_same_key_and_telegram_says_already_refunded(telegram):
    user = UserFactory(language="ru")
    payment = _pay_in_stars(telegram, user, CHAT + 1)
    key = "7f1f0a4e-0c55-4b7e-9d2a-1c4f3e2b9a77"
    refund = Refund.objects.create(payment=payment, amount=payment.amount, idempotence_key=key)
    # Telegram refunded the charge, but our process died before it recorded the answer.
    user_id, charge_id = stars._charge_of(payment)
    assert _api(telegram, "refundStarPayment", user_id=user_id, telegram_payment_charge_id=charge_id) == {
        "ok": True,
        "result": True,
    }
    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.NEW
    billing.payment_refund(payment=payment, key=key)  # the same form sent again
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and Refund.objects.filter(payment=payment).count() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert Subscription.objects.get(user=user).events.filter(reason="refund").count() == 1


def test_the_fake_answers_refunds_as_telegram_does(telegram):
    user = UserFactory()
    payment = _pay_in_stars(telegram, user, CHAT + 2)
    user_id, charge_id = stars._charge_of(payment)
    assert user_id == CHAT + 2
    unknown = _api(telegram, "refundStarPayment", user_id=user_id, telegram_payment_charge_id="stxNOPE")
    assert unknown == {"ok": False, "error_code": 400, "description": "Bad Request: CHARGE_NOT_FOUND"}
    other = _api(telegram, "refundStarPayment", user_id=user_id + 1, telegram_payment_charge_id=charge_id)
    assert other["description"] == "Bad Request: USER_ID_INVALID"
    assert _api(telegram, "refundStarPayment", user_id=user_id, telegram_payment_charge_id=charge_id)["result"] is True
    twice = _api(telegram, "refundStarPayment", user_id=user_id, telegram_payment_charge_id=charge_id)
    assert twice["description"] == "Bad Request: CHARGE_ALREADY_REFUNDED"


def test_a_part_of_a_stars_payment_cannot_be_refunded_and_nothing_changes(telegram):
    user = UserFactory()
    payment = _pay_in_stars(telegram, user, CHAT + 3)
    with pytest.raises(ProviderError, match="whole payment"):
        billing.payment_refund(payment=payment, amount=Decimal(1))
    assert _charge(telegram, payment)["refund_calls"] == 0
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.refunded_amount == 0
    assert Subscription.objects.get(user=user).status == "active"
