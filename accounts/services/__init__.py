"""Account actions: sign-up, email and phone verification by code, login checks, password reset,
access grants. Views, admin actions and management commands call these; they raise
config.errors.DomainError (answered as 4xx) for anything the user did wrong.

Import from here (`from accounts import services; services.access_grant_issue(...)`); the
submodules are an implementation detail."""

from accounts.services.access import AccessEndReason, user_access_end, user_deactivate
from accounts.services.codes import CODE_MAX_ATTEMPTS, CODE_TTL
from accounts.services.common import RateLimited, email_normalize, field_error
from accounts.services.grants import (
    ACCESS_CODE_ALPHABET,
    ACCESS_CODE_LENGTH,
    access_code_generate,
    access_code_normalize,
    access_grant_issue,
    access_grant_redeem,
    access_grant_revoke,
    access_grant_send,
    user_access_grant,
    user_access_revoke,
)
from accounts.services.phone import phone_code_send, phone_normalize, phone_verify
from accounts.services.users import (
    LoginLocked,
    email_code_send,
    email_resend,
    email_verify,
    login_unlock_offer,
    login_unlock_redeem,
    password_change,
    password_reset_confirm,
    password_reset_request,
    password_validate,
    profile_update,
    signup_existing_notify,
    user_create,
    user_login,
    user_password_set,
    user_signup,
)

__all__ = [
    "AccessEndReason",
    "user_access_end",
    "user_deactivate",
    "ACCESS_CODE_ALPHABET",
    "ACCESS_CODE_LENGTH",
    "CODE_MAX_ATTEMPTS",
    "CODE_TTL",
    "LoginLocked",
    "RateLimited",
    "login_unlock_offer",
    "login_unlock_redeem",
    "signup_existing_notify",
    "access_code_generate",
    "access_code_normalize",
    "access_grant_issue",
    "access_grant_redeem",
    "access_grant_revoke",
    "access_grant_send",
    "email_code_send",
    "email_normalize",
    "email_resend",
    "email_verify",
    "field_error",
    "password_change",
    "password_reset_confirm",
    "password_reset_request",
    "password_validate",
    "phone_code_send",
    "phone_normalize",
    "phone_verify",
    "profile_update",
    "user_access_grant",
    "user_access_revoke",
    "user_create",
    "user_login",
    "user_password_set",
    "user_signup",
]
