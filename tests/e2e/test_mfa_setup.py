"""The profile's two-factor section (issue 13): TOTP turned on with the app's code, ten recovery
codes shown once, and a recovery code that signs in once. Phone and desktop, Russian and English."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import FRONTEND, _db, login, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def _texts(lang: str) -> dict:
    return json.loads((FRONTEND / "i18n" / "locales" / f"{lang}.json").read_text())


def _totp(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _sign_in(page, email: str, password: str, otp: str = "") -> None:
    page.locator('[data-testid="email"] input, input[data-testid="email"]').first.fill(email)
    page.locator('[data-testid="password"] input, input[data-testid="password"]').first.fill(password)
    if otp:
        page.locator('[data-testid="otp"] input, input[data-testid="otp"]').first.fill(otp)
    page.get_by_test_id("submit").click()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_two_factor_on_with_recovery_codes_shown_once_and_used_once(page, lang, django_db_blocker, shot):
    texts = _texts(lang)
    mfa = texts["mfa"]
    email, password = make_user(django_db_blocker)

    def set_language():
        from django.contrib.auth import get_user_model

        get_user_model().objects.filter(email=email).update(language=lang)

    _db(django_db_blocker, set_language)
    page.goto("/login")
    page.evaluate("lang => localStorage.setItem('setka_lang', lang)", lang)
    page.reload()
    login(page, email, password, next_path="/profile")

    card = page.get_by_test_id("mfa-card")
    expect(card).to_contain_text(mfa["title"])
    expect(card.get_by_test_id("mfa-status")).to_have_text(mfa["off"])
    card.get_by_test_id("mfa-begin").click()
    expect(card.get_by_test_id("mfa-open-app")).to_have_attribute("href", re.compile(r"^otpauth://totp/Setka:"))
    secret = card.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    card.locator('[data-testid="mfa-confirm-code"] input, input[data-testid="mfa-confirm-code"]').first.fill(
        _totp(secret)
    )
    card.get_by_test_id("mfa-confirm").click()

    shown = card.get_by_test_id("mfa-code")
    expect(shown).to_have_count(10)
    expect(card.get_by_test_id("mfa-codes")).to_contain_text(mfa["codesTitle"])
    expect(card.get_by_test_id("mfa-status")).to_have_text(mfa["on"])
    codes = [c.strip() for c in shown.all_inner_texts()]
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes) and len(set(codes)) == 10
    shot(page, f"profile-mfa-codes-{lang}")

    card.get_by_test_id("mfa-codes-saved").click()
    expect(card.get_by_test_id("mfa-code")).to_have_count(0)
    expect(card.get_by_test_id("mfa-codes-left")).to_have_text(mfa["codesLeft"].replace("{n}", "10"))
    # A wrong code for new recovery codes: a message in the page's language, the codes unchanged.
    card.locator('[data-testid="mfa-regen-code"] input, input[data-testid="mfa-regen-code"]').first.fill(
        "000000" if _totp(secret) != "000000" else "111111"
    )
    card.get_by_test_id("mfa-regen").click()
    expect(card.get_by_test_id("error")).to_contain_text(texts["errors"]["mfa_invalid_code"])
    page.reload()
    expect(page.get_by_test_id("mfa-status")).to_have_text(mfa["on"])
    expect(page.get_by_test_id("mfa-code")).to_have_count(0)  # never shown again
    shot(page, f"profile-mfa-on-{lang}")

    # Phone lost: a recovery code signs in, once.
    page.context.clear_cookies()
    page.goto("/login?next=/profile")
    _sign_in(page, email, password)
    expect(page.locator('[data-testid="otp"] input, input[data-testid="otp"]').first).to_be_visible()
    expect(page.get_by_text(texts["auth"]["otpRecoveryHelp"], exact=False)).to_be_visible()
    _sign_in(page, email, password, codes[0])
    page.wait_for_url("**/profile")
    expect(page.get_by_test_id("mfa-codes-left")).to_have_text(mfa["codesLeft"].replace("{n}", "9"))

    page.context.clear_cookies()
    page.goto("/login?next=/profile")
    _sign_in(page, email, password)
    _sign_in(page, email, password, codes[0])
    expect(page.get_by_test_id("error")).to_contain_text(texts["errors"]["mfa_invalid_code"])
    assert "/login" in page.url
