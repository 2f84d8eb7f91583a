"""Users: sign-up, email confirmation, login under the lockout, passwords, profile."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from accounts import throttling
from accounts.mail import send_templated_email
from accounts.models import Profile, User, VerificationCode
from accounts.selectors import user_email_verified
from accounts.services.codes import CODE_TTL, code_consume, code_issue
from accounts.services.common import RateLimited, email_normalize, field_error
from accounts.services.grants import access_code_check, access_grant_redeem
from accounts.tokens import user_tokens_revoke_all
from config.errors import DomainError


class LoginLocked(RateLimited):
    """429 login_locked. The same words whether or not the account exists."""

    code = "login_locked"

    def __init__(self, retry_after: int):
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(
            _(
                "Too many failed login attempts from this device. Try again in %(minutes)s min, open the "
                "unlock link we emailed to the account's address, or reset your password."
            )
            % {"minutes": minutes},
            retry_after=retry_after,
        )


UNLOCK_LINK_TTL_SECONDS = 3600
_UNLOCK_SALT = "setka.accounts.login-unlock.v1"


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
            raise field_error("email", _("An account with this email already exists."), code="email_taken")
        if language:
            extra["language"] = language
        try:
            user = User.objects.create_user(email=email, password=password, **extra)
        except IntegrityError as exc:  # a concurrent sign-up with the same email
            raise field_error("email", _("An account with this email already exists."), code="email_taken") from exc
        Profile.objects.get_or_create(user=user)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    return user


def user_signup(*, email: str, password: str, language: str | None = None, access_code: str = "", ip=None) -> str:
    """Sign-up: the account, optionally an access code redeemed at once, and a 6-digit email
    code. The account cannot log in until the email is confirmed.

    The answer never tells whether the address already has an account (that would let anyone
    probe who uses Setka): for a taken address nothing is created and its owner is emailed
    instead. Returns the normalised address."""
    email = email_normalize(email)
    password_validate(password=password, user=User(email=email))
    throttle_subject = f"ip:{ip}" if ip else None
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = user_create(email=email, password=password, language=language)
                if access_code:
                    access_grant_redeem(user=user, code=access_code, throttle_subject=throttle_subject)
        except DomainError as exc:
            if exc.code != "email_taken":  # a concurrent sign-up with the same address won
                raise
            existing = User.objects.filter(email__iexact=email).first()
        else:
            email_code_send(user=user)
            return email
    User().set_password(password)  # the same work as creating an account: no timing oracle
    if access_code:  # a wrong code is refused the same way as for a new address
        access_code_check(code=access_code, email=email, throttle_subject=throttle_subject)
    if existing is not None:
        signup_existing_notify(user=existing)
    return email


def signup_existing_notify(*, user: User) -> None:
    """Someone signed up with this address: tell the owner (and, if they never confirmed it,
    send a fresh confirmation code), at most a few times an hour."""
    if not throttling.send_allowed(kind="signup_existing", target=user.email):
        return
    send_templated_email(to=user.email, name="signup_existing", language=user.language, context={})
    if not user_email_verified(user=user):
        email_code_send(user=user)


def email_code_send(*, user: User) -> bool:
    """Email a fresh verification code; False when the hourly limit for this address is used up."""
    if not throttling.send_allowed(kind=VerificationCode.Purpose.EMAIL_VERIFY, target=user.email):
        return False
    code = code_issue(user=user, purpose=VerificationCode.Purpose.EMAIL_VERIFY, target=user.email)
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

    return code_consume(user=user, purpose=VerificationCode.Purpose.EMAIL_VERIFY, code=code, apply=apply)


def user_login(*, email: str, password: str, ip: str | None) -> User:
    """Check credentials under the lockout. Raises LoginLocked (429), invalid_credentials (400)
    or email_unverified (403, only once the password was right).

    The lock is per (account, IP) with a growing delay, plus one per IP across accounts, so a
    stranger cannot lock the owner out from elsewhere; when a lock starts the owner is emailed
    an unlock link (login_unlock_redeem)."""
    email = email_normalize(email)
    wait = throttling.login_attempt_begin(email=email, ip=ip)
    if wait:
        raise LoginLocked(wait)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        User().set_password(password)  # same work as a real check: no timing oracle for emails
        ok = False
    else:
        ok = user.check_password(password) and user.is_active
    if not ok or user is None:
        remaining = throttling.login_attempt_failed(email=email, ip=ip)
        if remaining:
            if user is not None and user.is_active:
                login_unlock_offer(user=user, ip=ip)
            raise LoginLocked(remaining)
        raise DomainError(_("Wrong email or password."), code="invalid_credentials")
    throttling.login_attempt_succeeded(email=email, ip=ip)
    if not user_email_verified(user=user):
        raise DomainError(
            _("Confirm your email first: enter the code we sent you (or ask for a new one)."),
            code="email_unverified",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


def login_unlock_token(*, user: User) -> str:
    return signing.dumps({"u": user.pk}, salt=_UNLOCK_SALT, compress=False)


def login_unlock_offer(*, user: User, ip: str | None) -> bool:
    """Email the owner a link that unlocks their login from the device that opens it (at most
    one email per lockout period). True when an email went out."""
    if not cache.add(f"acc:login:unlockmail:{user.pk}", 1, timeout=settings.SETKA_LOGIN_LOCKOUT_SECONDS):
        return False
    base = getattr(settings, "SETKA_PUBLIC_URL", "").rstrip("/")
    link = f"{base}/api/auth/login/unlock/?token={login_unlock_token(user=user)}"
    send_templated_email(
        to=user.email,
        name="login_unlock",
        language=user.language,
        context={"link": link, "ip": ip or "?", "ttl_minutes": UNLOCK_LINK_TTL_SECONDS // 60},
    )
    return True


def login_unlock_redeem(*, token: str, ip: str | None) -> User:
    """The owner opened the unlock link: this device (IP) may log in to the account again at once."""
    invalid = DomainError(
        _("This unlock link is invalid or has expired. Wait for the lock to end or reset your password."),
        code="invalid_unlock_link",
    )
    if not token or len(token) > 300:
        raise invalid
    try:
        data = signing.loads(token, salt=_UNLOCK_SALT, max_age=UNLOCK_LINK_TTL_SECONDS)
    except signing.BadSignature as exc:
        raise invalid from exc
    user_id = data.get("u") if isinstance(data, dict) else None
    user = User.objects.filter(pk=user_id, is_active=True).first() if isinstance(user_id, int) else None
    if user is None:
        raise invalid
    throttling.login_unlock(email=user.email, ip=ip)
    return user


def user_password_set(*, user: User, password: str) -> None:
    """Set a new password and end every session (refresh tokens revoked, access tokens dead)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    user_tokens_revoke_all(user=user)


