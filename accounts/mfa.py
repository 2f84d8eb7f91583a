"""Two-factor authentication (TOTP) through allauth's MFA: set-up (a secret shown once as an
otpauth:// link, confirmed by a first code), one-time recovery codes (made when TOTP is turned
on, stored hashed, shown once, made anew on request), the check at login (a TOTP code or an
unused recovery code), and the admin login form that requires it of operators and staff
(SETKA_ADMIN_REQUIRE_MFA, on in production). The TOTP secret is encrypted at rest (MfaAdapter)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from urllib.parse import quote

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, validate_totp_code
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import CookieTokenAuthentication, enforce_csrf
from accounts.models import RecoveryCode
from config.errors import DomainError

logger = logging.getLogger("accounts")
PENDING_KEY = "setka:mfa-totp-pending:{}"
ISSUER = "Setka"
RECOVERY_COUNT = 10
RECOVERY_LENGTH = 10  # 10 characters of a 31-letter alphabet: about 50 bits each
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
RECOVERY_ITERATIONS = 60_000


def totp_authenticator(*, user) -> Authenticator | None:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()


def totp_enabled(*, user) -> bool:
    return totp_authenticator(user=user) is not None


def totp_setup_begin(*, user) -> dict:
    """A new secret (kept 10 minutes until confirmed) and its otpauth:// URL for the app."""
    if totp_enabled(user=user):
        raise DomainError("Two-factor authentication is already on.", code="mfa_already_enabled", status_code=409)
    secret = generate_totp_secret()
    cache.set(PENDING_KEY.format(user.pk), secret, 600)
    url = f"otpauth://totp/{quote(ISSUER)}:{quote(user.email)}?secret={secret}&issuer={quote(ISSUER)}"
    return {"secret": secret, "otpauth_url": url}


def totp_setup_confirm(*, user, code: str) -> list[str]:
    """Turn TOTP on with the pending secret; returns the first set of recovery codes (shown once)."""
    secret = cache.get(PENDING_KEY.format(user.pk))
    if not secret:
        raise DomainError("Start the set-up again: it expired.", code="mfa_setup_expired")
    if not validate_totp_code(secret, (code or "").strip()):
        raise DomainError("The code is not right; check the time on your phone.", code="mfa_invalid_code")
    with transaction.atomic():
        if totp_enabled(user=user):
            raise DomainError("Two-factor authentication is already on.", code="mfa_already_enabled", status_code=409)
        TOTP.activate(user, secret)
        codes = recovery_codes_generate(user=user)
    cache.delete(PENDING_KEY.format(user.pk))
    return codes


def totp_verify(*, user, code: str) -> bool:
    authenticator = totp_authenticator(user=user)
    return authenticator is not None and TOTP(authenticator).validate_code((code or "").strip())


def totp_disable(*, user, code: str) -> None:
    """Turn two-factor off with a current TOTP code or an unused recovery code (a lost phone)."""
    if not mfa_code_accept(user=user, code=code):
        raise DomainError("The code is not right.", code="mfa_invalid_code")
    with transaction.atomic():
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
        RecoveryCode.objects.filter(user=user).delete()


# --- recovery codes ---------------------------------------------------------------------------


def _recovery_normalize(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _recovery_hash(plain: str, *, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", plain.encode(), salt.encode(), RECOVERY_ITERATIONS).hex()
    return f"pbkdf2_sha256${RECOVERY_ITERATIONS}${salt}${digest}"


def _recovery_matches(stored: str, plain: str) -> bool:
    try:
        _, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", plain.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)


def recovery_codes_generate(*, user) -> list[str]:
    """A new set of one-time recovery codes; every older code (used or not) stops working. The
    plaintexts are returned to be shown once; only their hashes are stored."""
    plain = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH)) for _ in range(RECOVERY_COUNT)]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=_recovery_hash(p)) for p in plain])
    return [f"{p[:5]}-{p[5:]}" for p in plain]


