from django.urls import path

from accounts import apis
from accounts.mfa import MfaRecoveryCodesApi, MfaTotpApi

app_name = "accounts"

urlpatterns = [
    path("csrf/", apis.CsrfApi.as_view(), name="csrf"),
    path("signup/", apis.SignupApi.as_view(), name="signup"),
    path("email/verify/", apis.EmailVerifyApi.as_view(), name="email-verify"),
    path("email/resend/", apis.EmailResendApi.as_view(), name="email-resend"),
    path("login/", apis.LoginApi.as_view(), name="login"),
    path("login/unlock/", apis.LoginUnlockApi.as_view(), name="login-unlock"),
    path("refresh/", apis.RefreshApi.as_view(), name="refresh"),
    path("logout/", apis.LogoutApi.as_view(), name="logout"),
    path("session/", apis.SessionApi.as_view(), name="session"),
    path("password/reset/", apis.PasswordResetApi.as_view(), name="password-reset"),
    path("password/reset/confirm/", apis.PasswordResetConfirmApi.as_view(), name="password-reset-confirm"),
    path("password/change/", apis.PasswordChangeApi.as_view(), name="password-change"),
    path("phone/", apis.PhoneApi.as_view(), name="phone"),
    path("phone/verify/", apis.PhoneVerifyApi.as_view(), name="phone-verify"),
    path("access/redeem/", apis.AccessRedeemApi.as_view(), name="access-redeem"),
    path("sessions/", apis.SessionListApi.as_view(), name="sessions"),
    path("sessions/end-all/", apis.SessionEndAllApi.as_view(), name="sessions-end-all"),
    path("sessions/<int:session_id>/", apis.SessionDeleteApi.as_view(), name="session-delete"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("mfa/totp/", MfaTotpApi.as_view(), name="mfa-totp"),
    path("mfa/recovery-codes/", MfaRecoveryCodesApi.as_view(), name="mfa-recovery-codes"),
]