def password_change(*, user: User, current_password: str, password: str) -> None:
    """A logged-in user changes the password: every session ends (the caller issues new tokens
    for the device that asked)."""
    budget = throttling.budget_reserve(
        kind="password_change",
        subject=str(user.pk),
        limit=getattr(settings, "SETKA_PASSWORD_CHANGE_MAX_FAILURES", 5),
        window=getattr(settings, "SETKA_PASSWORD_CHANGE_WINDOW_SECONDS", 900),
    )
    if not budget.allowed:
        minutes = max(1, (budget.retry_after + 59) // 60)
        raise RateLimited(
            _("Too many wrong current passwords. Try again in %(minutes)s min.") % {"minutes": minutes},
            retry_after=budget.retry_after,
        )
    if not user.check_password(current_password):
        raise field_error("current_password", _("The current password is wrong."), code="wrong_password")
    throttling.budget_reset(kind="password_change", subject=str(user.pk))
    password_validate(password=password, user=user)
    user_password_set(user=user, password=password)


def password_reset_request(*, email: str) -> None:
    user = User.objects.filter(email__iexact=email_normalize(email), is_active=True).first()
    if user is None or not throttling.send_allowed(kind=VerificationCode.Purpose.PASSWORD_RESET, target=user.email):
        return
    code = code_issue(user=user, purpose=VerificationCode.Purpose.PASSWORD_RESET, target=user.email)
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

    return code_consume(user=user, purpose=VerificationCode.Purpose.PASSWORD_RESET, code=code, apply=apply)


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
            profile, _created = Profile.objects.get_or_create(user=user)
            for key, value in profile_changes.items():
                setattr(profile, key, value)
            profile.save(update_fields=[*profile_changes, "updated_at"])
    user.refresh_from_db()
    return user