def recovery_codes_left(*, user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def recovery_code_use(*, user, code: str) -> bool:
    """Spend one unused recovery code (any case, dashes and spaces ignored). Two requests with the
    same code: the row lock lets one of them use it; the other finds it used."""
    plain = _recovery_normalize(code)
    if len(plain) != RECOVERY_LENGTH:
        return False
    with transaction.atomic():
        for row in RecoveryCode.objects.select_for_update().filter(user=user, used_at__isnull=True):
            if _recovery_matches(row.code_hash, plain):
                row.used_at = timezone.now()
                row.save(update_fields=["used_at"])
                logger.info("accounts: user %s signed in with a recovery code", user.pk)
                return True
    return False


def recovery_codes_regenerate(*, user, code: str) -> list[str]:
    """A new set, on a current TOTP code (a stolen session alone cannot read or replace them)."""
    if not totp_enabled(user=user):
        raise DomainError("Two-factor authentication is not on.", code="mfa_not_enabled", status_code=409)
    if not totp_verify(user=user, code=code):
        raise DomainError("The code is not right.", code="mfa_invalid_code")
    return recovery_codes_generate(user=user)


def mfa_code_accept(*, user, code: str) -> bool:
    """A current TOTP code, or else an unused recovery code (spent by this call)."""
    code = (code or "").strip()
    if not code:
        return False
    if len(_recovery_normalize(code)) == RECOVERY_LENGTH:
        return recovery_code_use(user=user, code=code)
    return totp_verify(user=user, code=code)


def mfa_login_check(*, user, code: str) -> None:
    """Called by the login after the password: a user with TOTP on must send a valid code (or one
    of their recovery codes, each accepted once)."""
    if not totp_enabled(user=user):
        return
    if not code:
        raise DomainError("Enter the code from your authenticator app.", code="mfa_required", status_code=401)
    if not mfa_code_accept(user=user, code=code):
        raise DomainError("The code is not right.", code="mfa_invalid_code", status_code=401)


def mfa_required_for(user) -> bool:
    return bool(getattr(settings, "SETKA_ADMIN_REQUIRE_MFA", True)) and (user.is_staff or user.is_superuser)


class AdminMfaLoginForm(AdminAuthenticationForm):
    """The admin login with a TOTP code: operators and staff must have two-factor on."""

    otp = forms.CharField(label="Authenticator code (or a recovery code)", required=False, max_length=16)

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not mfa_required_for(user):
            return
        if not totp_enabled(user=user):
            raise forms.ValidationError(
                "Operators must turn on two-factor authentication (Profile, API /api/auth/mfa/totp/) first.",
                code="mfa_not_enabled",
            )
        if not mfa_code_accept(user=user, code=self.data.get("otp", "")):
            raise forms.ValidationError("Enter the current code from your authenticator app.", code="mfa_invalid_code")


class _CodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=16)


_STATE = inline_serializer(
    "MfaTotpState", {"enabled": serializers.BooleanField(), "recovery_codes_left": serializers.IntegerField()}
)
_CODES = inline_serializer(
    "MfaRecoveryCodes",
    {"enabled": serializers.BooleanField(), "recovery_codes": serializers.ListField(child=serializers.CharField())},
)
_SETUP = inline_serializer("MfaTotpSetup", {"secret": serializers.CharField(), "otpauth_url": serializers.CharField()})


def _state(user) -> dict:
    return {"enabled": totp_enabled(user=user), "recovery_codes_left": recovery_codes_left(user=user)}


class _MfaView(APIView):
    authentication_classes = [CookieTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "GET":
            enforce_csrf(request)


class MfaTotpApi(_MfaView):
    """GET: is TOTP on, how many recovery codes are left. POST {}: begin set-up (secret +
    otpauth URL). PUT {code}: confirm; answers the recovery codes (shown this once). DELETE
    {code}: turn it off (a TOTP code or a recovery code)."""

    @extend_schema(responses=_STATE)
    def get(self, request):
        return Response(_state(request.user))

    @extend_schema(request=None, responses={201: _SETUP})
    def post(self, request):
        return Response(totp_setup_begin(user=request.user), status=status.HTTP_201_CREATED)

    @extend_schema(request=_CodeInput, responses=_CODES)
    def put(self, request):
        data = _CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        codes = totp_setup_confirm(user=request.user, code=data.validated_data["code"])
        return Response({"enabled": True, "recovery_codes": codes})

    @extend_schema(request=_CodeInput, responses=_STATE)
    def delete(self, request):
        data = _CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        totp_disable(user=request.user, code=data.validated_data["code"])
        return Response(_state(request.user))


class MfaRecoveryCodesApi(_MfaView):
    """POST {code}: a new set of recovery codes on a current TOTP code; the old ones stop working.
    The codes are in this answer only (never readable again)."""

    @extend_schema(request=_CodeInput, responses=_CODES)
    def post(self, request):
        data = _CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        codes = recovery_codes_regenerate(user=request.user, code=data.validated_data["code"])
        return Response({"enabled": True, "recovery_codes": codes})
