"""Explicit input and output shapes of the auth API (see docs/api-contract.md, "Auth")."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from accounts.models import RefreshToken, User
from accounts.selectors import user_email_verified

THEMES = ["system", "light", "dark"]


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    language = serializers.CharField(read_only=True)
    theme = serializers.SerializerMethodField()
    notify_email = serializers.SerializerMethodField()
    email_verified = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    phone_verified = serializers.SerializerMethodField()
    has_access = serializers.SerializerMethodField()
    is_staff = serializers.BooleanField(read_only=True)

    @staticmethod
    def _profile(user: User):
        return getattr(user, "profile", None) if hasattr(user, "profile") else None

    def get_theme(self, user: User) -> str:
        profile = self._profile(user)
        return profile.theme if profile else "system"

    def get_notify_email(self, user: User) -> bool:
        profile = self._profile(user)
        return profile.notify_email if profile else True

    def get_email_verified(self, user: User) -> bool:
        return user_email_verified(user=user)

    def get_phone(self, user: User) -> str:
        profile = self._profile(user)
        return profile.phone if profile and profile.phone_verified_at else ""

    def get_phone_verified(self, user: User) -> bool:
        profile = self._profile(user)
        return bool(profile and profile.phone and profile.phone_verified_at)

    def get_has_access(self, user: User) -> bool:
        return user.has_trading_access


def user_data(user: User) -> dict:
    try:
        user.profile  # noqa: B018 - load it once (or learn there is none)
    except User.profile.RelatedObjectDoesNotExist:
        pass
    return UserSerializer(user).data


def _email():
    return serializers.EmailField(max_length=254)


def _password():
    return serializers.CharField(max_length=128, trim_whitespace=False)


def _code():
    return serializers.RegexField(
        r"^\s*\d{6}\s*$", max_length=12, error_messages={"invalid": gettext_lazy("Enter the 6-digit code.")}
    )


class ApiErrorSerializer(serializers.Serializer):
    """Every error answer of the API (config.exceptions)."""

    detail = serializers.CharField(help_text="A sentence for a person, in the request's language")
    code = serializers.CharField(help_text="Stable machine code the app renders from its locale")
    # A declared field named "fields": DRF's metaclass pops it from the class, the stub cannot know.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages (input errors only)",
    )


class LoginUnlockInput(serializers.Serializer):
    token = serializers.CharField(max_length=300)


class SignupInput(serializers.Serializer):
    email = _email()
    password = _password()
    access_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=User.Language.choices, required=False)


class EmailInput(serializers.Serializer):
    email = _email()


class EmailCodeInput(serializers.Serializer):
    email = _email()
    code = _code()


class LoginInput(serializers.Serializer):
    email = _email()
    password = _password()


class PasswordResetConfirmInput(serializers.Serializer):
    email = _email()
    code = _code()
    password = _password()


class PasswordChangeInput(serializers.Serializer):
    current_password = _password()
    password = _password()


class PhoneInput(serializers.Serializer):
    phone = serializers.CharField(max_length=32)


class CodeInput(serializers.Serializer):
    code = _code()


class AccessCodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=40)


class ProfileUpdateInput(serializers.Serializer):
    language = serializers.ChoiceField(choices=User.Language.choices, required=False)
    theme = serializers.ChoiceField(choices=THEMES, required=False)
    notify_email = serializers.BooleanField(required=False)


class SessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="session_started_at", read_only=True)

    class Meta:
        model = RefreshToken
        fields = ["id", "created_at", "last_used_at", "user_agent", "ip_address", "current"]

    def get_current(self, row: RefreshToken) -> bool:
        return row.family == self.context.get("current_family")
