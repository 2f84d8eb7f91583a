"""The crypto rail (Crypto Pay, USDT) against its fake: signed callbacks credit once; forged,
replayed and mismatched ones change nothing and are logged."""

import json

import pytest

from billing import selectors, services
from billing.fakes.cryptopay import sign
from billing.models import Payment, ProviderEvent, RejectedCallback
from tests.billing.conftest import TOKEN

pytestmark = pytest.mark.django_db


def _checkout(user, plan="start"):
    return services.checkout_create(user=user, plan_code=plan, provider="cryptopay")


def test_signed_paid_update_activates_the_plan(user, cryptopay, hook):
    payment = _checkout(user)
    assert (payment.amount, payment.currency) == (10, "USDT") and "non-RU" in payment.seller
    assert payment.confirmation_url.startswith(cryptopay.url + "/invoice/")
    cryptopay.pay(int(payment.provider_payment_id))
    body, headers = cryptopay.outbox[-1]
    assert hook("cryptopay", body, headers=headers).json()["outcome"] == "applied"
    assert selectors.plan_effective(user=user).code == "start"


def test_forged_signature_is_rejected_and_logged(user, cryptopay, hook):
    payment = _checkout(user)
    invoice = dict(cryptopay.invoices[int(payment.provider_payment_id)], status="paid")
    body = cryptopay.update_body(invoice)
    bad = {"crypto-pay-api-signature": sign("another-token", body)}
    assert hook("cryptopay", body, headers=bad).status_code == 403
    assert hook("cryptopay", body).status_code == 403  # unsigned
    assert RejectedCallback.objects.filter(provider="cryptopay", reason="bad_signature").count() == 2
    assert not ProviderEvent.objects.exists() and selectors.plan_effective(user=user).code == "free"


def test_correctly_signed_but_unpaid_invoice_is_not_credited(user, cryptopay, hook):
    """A validly signed update whose invoice the provider still shows as active (e.g. signed
    with a leaked token): we act only on the fetched invoice."""
    payment = _checkout(user)
    invoice = dict(cryptopay.invoices[int(payment.provider_payment_id)], status="paid")
    body = cryptopay.update_body(invoice)
    assert hook("cryptopay", body, headers={"crypto-pay-api-signature": sign(TOKEN, body)}).json()["outcome"] == "noop"
    assert Payment.objects.get().credited_at is None


def test_replayed_and_duplicated_updates_credit_once(user, cryptopay, hook):
    payment = _checkout(user)
    cryptopay.pay(int(payment.provider_payment_id))
    body, headers = cryptopay.outbox[-1]
    assert hook("cryptopay", body, headers=headers).json()["outcome"] == "applied"
    period_end = payment.user.subscription.period_end
    assert hook("cryptopay", body, headers=headers).json()["outcome"] == "duplicate"
    # The same payment in a new update (provider retry with a fresh update_id): still once.
    again = cryptopay.update_body(cryptopay.invoices[int(payment.provider_payment_id)])
    assert (
        hook("cryptopay", again, headers={"crypto-pay-api-signature": sign(TOKEN, again)}).json()["outcome"] == "noop"
    )
    payment.user.subscription.refresh_from_db()
    assert payment.user.subscription.period_end == period_end


def test_amount_or_asset_mismatch_is_not_credited(user, cryptopay, hook):
    payment = _checkout(user)
    cryptopay.tamper_amount(int(payment.provider_payment_id), "1", "TON")
    cryptopay.pay(int(payment.provider_payment_id))
    body, headers = cryptopay.outbox[-1]
    assert hook("cryptopay", body, headers=headers).json()["outcome"] == "mismatch"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.MISMATCH and selectors.plan_effective(user=user).code == "free"


def test_manual_refund_of_a_crypto_payment_takes_the_plan_back(user, cryptopay, hook):
    payment = _checkout(user)
    cryptopay.pay(int(payment.provider_payment_id))
    body, headers = cryptopay.outbox[-1]
    hook("cryptopay", body, headers=headers)
    services.payment_refund(payment=Payment.objects.get(pk=payment.pk), provider_call=False)
    assert selectors.plan_effective(user=user).code == "free"
    assert json.loads(body)["update_type"] == "invoice_paid"
