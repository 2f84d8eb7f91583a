"""Attribution through the landing and the API, the self-referral checks and the operator's
review, payout requests with minimums, and what another user can see."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import RefreshToken
from billing.models import Payment, Plan
from referrals import selectors, services
from referrals.models import Attribution, Click, Partner, Reward
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _code(user) -> str:
    return services.partner_ensure(user=user).codes.get(custom=False).code


def _paid(user, amount="990.00") -> Payment:
    payment = Payment.objects.create(
        user=user,
        plan=Plan.objects.get(code="start"),
        provider="yookassa",
        amount=D(amount),
        currency="RUB",
        status="succeeded",
        credited_at=timezone.now(),
        seller="test",
    )
    services.referral_payment_succeeded(payment=payment)
    return payment


def test_a_partner_link_keeps_the_code_through_sign_up_and_counts_the_click():
    partner = UserFactory()
    code = _code(partner)
    visitor = APIClient()
    landing = visitor.get(f"/r/{code.lower()}")
    assert landing.status_code == 302 and landing["Location"] == f"/register?ref={code}"
    assert landing.cookies["setka_ref"].value == code and landing.cookies["setka_dev"].value
    visitor.get(f"/r/{code}")  # the same browser again the same day: one click
    assert Click.objects.filter(code__code=code).count() == 1
    newcomer = UserFactory()
    visitor.force_authenticate(newcomer)
    response = visitor.post("/api/referrals/attribute/", {}, format="json")  # the cookie carries the code
    assert response.status_code == 201 and response.json()["status"] == "ok"
    assert Attribution.objects.get(user=newcomer).referrer == partner
    assert APIClient().get("/r/NOSUCHCODE")["Location"] == "/register"


def test_self_referral_is_refused_and_the_same_browser_or_network_is_held_for_review():
    partner = UserFactory(email="ivan.petrov@gmail.com")
    code = _code(partner)
    response = _client(partner).post("/api/referrals/attribute/", {"code": code}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "referral_self"
    # The partner's own browser (seen on the dashboard) and their login network.
    services.partner_device_seen(partner=selectors.partner_of(user=partner), device="dev1")
    RefreshToken.objects.create(
        user=partner, token_hash="h" * 64, expires_at=timezone.now() + timedelta(days=1), ip_address="203.0.113.7"
    )
    twin = UserFactory(email="ivanpetrov+2@gmail.com")
    attribution = services.referral_attribute(user=twin, code=code, source="link", device="dev1", ip="203.0.113.9")
    assert attribution.status == "flagged" and set(attribution.flags) == {
        "same_person",
        "same_device",
        "same_ip_cluster",
    }
    # Its rewards accrue but stay held after the refund window until an operator decides.
    _paid(twin)
    assert services.rewards_mature(now=timezone.now() + timedelta(days=30)) == 0
    p = selectors.partner_of(user=partner)
    assert selectors.balance(partner=p, currency="RUB", kind="accrued") == D("198.00")
    services.attribution_review(attribution=attribution, approve=False, actor=None)
    assert selectors.balance(partner=p, currency="RUB", kind="accrued") == D("0")
    assert Reward.objects.get(attribution=attribution).status == "reversed"
    # A B-refers-A ring is refused.
    other = UserFactory()
    services.referral_attribute(user=other, code=_code(partner), source="link")
    with pytest.raises(Exception, match="own referral code"):
        services.referral_attribute(user=partner, code=_code(other), source="link")


def test_sign_ups_beyond_the_daily_limit_per_code_are_flagged(settings):
    settings.SETKA_REFERRAL_SIGNUPS_PER_CODE_PER_DAY = 2
    code = _code(UserFactory())
    statuses = [services.referral_attribute(user=UserFactory(), code=code, source="link").status for _ in range(3)]
    assert statuses == ["ok", "ok", "flagged"]


def test_attribution_is_only_at_sign_up_and_the_telegram_deep_link_works():
    partner = UserFactory()
    old = UserFactory()
    old.date_joined = timezone.now() - timedelta(days=10)
    old.save(update_fields=["date_joined"])
    with pytest.raises(Exception, match="when signing up"):
        services.referral_attribute(user=old, code=_code(partner), source="link")
    payer = UserFactory()
    _paid(payer)
    with pytest.raises(Exception, match="when signing up"):
        services.referral_attribute(user=payer, code=_code(partner), source="link")
    tg = UserFactory()
    assert services.referral_attribute(user=tg, code=f"ref_{_code(partner)}", source="telegram").referrer == partner


def test_payouts_by_rail_need_the_minimum_and_an_operators_decision():
    partner, referred = UserFactory(), UserFactory()
    services.referral_attribute(user=referred, code=_code(partner), source="link")
    for _ in range(5):
        _paid(referred, "990.00")  # 5 x 198.00 = 990.00 available after the window
    services.rewards_mature(now=timezone.now() + timedelta(days=15))
    client = _client(partner)
    body = {"kind": "transfer", "currency": "RUB", "rail": "yookassa", "destination": "4111 1111 1111 1111"}
    below = client.post("/api/referrals/payouts/", body, format="json")
    assert below.status_code == 409 and below.json()["code"] == "referral_below_minimum"  # 990.00 < 1000.00
    _paid(referred, "990.00")
    services.rewards_mature(now=timezone.now() + timedelta(days=15))
    response = client.post("/api/referrals/payouts/", body, format="json")
    assert response.status_code == 201 and response.json()["amount"] == "1188.00"
    p = Partner.objects.get(user=partner)
    assert selectors.balance(partner=p, currency="RUB", kind="pending") == D("1188.00")
    again = client.post("/api/referrals/payouts/", body, format="json")
    assert again.status_code == 409  # nothing left: no double request
    payout = selectors.partner_payouts(partner=p).get()
    services.payout_decide(payout=payout, approve=False, actor=None)
    assert selectors.balance(partner=p, currency="RUB", kind="available") == D("1188.00")
    payout = services.payout_request(
        user=partner, kind="transfer", currency="RUB", rail="yookassa", destination="4111111111111111"
    )
    services.payout_decide(payout=payout, approve=True, actor=None)
    # Approved: sent by the rail (tests/referrals/test_payouts_by_rail.py follows it to "paid").
    assert selectors.balance(partner=p, currency="RUB", kind="pending") == D("1188.00")
    rows = client.get("/api/referrals/payouts/").json()
    assert [row["status"] for row in rows] == ["sending", "rejected"]
    assert rows[0]["destination"] == "•••• 1111" and "4111111111111111" not in str(rows)
    assert selectors.ledger_unbalanced_entries() == [] and selectors.ledger_total() == 0


def test_the_dashboard_shows_only_my_own_figures():
    partner, referred, stranger = UserFactory(), UserFactory(), UserFactory()
    services.referral_attribute(user=referred, code=_code(partner), source="link")
    _paid(referred, "990.00")
    mine = _client(partner).get("/api/referrals/me/").json()
    assert (mine["signups"], mine["paying_users"], mine["revenue"]) == (1, 1, {"RUB": "990.00"})
    assert mine["balances"]["RUB"]["accrued"] == "198.00"
    assert mine["codes"][0]["link"].endswith(f"/r/{_code(partner)}")
    assert all("гарант" not in t["ru"] or "не гарантируется" in t["ru"] for t in mine["promo"])
    theirs = _client(stranger).get("/api/referrals/me/").json()
    assert (theirs["signups"], theirs["paying_users"], theirs["balances"]) == (0, 0, {})


def test_the_kept_code_is_attributed_on_the_first_request_after_email_verification_and_login():
    partner = UserFactory()
    code = _code(partner)
    visitor = APIClient()
    visitor.get(f"/r/{code}")
    newcomer = UserFactory()
    visitor.force_authenticate(newcomer)
    response = visitor.get("/api/auth/me/")
    assert response.status_code == 200
    assert Attribution.objects.get(user=newcomer).referrer == partner
    assert response.cookies["setka_ref"].value == ""  # dropped
