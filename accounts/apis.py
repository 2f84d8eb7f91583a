"""The auth JSON API under /api/auth/ (docs/api-contract.md, "Auth"). Thin: parse input with a
serializer, call one service, shape the answer, set or clear the cookies."""

from __future__ import annotations

from django.middleware.csrf import get_token, rotate_token
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.adapters import signup_open
from accounts.authentication import CookieTokenAuthentication, LenientCookieTokenAuthentication, enforce_csrf
from accounts.mfa import mfa_login_check
from accounts.models import User
from accounts.serializers import (
    AccessCodeInput,
    CodeInput,
    EmailCodeInput,
    EmailInput,
    LoginInput,
    PasswordChangeInput,
    PasswordResetConfirmInput,
    PhoneInput,
    ProfileUpdateInput,
    SessionSerializer,
    SignupInput,
    UserSerializer,
    user_data,
)
from accounts.throttling import AuthAnonThrottle, LoginThrottle, client_ip
from accounts.tokens import (
    REFRESH_COOKIE,
    TokenError,
    cookies_clear,
    cookies_set,
    refresh_family_revoke,
    refresh_token_revoke_raw,
    tokens_issue,
    tokens_refresh,
)
from config.exceptions import DomainError

_USER = OpenApiResponse(UserSerializer)
_OK = inline_serializer("AuthOk", {"detail": serializers.CharField()})


