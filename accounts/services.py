"""Account actions: sign-up, email and phone verification by code, login checks, password reset,
access grants. Views, admin actions and management commands call these; they raise
config.exceptions.DomainError (answered as 4xx) for anything the user did wrong."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from rest_framework import status

from accounts import throttling
from accounts.mail import render_text, send_templated_email
from accounts.models import AccessGrant, Profile, User, VerificationCode
from accounts.selectors import user_email_verified
from accounts.sms import send_sms
from accounts.tokens import user_tokens_revoke_all
from config.exceptions import DomainError

CODE_TTL = timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
ACCESS_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or retyped
ACCESS_CODE_LENGTH = 16
REDEEM_MAX_FAILURES = 10
REDEEM_WINDOW_SECONDS = 3600


class LoginLocked(DomainError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "login_locked"

    def __init__(self, retry_after: int):
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(
            _("Too many failed login attempts. Try again in %(minutes)s min or reset your password.")
            % {"minutes": minutes},
            fields={},
        )
        self.retry_after = retry_after


def _field_error(field: str, message: str, *, code: str = "invalid", status_code: int | None = None) -> DomainError:
    return DomainError(message, code=code, fields={field: [message]}, status_code=status_code)


# --- verification codes (email, password reset, phone) ---------------------------------------


def _code_hash(*, user_id: int, purpose: str, target: str, code: str) -> str:
    return salted_hmac("setka.accounts.code", f"{purpose}:{user_id}:{target}:{code}", algorithm="sha256").hexdigest()


def _code_issue(*, user: User, purpose: str, target: str) -> str:
    """A new 6-digit code; every older live code of the same purpose dies."""
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        VerificationCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
        VerificationCode.objects.create(
            user=user,
            purpose=purpose,
            target=target,
            code_hash=_code_hash(user_id=user.pk, purpose=purpose, target=target, code=code),
            expires_at=now + CODE_TTL,
        )
    return code


def _code_consume(*, user: User | None, purpose: str, code: str, apply) -> object:
    """Check the user's live code of this purpose; on success mark it used and run
    apply(row) in the same transaction. Wrong guesses are counted (and committed); the
    code dies after CODE_MAX_ATTEMPTS of them."""
    code = (code or "").strip()
    now = timezone.now()
    failure = _("The code is wrong or has expired. Check it or ask for a new one.")
    with transaction.atomic():
        row = None
        if user is not None:
            row = (
                VerificationCode.objects.select_for_update()
                .filter(user=user, purpose=purpose, used_at__isnull=True)
                .order_by("-created_at", "-id")
                .first()
            )
        if row is not None and row.expires_at > now and row.attempts < CODE_MAX_ATTEMPTS:
            expected = _code_hash(user_id=user.pk, purpose=purpose, target=row.target, code=code)
            if constant_time_compare(row.code_hash, expected):
                row.used_at = now
                row.save(update_fields=["used_at"])
                return apply(row)
            row.attempts += 1
            row.save(update_fields=["attempts"])
            if row.attempts >= CODE_MAX_ATTEMPTS:
                failure = _("Too many wrong codes. Ask for a new code.")
        elif row is not None and row.attempts >= CODE_MAX_ATTEMPTS:
            failure = _("Too many wrong codes. Ask for a new code.")
    raise _field_error("code", failure, code="invalid_code")


# --- users and email -------------------------------------------------------------------------


def email_normalize(email: str) -> str:
    return (email or "").strip().lower()


def password_validate(*, password: str, user: User | None = None) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise DomainError(exc.messages[0], code="weak_password", fields={"password": exc.messages}) from exc


def user_create(
    *, email: str, password: str | None, language: str | None = None, email_verified: bool = False, **extra
) -> User:
    """Create a user with a profile and an allauth EmailAddress (verified or not). For seeds,
    admin and tests as well as sign-up."""
    email = email_normalize(email)
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise _field_error("email", _("An account with this email already exists."), code="email_taken")
        if language:
            extra["language"] = language
        try:
            user = User.objects.create_user(email=email, password=password, **extra)
        except IntegrityError as exc:  # a concurrent sign-up with the same email
            raise _field_error("email", _("An account with this email already exists."), code="email_taken") from exc
        Profile.objects.get_or_create(user=user)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    return user


def user_signup(*, email: str, password: str, language: str | None = None, access_code: str = "", ip=None) -> User:
    """Sign-up: the account, optionally an access code redeemed at once, and a 6-digit email
    code. The account cannot log in until the email is confirmed."""
    email = email_normalize(email)
    password_validate(password=password, user=User(email=email))
    with transaction.atomic():
        user = user_create(email=email, password=password, language=language)
        if access_code:
            access_grant_redeem(user=user, code=access_code, throttle_subject=f"ip:{ip}" if ip else None)
    email_code_send(user=user)
    return user


def email_code_send(*, user: User) -> bool:
    """Email a fresh verification code; False when the hourly limit for this address is used up."""
    if not throttling.send_allowed(kind=VerificationCode.Purpose.EMAIL_VERIFY, target=user.email):
        return False
    code = _code_issue(user=user, purpose=VerificationCode.Purpose.EMAIL_VERIFY, target=user.email)
    send_templated_email(
        to=user.email,
        name="verify_email",
        language=user.language,
        context={"code": code, "ttl_minutes": int(CODE_TTL.total_seconds() // 60)},
    )
    return True


def email_resend(*, email: str) -> None:
    """Another code for an unverified account; silently nothing otherwise (no account probing)."""
    user = User.objects.filter(email__iexact=email_normalize(email), is_active=True).first()
    if user is not None and not user_email_verified(user=user):
        email_code_send(user=user)


def email_verify(*, email: str, code: str) -> User:
    user = User.objects.filter(email__iexact=email_normalize(email), is_active=True).first()

    def apply(row):
        EmailAddress.objects.update_or_create(
            user=user, email__iexact=row.target, defaults={"email": row.target, "verified": True, "primary": True}
        )
        return user

    return _code_consume(user=user, purpose=VerificationCode.Purpose.EMAIL_VERIFY, code=code, apply=apply)


def user_login(*, email: str, password: str, ip: str | None) -> User:
    """Check credentials under the lockout. Raises LoginLocked (429), invalid_credentials (400)
    or email_unverified (403, only once the password was right)."""
    email = email_normalize(email)
    remaining = throttling.login_lockout_remaining(email=email, ip=ip)
    if remaining:
        raise LoginLocked(remaining)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        User().set_password(password)  # same work as a real check: no timing oracle for emails
        ok = False
    else:
        ok = user.check_password(password) and user.is_active
    if not ok:
        remaining = throttling.login_failure_record(email=email, ip=ip)
        if remaining:
            raise LoginLocked(remaining)
        raise DomainError(_("Wrong email or password."), code="invalid_credentials")
    if not user_email_verified(user=user):
        raise DomainError(
            _("Confirm your email first: enter the code we sent you (or ask for a new one)."),
            code="email_unverified",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    throttling.login_success_record(email=email)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


def user_password_set(*, user: User, password: str) -> None:
    """Set a new password and end every session (refresh tokens revoked, access tokens dead)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    user_tokens_revoke_all(user=user)


