"""Phone number: E.164 validation, SMS code, verification."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from accounts import throttling
from accounts.mail import render_text
from accounts.models import Profile, User, VerificationCode
from accounts.services.codes import code_consume, code_issue
from accounts.services.common import field_error
from accounts.sms import SmsError, send_sms
from config.exceptions import DomainError


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
    """Text a 6-digit code to the number; the profile keeps its old number until verified."""
    phone = phone_normalize(phone)
    if Profile.objects.filter(phone=phone).exclude(user=user).exists():
        raise field_error("phone", _("This phone number belongs to another account."), code="phone_taken")
    if not throttling.send_allowed(kind=VerificationCode.Purpose.PHONE_VERIFY, target=phone):
        raise DomainError(
            _("Too many codes were sent to this number. Try again in an hour."),
            code="too_many_codes",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
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
