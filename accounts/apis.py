"""The auth JSON API under /api/auth/ (docs/api-contract.md, "Auth"). Thin: parse input with a
serializer, call one service, shape the answer, set or clear the cookies."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.middleware.csrf import get_token, rotate_token
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
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
    ApiErrorSerializer,
    CodeInput,
    EmailCodeInput,
    EmailInput,
    LoginInput,
    LoginUnlockInput,
    PasswordChangeInput,
    PasswordResetConfirmInput,
    PhoneInput,
    ProfileUpdateInput,
    SessionSerializer,
    SignupInput,
    UserSerializer,
    user_data,
)
from accounts.throttling import AuthAnonThrottle, LoginThrottle, SessionThrottle, UserRateThrottle, client_ip
from accounts.tokens import (
    REFRESH_COOKIE,
    TokenError,
    cookies_clear,
    cookies_set,
    refresh_family_revoke,
    refresh_token_revoke_raw,
    tokens_issue,
    tokens_refresh,
    user_tokens_revoke_all,
)
from config.errors import DomainError

_USER = OpenApiResponse(UserSerializer)
_OK = inline_serializer("AuthOk", {"detail": serializers.CharField()})
_SIGNED_UP = inline_serializer(
    "AuthSignedUp",
    {"detail": serializers.CharField(), "code": serializers.CharField(), "email": serializers.EmailField()},
)

# The error answers of the auth endpoints, as they really are: {"detail", "code", "fields"?}.
_E400 = OpenApiResponse(ApiErrorSerializer, description="Invalid input: `code` says what, `fields` where.")
_E401 = OpenApiResponse(
    ApiErrorSerializer, description="Not logged in, or the session ended (code token_invalid/token_expired)."
)
_E403 = OpenApiResponse(ApiErrorSerializer, description="Refused (e.g. csrf_failed, signup_closed, email_unverified).")
_E404 = OpenApiResponse(ApiErrorSerializer, description="No such object (or someone else's).")
_E429 = OpenApiResponse(
    ApiErrorSerializer,
    description="Too many attempts (code throttled, login_locked, too_many_attempts, too_many_codes, "
    "too_many_phone_numbers); wait `Retry-After` seconds.",
)
_E503 = OpenApiResponse(ApiErrorSerializer, description="The SMS could not be sent (code sms_failed); try later.")
_RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before trying again.",
)


def _answers(ok: dict, *errors: int) -> dict:
    table = {400: _E400, 401: _E401, 403: _E403, 404: _E404, 429: _E429, 503: _E503}
    return {**ok, **{code: table[code] for code in errors}}


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

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        retry_after = getattr(exc, "retry_after", None)  # services.RateLimited (login lock, budgets)
        if retry_after and response is not None:
            response["Retry-After"] = str(int(retry_after))
        return response

    @staticmethod
    def parse(serializer_class, request):
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class UserAuthApi(PublicAuthApi):
    """Endpoints of a logged-in user: an expired access cookie answers 401."""

    authentication_classes = [CookieTokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [UserRateThrottle]


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
    throttle_classes = [SessionThrottle]

    @extend_schema(responses=_answers({204: None}, 429), parameters=[_RETRY_AFTER])
    def get(self, request):
        get_token(request._request)  # CsrfViewMiddleware sets the csrftoken cookie on the way out
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignupApi(PublicAuthApi):
    """The same 201 whether the address is new or already has an account (its owner is emailed
    then): nobody can learn from it who uses Setka."""

    @extend_schema(request=SignupInput, responses=_answers({201: _SIGNED_UP}, 400, 403, 429), parameters=[_RETRY_AFTER])
    def post(self, request):
        data = self.parse(SignupInput, request)
        if not signup_open(request):
            raise DomainError(_("Sign-up is closed."), code="signup_closed", status_code=status.HTTP_403_FORBIDDEN)
        email = services.user_signup(
            email=data["email"],
            password=data["password"],
            language=data.get("language") or _request_language(request),
            access_code=data.get("access_code", ""),
            ip=client_ip(request),
        )
        body = {
            "detail": _("We sent a 6-digit code to %(email)s. Enter it to confirm the address.") % {"email": email},
            "code": "signup_check_email",
            "email": email,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class EmailVerifyApi(PublicAuthApi):
    """A right code confirms the address and logs the user in (sets the cookies)."""

    @extend_schema(request=EmailCodeInput, responses=_answers({200: _USER}, 400, 403, 429), parameters=[_RETRY_AFTER])
    def post(self, request):
        data = self.parse(EmailCodeInput, request)
        user = services.email_verify(email=data["email"], code=data["code"])
        return _login_response(request, user)


class EmailResendApi(PublicAuthApi):
    @extend_schema(request=EmailInput, responses=_answers({200: _OK}, 400, 403, 429), parameters=[_RETRY_AFTER])
    def post(self, request):
        data = self.parse(EmailInput, request)
        services.email_resend(email=data["email"])
        return Response({"detail": _("If the account exists and is not confirmed yet, a new code was sent.")})


class LoginApi(PublicAuthApi):
    throttle_classes = [LoginThrottle]

    @extend_schema(
        request=LoginInput,
        responses=_answers({200: _USER}, 400, 403, 429),
        parameters=[_RETRY_AFTER],
        description="Sets the cookies. 400 invalid_credentials; 403 email_unverified (right password, "
        "address not confirmed) or csrf_failed; 429 login_locked (this account from this address, "
        "growing delay; the owner is emailed an unlock link) or throttled.",
    )
    def post(self, request):
        data = self.parse(LoginInput, request)
        user = services.user_login(email=data["email"], password=data["password"], ip=client_ip(request))
        mfa_login_check(user=user, code=str(request.data.get("otp", "")))  # TOTP when the user turned it on
        return _login_response(request, user)


class LoginUnlockApi(PublicAuthApi):
    """The link in the "login locked" email: unlocks the account for the device that opens it."""

    @extend_schema(
        parameters=[OpenApiParameter("token", str, required=True)],
        responses={302: OpenApiResponse(description="to /login?unlocked=1 (or ?unlock=invalid)"), 429: _E429},
    )
    def get(self, request):
        try:
            services.login_unlock_redeem(token=request.query_params.get("token", ""), ip=client_ip(request))
        except DomainError:
            return HttpResponseRedirect("/login?unlock=invalid")
        return HttpResponseRedirect("/login?unlocked=1")

    @extend_schema(request=LoginUnlockInput, responses=_answers({200: _OK}, 400, 403, 429), parameters=[_RETRY_AFTER])
    def post(self, request):
        data = self.parse(LoginUnlockInput, request)
        services.login_unlock_redeem(token=data["token"], ip=client_ip(request))
        return Response({"detail": _("Unlocked: you can log in from this device now."), "code": "login_unlocked"})


def _unauthorized(detail: str, code: str) -> Response:
    response = Response({"detail": detail, "code": code}, status=status.HTTP_401_UNAUTHORIZED)
    if code != "refresh_race":  # the browser already holds the other tab's fresh cookies: keep them
        cookies_clear(response)
    return response


class RefreshApi(PublicAuthApi):
    throttle_classes = [SessionThrottle]

    @extend_schema(
        request=None,
        responses=_answers(
            {
                200: _USER,
                401: OpenApiResponse(
                    ApiErrorSerializer,
                    description="Log in again (token_invalid, token_expired), or refresh_race: another tab "
                    "rotated the token a moment ago, retry with the new cookie.",
                ),
            },
            403,
            429,
        ),
        parameters=[_RETRY_AFTER],
    )
    def post(self, request):
        try:
            user, tokens = tokens_refresh(raw_refresh=request.COOKIES.get(REFRESH_COOKIE, ""), request=request)
        except TokenError as exc:
            return _unauthorized(str(exc), exc.code)
        response = Response({"user": user_data(user)})
        cookies_set(response, tokens)
        return response


class LogoutApi(PublicAuthApi):
    throttle_classes = [SessionThrottle]

    @extend_schema(request=None, responses=_answers({204: None}, 403, 429), parameters=[_RETRY_AFTER])
    def post(self, request):
        refresh_token_revoke_raw(raw_refresh=request.COOKIES.get(REFRESH_COOKIE, ""))
        # No refresh cookie (it lives on /api/auth/ only) but a live access cookie: end its session.
        refresh_family_revoke(family=getattr(request.user, "session_family", None))
        response = Response(status=status.HTTP_204_NO_CONTENT)
        cookies_clear(response)
        return response


class SessionApi(PublicAuthApi):
    """Who am I. No cookie: anonymous (200); an expired cookie: 401 so the SPA refreshes."""

    authentication_classes = [CookieTokenAuthentication]
    throttle_classes = [SessionThrottle]

    @extend_schema(
        responses=_answers(
            {
                200: inline_serializer(
                    "AuthSession",
                    {"authenticated": serializers.BooleanField(), "user": UserSerializer(allow_null=True)},
                )
            },
            401,
            429,
        ),
        parameters=[_RETRY_AFTER],
    )
    def get(self, request):
        if not request.user.is_authenticated:
            return Response({"authenticated": False, "user": None})
        return Response({"authenticated": True, "user": user_data(request.user)})


class PasswordResetApi(PublicAuthApi):
    @extend_schema(request=EmailInput, responses=_answers({200: _OK}, 400, 403, 429), parameters=[_RETRY_AFTER])
    def post(self, request):
        data = self.parse(EmailInput, request)
        services.password_reset_request(email=data["email"])
        return Response({"detail": _("If an account with this email exists, a code was sent to it.")})


class PasswordResetConfirmApi(PublicAuthApi):
    @extend_schema(
        request=PasswordResetConfirmInput, responses=_answers({200: _OK}, 400, 403, 429), parameters=[_RETRY_AFTER]
    )
    def post(self, request):
        data = self.parse(PasswordResetConfirmInput, request)
        services.password_reset_confirm(email=data["email"], code=data["code"], password=data["password"])
        response = Response({"detail": _("The password was changed. Log in with the new password.")})
        cookies_clear(response)
        return response


class PasswordChangeApi(UserAuthApi):
    """Change the password; every other session ends, this device gets fresh cookies."""

    @extend_schema(
        request=PasswordChangeInput,
        responses=_answers({200: _USER}, 400, 401, 403, 429),
        parameters=[_RETRY_AFTER],
        description="400 wrong_password or weak_password; 429 too_many_attempts after "
        "SETKA_PASSWORD_CHANGE_MAX_FAILURES wrong current passwords.",
    )
    def post(self, request):
        data = self.parse(PasswordChangeInput, request)
        services.password_change(
            user=request.user, current_password=data["current_password"], password=data["password"]
        )
        return _login_response(request, request.user)


class PhoneApi(UserAuthApi):
    """The same answer whether or not the number belongs to another account."""

    @extend_schema(
        request=PhoneInput,
        responses=_answers(
            {
                200: inline_serializer(
                    "AuthPhoneSent", {"detail": serializers.CharField(), "phone": serializers.CharField()}
                )
            },
            400,
            401,
            403,
            429,
            503,
        ),
        parameters=[_RETRY_AFTER],
    )
    def post(self, request):
        data = self.parse(PhoneInput, request)
        phone = services.phone_code_send(user=request.user, phone=data["phone"])
        return Response({"detail": _("A code was sent by SMS."), "phone": phone})


class PhoneVerifyApi(UserAuthApi):
    @extend_schema(request=CodeInput, responses=_answers({200: _USER}, 400, 401, 403))
    def post(self, request):
        data = self.parse(CodeInput, request)
        user = services.phone_verify(user=request.user, code=data["code"])
        return Response({"user": user_data(user)})


class AccessRedeemApi(UserAuthApi):
    @extend_schema(
        request=AccessCodeInput, responses=_answers({200: _USER}, 400, 401, 403, 429), parameters=[_RETRY_AFTER]
    )
    def post(self, request):
        data = self.parse(AccessCodeInput, request)
        user = services.access_grant_redeem(user=request.user, code=data["code"])
        return Response({"user": user_data(user)})


class SessionEndAllApi(UserAuthApi):
    """Log out everywhere: every session of the user ends (this one too), access cookies stop
    working and open WebSockets close at once."""

    @extend_schema(request=None, responses=_answers({204: None}, 401, 403))
    def post(self, request):
        user_tokens_revoke_all(user=request.user)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        cookies_clear(response)
        return response


class SessionListApi(UserAuthApi):
    @extend_schema(responses=_answers({200: SessionSerializer(many=True)}, 401))
    def get(self, request):
        family = selectors.refresh_family_of(raw_refresh=request.COOKIES.get(REFRESH_COOKIE))
        rows = selectors.user_sessions_list(user=request.user)
        return Response(SessionSerializer(rows, many=True, context={"current_family": family}).data)


class SessionDeleteApi(UserAuthApi):
    @extend_schema(responses=_answers({204: None}, 401, 403, 404))
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
    @extend_schema(request=ProfileUpdateInput, responses=_answers({200: _USER}, 400, 401, 403))
    def patch(self, request):
        serializer = ProfileUpdateInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.profile_update(user=request.user, **serializer.validated_data)
        return Response({"user": user_data(user)})

    @extend_schema(responses=_answers({200: _USER}, 401))
    def get(self, request):
        return Response({"user": user_data(request.user)})
