"""Self-referral by the same payment instrument: billing stores a keyed fingerprint of the card
that paid (never the card); a referred user paying with a referrer's card (level 1 or 2), or a
referrer paying with a referred user's card, flags the attribution; its rewards are held until
an operator decides: cleared, they become available; rejected, they are reversed exactly.

Figures: B's first payment 891.00 (990.00 less the 10 % discount); A's 20 % = 178.20. C's first
payment 891.00: B 20 % = 178.20, A 5 % = 44.55."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import services as billing
from billing.models import Payment
from referrals import selectors, services
from referrals.models import Attribution, Reward
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
A_CARD = "4111111111111111"
AFTER_WINDOW = timedelta(days=15)


def _bal(user, kind, currency="RUB"):
    return selectors.balance(partner=selectors.partner_of(user=user), currency=currency, kind=kind)


def _balanced():
    assert selectors.ledger_unbalanced_entries() == [] and selectors.ledger_total() == 0


def _pay(user, yookassa, hook, *, card="", provider="yookassa", cryptopay=None):
    payment = billing.checkout_create(
        user=user, plan_code="start", provider=provider, method="bank_card" if provider == "yookassa" else "usdt"
    )
    if provider == "yookassa":
        yookassa.pay(payment.provider_payment_id, method="bank_card", card=card)
        assert hook("yookassa", yookassa.outbox[-1]).json()["outcome"] == "applied"
    else:
        cryptopay.pay(int(payment.provider_payment_id))
        body, headers = cryptopay.outbox[-1]
        assert hook("cryptopay", body, headers=headers).json()["outcome"] == "applied"
    payment.refresh_from_db()
    return payment


def _refer(referrer, user):
    code = services.partner_ensure(user=referrer).codes.get(custom=False).code
    return services.referral_attribute(user=user, code=code, source="link")


def test_the_fingerprint_is_a_keyed_hash_of_the_card_never_the_card(yookassa, hook, settings):
    payment = _pay(UserFactory(), yookassa, hook, card=A_CARD)
    card = yookassa.payments[payment.provider_payment_id]["payment_method"]["card"]
    raw = f"yookassa:card:411111:1111:{card['expiry_month']}:2030:RU"
    key = settings.SETKA_INSTRUMENT_FINGERPRINT_KEY.encode()
    assert payment.instrument_fingerprint == hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()
    again = _pay(UserFactory(), yookassa, hook, card=A_CARD)
    other = _pay(UserFactory(), yookassa, hook)  # another card
    assert again.instrument_fingerprint == payment.instrument_fingerprint != other.instrument_fingerprint


def test_a_referred_user_paying_with_the_referrers_card_is_held_and_rejecting_reverses_exactly(yookassa, hook):
    a, b = UserFactory(), UserFactory()
    _pay(a, yookassa, hook, card=A_CARD)
    attribution = _refer(a, b)
    assert attribution.status == "ok"
    _pay(b, yookassa, hook, card=A_CARD)  # B pays with A's card
    attribution.refresh_from_db()
    assert attribution.status == "flagged" and "same_instrument" in attribution.flags
    assert _bal(a, "accrued") == D("178.20")
    # The refund window passes: the reward is held, not available.
    assert services.rewards_mature(now=timezone.now() + AFTER_WINDOW) == 0
    assert (_bal(a, "accrued"), _bal(a, "available")) == (D("178.20"), D("0"))
    services.attribution_review(attribution=attribution, approve=False, actor=None)
    assert (_bal(a, "accrued"), _bal(a, "available")) == (D("0.00"), D("0"))
    assert list(Reward.objects.filter(partner__user=a).values_list("status", flat=True)) == ["reversed"]
    _balanced()


def test_a_level_two_match_holds_both_levels_until_an_operator_clears_it(yookassa, hook):
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    _refer(a, b)
    _refer(b, c)
    _pay(a, yookassa, hook, card=A_CARD)
    _pay(b, yookassa, hook)  # B's own card: nothing flagged
    assert Attribution.objects.get(user=b).status == "ok"
    _pay(c, yookassa, hook, card=A_CARD)  # C pays with A's card: A is C's level-2 referrer
    flagged = Attribution.objects.get(user=c)
    assert flagged.status == "flagged" and Attribution.objects.get(user=b).status == "ok"
    services.rewards_mature(now=timezone.now() + AFTER_WINDOW)
    # A's reward for B's payment matures; C's shares (B 178.20, A 44.55) are held.
    assert (_bal(a, "available"), _bal(a, "accrued")) == (D("178.20"), D("44.55"))
    assert (_bal(b, "available"), _bal(b, "accrued")) == (D("0"), D("178.20"))
    services.attribution_review(attribution=flagged, approve=True, actor=None, now=timezone.now() + AFTER_WINDOW)
    assert (_bal(a, "available"), _bal(a, "accrued")) == (D("222.75"), D("0.00"))
    assert (_bal(b, "available"), _bal(b, "accrued")) == (D("178.20"), D("0.00"))
    # Cleared: the same card again is not flagged a second time.
    _pay(c, yookassa, hook, card=A_CARD)
    assert Attribution.objects.get(user=c).status == "approved"
    _balanced()


def test_a_referrer_paying_later_with_the_referred_users_card_takes_back_what_was_available(yookassa, hook):
    a, b = UserFactory(), UserFactory()
    _refer(a, b)
    _pay(b, yookassa, hook, card=A_CARD)
    services.rewards_mature(now=timezone.now() + AFTER_WINDOW)
    assert _bal(a, "available") == D("178.20")
    _pay(a, yookassa, hook, card=A_CARD)  # the referrer pays with the same card afterwards
    attribution = Attribution.objects.get(user=b)
    assert attribution.status == "flagged"
    assert (_bal(a, "available"), _bal(a, "accrued")) == (D("0.00"), D("178.20"))  # held again, exactly
    services.attribution_review(attribution=attribution, approve=False, actor=None)
    assert (_bal(a, "available"), _bal(a, "accrued")) == (D("0.00"), D("0.00"))
    _balanced()


def test_crypto_pay_tells_nothing_about_the_payer_so_nothing_is_compared(yookassa, cryptopay, hook):
    a, b = UserFactory(), UserFactory()
    _refer(a, b)
    payment = _pay(b, yookassa, hook, provider="cryptopay", cryptopay=cryptopay)
    assert payment.status == Payment.Status.SUCCEEDED and payment.instrument_fingerprint == ""
    assert Attribution.objects.get(user=b).status == "ok"