def password_change(*, user: User, current_password: str, password: str) -> None:
    """A logged-in user changes the password: every session ends (the caller issues new tokens
    for the device that asked)."""
    if not user.check_password(current_password):
        raise _field_error("current_password", _("The current password is wrong."), code="wrong_password")
    password_validate(password=password, user=user)
    user_password_set(user=user, password=password)


def password_reset_request(*, email: str) -> None:
    user = User.objects.filter(email__iexact=email_normalize(email), is_active=True).first()
    if user is None or not throttling.send_allowed(kind=VerificationCode.Purpose.PASSWORD_RESET, target=user.email):
        return
    code = _code_issue(user=user, purpose=VerificationCode.Purpose.PASSWORD_RESET, target=user.email)
    send_templated_email(
        to=user.email,
        name="password_reset",
        language=user.language,
        context={"code": code, "ttl_minutes": int(CODE_TTL.total_seconds() // 60)},
    )


def password_reset_confirm(*, email: str, code: str, password: str) -> User:
    user = User.objects.filter(email__iexact=email_normalize(email), is_active=True).first()
    password_validate(password=password, user=user or User(email=email_normalize(email)))

    def apply(row):
        user_password_set(user=user, password=password)
        # The code reached the mailbox: that proves the address as well.
        EmailAddress.objects.filter(user=user, email__iexact=row.target).update(verified=True)
        return user

    return _code_consume(user=user, purpose=VerificationCode.Purpose.PASSWORD_RESET, code=code, apply=apply)


# --- phone -----------------------------------------------------------------------------------


def phone_normalize(raw: str) -> str:
    """E.164 (+79991234567) or a DomainError on the `phone` field."""
    import phonenumbers

    message = _("Enter a valid phone number in international format, e.g. +79991234567.")
    raw = (raw or "").strip()
    if not raw.startswith("+") or len(raw) > 32:
        raise _field_error("phone", message, code="invalid_phone")
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        raise _field_error("phone", message, code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise _field_error("phone", message, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_code_send(*, user: User, phone: str) -> str:
    """Text a 6-digit code to the number; the profile keeps its old number until verified."""
    phone = phone_normalize(phone)
    if Profile.objects.filter(phone=phone).exclude(user=user).exists():
        raise _field_error("phone", _("This phone number belongs to another account."), code="phone_taken")
    if not throttling.send_allowed(kind=VerificationCode.Purpose.PHONE_VERIFY, target=phone):
        raise DomainError(
            _("Too many codes were sent to this number. Try again in an hour."),
            code="too_many_codes",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    code = _code_issue(user=user, purpose=VerificationCode.Purpose.PHONE_VERIFY, target=phone)
    send_sms(phone, render_text("sms", "phone_code", language=user.language, context={"code": code}))
    return phone


def phone_verify(*, user: User, code: str) -> User:
    def apply(row):
        profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
        profile.phone = row.target
        profile.phone_verified_at = timezone.now()
        try:
            with transaction.atomic():
                profile.save(update_fields=["phone", "phone_verified_at", "updated_at"])
        except IntegrityError as exc:
            raise _field_error("code", _("This phone number belongs to another account."), code="phone_taken") from exc
        return user

    result = _code_consume(user=user, purpose=VerificationCode.Purpose.PHONE_VERIFY, code=code, apply=apply)
    user.refresh_from_db()
    return result


def profile_update(*, user: User, **fields) -> User:
    allowed_user = {"language"}
    allowed_profile = {"theme", "notify_email"}
    user_changes = {k: v for k, v in fields.items() if k in allowed_user}
    profile_changes = {k: v for k, v in fields.items() if k in allowed_profile}
    with transaction.atomic():
        if user_changes:
            for key, value in user_changes.items():
                setattr(user, key, value)
            user.save(update_fields=list(user_changes))
        if profile_changes:
            profile, _ = Profile.objects.get_or_create(user=user)
            for key, value in profile_changes.items():
                setattr(profile, key, value)
            profile.save(update_fields=[*profile_changes, "updated_at"])
    user.refresh_from_db()
    return user


# --- access grants ---------------------------------------------------------------------------


def access_code_generate() -> str:
    raw = "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, ACCESS_CODE_LENGTH, 4))


def access_code_normalize(code: str) -> str:
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if len(raw) != ACCESS_CODE_LENGTH:
        return raw
    return "-".join(raw[i : i + 4] for i in range(0, ACCESS_CODE_LENGTH, 4))


def access_grant_issue(
    *, operator: User, issued_to_email: str = "", expires_at: datetime | None = None, note: str = ""
) -> AccessGrant:
    """A new single-use access code (unique; retried on the astronomically unlikely clash)."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return AccessGrant.objects.create(
                    code=access_code_generate(),
                    issued_by=operator,
                    issued_to_email=email_normalize(issued_to_email),
                    expires_at=expires_at,
                    note=note[:200],
                )
        except IntegrityError:
            continue
    raise RuntimeError("Could not generate a unique access code.")


def _user_access_set(*, user: User, now) -> None:
    User.objects.filter(pk=user.pk).update(access_granted_at=now, access_revoked_at=None)
    user.access_granted_at, user.access_revoked_at = now, None


def access_grant_redeem(*, user: User, code: str, throttle_subject: str | None = None) -> User:
    """Redeem an access code: the user may bind keys and run bots from now on."""
    subject = throttle_subject or f"user:{user.pk}"
    if not throttling.attempt_allowed(kind="redeem", subject=subject, limit=REDEEM_MAX_FAILURES):
        raise DomainError(
            _("Too many wrong access codes. Try again later."),
            code="too_many_attempts",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    if user.has_trading_access:
        raise _field_error("code", _("You already have access."), code="already_granted")
    now = timezone.now()
    with transaction.atomic():
        grant = AccessGrant.objects.select_for_update().filter(code=access_code_normalize(code)).first()
        usable = grant is not None and grant.is_usable(now=now)
        if usable and grant.issued_to_email and grant.issued_to_email.lower() != user.email.lower():
            usable = False
        if usable:
            grant.redeemed_by, grant.redeemed_at = user, now
            grant.save(update_fields=["redeemed_by", "redeemed_at"])
            _user_access_set(user=user, now=now)
            return user
    throttling.attempt_failed(kind="redeem", subject=subject, window=REDEEM_WINDOW_SECONDS)
    raise _field_error(
        "access_code" if throttle_subject else "code",
        _("This access code is invalid, expired or already used."),
        code="invalid_access_code",
    )


def access_grant_revoke(*, grant: AccessGrant, operator: User) -> AccessGrant:
    """Revoke a grant. If it was already redeemed, the user who redeemed it loses access too."""
    now = timezone.now()
    with transaction.atomic():
        grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
        if grant.revoked_at is None:
            grant.revoked_at, grant.revoked_by = now, operator
            grant.save(update_fields=["revoked_at", "revoked_by"])
            if grant.redeemed_by_id:
                User.objects.filter(pk=grant.redeemed_by_id, access_revoked_at__isnull=True).update(
                    access_revoked_at=now
                )
    return grant


def user_access_grant(*, user: User, operator: User, note: str = "Activated by an operator") -> AccessGrant:
    """Direct activation (admin): recorded as a grant issued to and redeemed by the user."""
    now = timezone.now()
    with transaction.atomic():
        grant = access_grant_issue(operator=operator, issued_to_email=user.email, note=note)
        grant.redeemed_by, grant.redeemed_at = user, now
        grant.save(update_fields=["redeemed_by", "redeemed_at"])
        _user_access_set(user=user, now=now)
    return grant


def user_access_revoke(*, user: User, operator: User) -> None:
    """Take access away (bots already running are the bots app's business: stop them there)."""
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(access_revoked_at=now)
        AccessGrant.objects.filter(redeemed_by=user, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=operator
        )
    user.access_revoked_at = now
