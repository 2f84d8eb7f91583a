"""Two-factor authentication (TOTP) through allauth's MFA: set-up (a secret shown once as an
otpauth:// link, confirmed by a first code), the check at login, and the admin login form that
requires it of operators and staff (SETKA_ADMIN_REQUIRE_MFA, on in production)."""

from __future__ import annotations

from urllib.parse import quote

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, validate_totp_code
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import CookieTokenAuthentication, enforce_csrf
from config.exceptions import DomainError

PENDING_KEY = "setka:mfa-totp-pending:{}"
ISSUER = "Setka"


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


def totp_setup_confirm(*, user, code: str) -> None:
    secret = cache.get(PENDING_KEY.format(user.pk))
    if not secret:
        raise DomainError("Start the set-up again: it expired.", code="mfa_setup_expired")
    if not validate_totp_code(secret, (code or "").strip()):
        raise DomainError("The code is not right; check the time on your phone.", code="mfa_invalid_code")
    TOTP.activate(user, secret)
    cache.delete(PENDING_KEY.format(user.pk))


def totp_verify(*, user, code: str) -> bool:
    authenticator = totp_authenticator(user=user)
    return authenticator is not None and TOTP(authenticator).validate_code((code or "").strip())


def totp_disable(*, user, code: str) -> None:
    if not totp_verify(user=user, code=code):
        raise DomainError("The code is not right.", code="mfa_invalid_code")
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()


def mfa_login_check(*, user, code: str) -> None:
    """Called by the login after the password: a user with TOTP on must send a valid code."""
    if not totp_enabled(user=user):
        return
    if not code:
        raise DomainError("Enter the code from your authenticator app.", code="mfa_required", status_code=401)
    if not totp_verify(user=user, code=code):
        raise DomainError("The code is not right.", code="mfa_invalid_code", status_code=401)


def mfa_required_for(user) -> bool:
    return bool(getattr(settings, "SETKA_ADMIN_REQUIRE_MFA", True)) and (user.is_staff or user.is_superuser)


class AdminMfaLoginForm(AdminAuthenticationForm):
    """The admin login with a TOTP code: operators and staff must have two-factor on."""

    otp = forms.CharField(label="Authenticator code", required=False, max_length=8)

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not mfa_required_for(user):
            return
        if not totp_enabled(user=user):
            raise forms.ValidationError(
                "Operators must turn on two-factor authentication (Profile, API /api/auth/mfa/totp/) first.",
                code="mfa_not_enabled",
            )
        if not totp_verify(user=user, code=self.data.get("otp", "")):
            raise forms.ValidationError("Enter the current code from your authenticator app.", code="mfa_invalid_code")


class _CodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=8)


_STATE = inline_serializer("MfaTotpState", {"enabled": serializers.BooleanField()})
_SETUP = inline_serializer("MfaTotpSetup", {"secret": serializers.CharField(), "otpauth_url": serializers.CharField()})


class MfaTotpApi(APIView):
    """GET: is TOTP on. POST {}: begin set-up (secret + otpauth URL). PUT {code}: confirm.
    DELETE {code}: turn it off."""

    authentication_classes = [CookieTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "GET":
            enforce_csrf(request)

    @extend_schema(responses=_STATE)
    def get(self, request):
        return Response({"enabled": totp_enabled(user=request.user)})

    @extend_schema(request=None, responses={201: _SETUP})
    def post(self, request):
        return Response(totp_setup_begin(user=request.user), status=status.HTTP_201_CREATED)

    @extend_schema(request=_CodeInput, responses=_STATE)
    def put(self, request):
        data = _CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        totp_setup_confirm(user=request.user, code=data.validated_data["code"])
        return Response({"enabled": True})

    @extend_schema(request=_CodeInput, responses=_STATE)
    def delete(self, request):
        data = _CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        totp_disable(user=request.user, code=data.validated_data["code"])
        return Response({"enabled": False})