class PublicAuthApi(APIView):
    """Anonymous-friendly auth endpoints: a stale cookie is ignored, CSRF is always checked on
    unsafe methods (login CSRF would let a site log a victim into the attacker's account)."""

    authentication_classes = [LenientCookieTokenAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [AuthAnonThrottle]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in SAFE_METHODS:
            enforce_csrf(request)

    @staticmethod
    def parse(serializer_class, request):
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class UserAuthApi(PublicAuthApi):
    """Endpoints of a logged-in user: an expired access cookie answers 401."""

    authentication_classes = [CookieTokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = []


def _login_response(request, user, *, status_code=status.HTTP_200_OK, family=None) -> Response:
    tokens = tokens_issue(user=user, request=request, family=family)
    response = Response({"user": user_data(user)}, status=status_code)
    cookies_set(response, tokens)
    rotate_token(request._request)  # a new CSRF secret for the new identity
    return response


def _request_language(request) -> str | None:
    """The browser's language (LocaleMiddleware) when the sign-up form did not say."""
    language = getattr(request._request, "LANGUAGE_CODE", None)
    return language if language in User.Language.values else None


class CsrfApi(PublicAuthApi):
    throttle_classes = []

    @extend_schema(responses={204: None})
    def get(self, request):
        get_token(request._request)  # CsrfViewMiddleware sets the csrftoken cookie on the way out
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignupApi(PublicAuthApi):
    @extend_schema(request=SignupInput, responses={201: _USER})
    def post(self, request):
        data = self.parse(SignupInput, request)
        if not signup_open(request):
            raise DomainError(_("Sign-up is closed."), code="signup_closed", status_code=status.HTTP_403_FORBIDDEN)
        user = services.user_signup(
            email=data["email"],
            password=data["password"],
            language=data.get("language") or _request_language(request),
            access_code=data.get("access_code", ""),
            ip=client_ip(request),
        )
        return Response({"user": user_data(user)}, status=status.HTTP_201_CREATED)


class EmailVerifyApi(PublicAuthApi):
    """A right code confirms the address and logs the user in (sets the cookies)."""

    @extend_schema(request=EmailCodeInput, responses={200: _USER})
    def post(self, request):
        data = self.parse(EmailCodeInput, request)
        user = services.email_verify(email=data["email"], code=data["code"])
        return _login_response(request, user)


class EmailResendApi(PublicAuthApi):
    @extend_schema(request=EmailInput, responses={200: _OK})
    def post(self, request):
        data = self.parse(EmailInput, request)
        services.email_resend(email=data["email"])
        return Response({"detail": _("If the account exists and is not confirmed yet, a new code was sent.")})


class LoginApi(PublicAuthApi):
    throttle_classes = [LoginThrottle]

    @extend_schema(request=LoginInput, responses={200: _USER})
    def post(self, request):
        data = self.parse(LoginInput, request)
        try:
            user = services.user_login(email=data["email"], password=data["password"], ip=client_ip(request))
        except services.LoginLocked as exc:
            raise Throttled(wait=exc.retry_after, detail=exc.message, code="login_locked") from exc
        mfa_login_check(user=user, code=str(request.data.get("otp", "")))  # TOTP when the user turned it on
        return _login_response(request, user)


def _unauthorized(detail: str, code: str) -> Response:
    response = Response({"detail": detail, "code": code}, status=status.HTTP_401_UNAUTHORIZED)
    if code != "refresh_race":  # the browser already holds the other tab's fresh cookies: keep them
        cookies_clear(response)
    return response


class RefreshApi(PublicAuthApi):
    throttle_classes = []

    @extend_schema(request=None, responses={200: _USER, 401: OpenApiResponse(description="log in again")})
    def post(self, request):
        try:
            user, tokens = tokens_refresh(raw_refresh=request.COOKIES.get(REFRESH_COOKIE, ""), request=request)
        except TokenError as exc:
            return _unauthorized(str(exc), exc.code)
        response = Response({"user": user_data(user)})
        cookies_set(response, tokens)
        return response


class LogoutApi(PublicAuthApi):
    throttle_classes = []

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        refresh_token_revoke_raw(raw_refresh=request.COOKIES.get(REFRESH_COOKIE, ""))
        response = Response(status=status.HTTP_204_NO_CONTENT)
        cookies_clear(response)
        return response


class SessionApi(PublicAuthApi):
    """Who am I. No cookie: anonymous (200); an expired cookie: 401 so the SPA refreshes."""

    authentication_classes = [CookieTokenAuthentication]
    throttle_classes = []

    @extend_schema(
        responses={
            200: inline_serializer(
                "AuthSession", {"authenticated": serializers.BooleanField(), "user": UserSerializer(allow_null=True)}
            )
        }
    )
    def get(self, request):
        if not request.user.is_authenticated:
            return Response({"authenticated": False, "user": None})
        return Response({"authenticated": True, "user": user_data(request.user)})


class PasswordResetApi(PublicAuthApi):
    @extend_schema(request=EmailInput, responses={200: _OK})
    def post(self, request):
        data = self.parse(EmailInput, request)
        services.password_reset_request(email=data["email"])
        return Response({"detail": _("If an account with this email exists, a code was sent to it.")})


class PasswordResetConfirmApi(PublicAuthApi):
    @extend_schema(request=PasswordResetConfirmInput, responses={200: _OK})
    def post(self, request):
        data = self.parse(PasswordResetConfirmInput, request)
        services.password_reset_confirm(email=data["email"], code=data["code"], password=data["password"])
        response = Response({"detail": _("The password was changed. Log in with the new password.")})
        cookies_clear(response)
        return response


class PasswordChangeApi(UserAuthApi):
    """Change the password; every other session ends, this device gets fresh cookies."""

    @extend_schema(request=PasswordChangeInput, responses={200: _USER})
    def post(self, request):
        data = self.parse(PasswordChangeInput, request)
        services.password_change(
            user=request.user, current_password=data["current_password"], password=data["password"]
        )
        return _login_response(request, request.user)


class PhoneApi(UserAuthApi):
    @extend_schema(request=PhoneInput, responses={200: _OK})
    def post(self, request):
        data = self.parse(PhoneInput, request)
        phone = services.phone_code_send(user=request.user, phone=data["phone"])
        return Response({"detail": _("A code was sent by SMS."), "phone": phone})


class PhoneVerifyApi(UserAuthApi):
    @extend_schema(request=CodeInput, responses={200: _USER})
    def post(self, request):
        data = self.parse(CodeInput, request)
        user = services.phone_verify(user=request.user, code=data["code"])
        return Response({"user": user_data(user)})


class AccessRedeemApi(UserAuthApi):
    @extend_schema(request=AccessCodeInput, responses={200: _USER})
    def post(self, request):
        data = self.parse(AccessCodeInput, request)
        user = services.access_grant_redeem(user=request.user, code=data["code"])
        return Response({"user": user_data(user)})


class SessionListApi(UserAuthApi):
    @extend_schema(responses={200: SessionSerializer(many=True)})
    def get(self, request):
        family = selectors.refresh_family_of(raw_refresh=request.COOKIES.get(REFRESH_COOKIE))
        rows = selectors.user_sessions_list(user=request.user)
        return Response(SessionSerializer(rows, many=True, context={"current_family": family}).data)


class SessionDeleteApi(UserAuthApi):
    @extend_schema(responses={204: None})
    def delete(self, request, session_id: int):
        row = selectors.user_session_get(user=request.user, session_id=session_id)
        if row is None:
            raise NotFound(_("No such session."))
        refresh_family_revoke(family=row.family)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        if row.family == selectors.refresh_family_of(raw_refresh=request.COOKIES.get(REFRESH_COOKIE)):
            cookies_clear(response)
        return response


class MeApi(UserAuthApi):
    @extend_schema(request=ProfileUpdateInput, responses={200: _USER})
    def patch(self, request):
        serializer = ProfileUpdateInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.profile_update(user=request.user, **serializer.validated_data)
        return Response({"user": user_data(user)})

    @extend_schema(responses={200: _USER})
    def get(self, request):
        return Response({"user": user_data(request.user)})
