"""Phone number: E.164 validation, SMS code, verification."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from accounts import throttling
from accounts.mail import render_text
from accounts.models import Profile, User, VerificationCode
from accounts.services.codes import code_consume, code_issue
from accounts.services.common import RateLimited, field_error
from accounts.sms import SmsError, send_sms
from config.errors import DomainError


def phone_normalize(raw: str) -> str:
    """E.164 (+79991234567) or a DomainError on the `phone` field."""
    import phonenumbers

    message = _("Enter a valid phone number in international format, e.g. +79991234567.")
    raw = (raw or "").strip()
    if not raw.startswith("+") or len(raw) > 32:
        raise field_error("phone", message, code="invalid_phone")
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        raise field_error("phone", message, code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise field_error("phone", message, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_code_send(*, user: User, phone: str) -> str:
    """Text a 6-digit code to the number; the profile keeps its old number until verified.

    Limits per account (distinct numbers a day, codes an hour) and per number (codes an hour).
    The answer is the same whether or not the number belongs to another account (no probing
    who uses Setka); such a number gets no SMS, and its code can never be confirmed."""
    phone = phone_normalize(phone)
    numbers = throttling.distinct_add(
        key=f"acc:phone:numbers:{user.pk}",
        member=phone,
        limit=getattr(settings, "SETKA_PHONE_NUMBERS_PER_DAY", 3),
        window=86400,
    )
    if not numbers.allowed:
        raise RateLimited(
            _("You tried too many different phone numbers today. Try again tomorrow or contact support."),
            retry_after=numbers.retry_after,
            code="too_many_phone_numbers",
        )
    sends = throttling.counter_hit(
        key=f"acc:phone:codes:{user.pk}", limit=getattr(settings, "SETKA_PHONE_CODES_PER_HOUR", 5), window=3600
    )
    if not sends.allowed or not throttling.send_allowed(kind=VerificationCode.Purpose.PHONE_VERIFY, target=phone):
        raise RateLimited(
            _("Too many codes were sent. Try again in an hour."),
            retry_after=sends.retry_after or 3600,
            code="too_many_codes",
        )
    if Profile.objects.filter(phone=phone).exclude(user=user).exists():
        # Answer as if sent; a code is stored for nobody (the old one dies, like a resend).
        VerificationCode.objects.filter(
            user=user, purpose=VerificationCode.Purpose.PHONE_VERIFY, used_at__isnull=True
        ).update(used_at=timezone.now())
        return phone
    code = code_issue(user=user, purpose=VerificationCode.Purpose.PHONE_VERIFY, target=phone)
    try:
        send_sms(phone, render_text("sms", "phone_code", language=user.language, context={"code": code}))
    except SmsError as exc:
        raise DomainError(
            _("The SMS could not be sent. Try again in a few minutes."),
            code="sms_failed",
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        ) from exc
    return phone


def phone_verify(*, user: User, code: str) -> User:
    def apply(row):
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        profile.phone = row.target
        profile.phone_verified_at = timezone.now()
        try:
            with transaction.atomic():
                profile.save(update_fields=["phone", "phone_verified_at", "updated_at"])
        except IntegrityError as exc:
            raise field_error("code", _("This phone number belongs to another account."), code="phone_taken") from exc
        return user

    result = code_consume(user=user, purpose=VerificationCode.Purpose.PHONE_VERIFY, code=code, apply=apply)
    user.refresh_from_db()
    return result
