"""Users (email login), their profile, operator-issued access grants, refresh tokens and the
outbox of messages (SMS and email) that development and tests read instead of sending."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person. Logs in with email; may trade only after an operator granted access."""

    class Language(models.TextChoices):
        RU = "ru", "Русский"
        EN = "en", "English"

    username = None  # type: ignore[assignment]  # Django's documented way to drop an inherited field
    email = models.EmailField("email address", unique=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.RU)
    # Stage-1 gate: set when a grant is redeemed or an operator activates the user in admin.
    access_granted_at = models.DateTimeField(null=True, blank=True)
    access_revoked_at = models.DateTimeField(null=True, blank=True)
    # Bumped by a password change or "log out everywhere": access tokens carrying an older
    # version stop working at once (accounts.tokens).
    token_version = models.PositiveIntegerField(default=0, editable=False)
    # Not a column: the login session an access token belongs to, set by accounts.tokens.
    session_family: uuid.UUID | None

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Not auth's UserManager (email, no username): the stub types objects as that one.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["id"]
        constraints = [
            # Every code path stores emails lower-case; this is the database's guarantee of it.
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def has_trading_access(self) -> bool:
        if self.access_revoked_at is not None or not self.is_active:
            return False
        if getattr(settings, "SETKA_REGISTRATION_MODE", "invite") == "open":
            return True  # stage 2: every account trades within its plan (billing entitlements)
        return self.access_granted_at is not None


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    phone = models.CharField(max_length=20, blank=True, default="", help_text="E.164, e.g. +79991234567")
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    theme = models.CharField(max_length=8, default="system")
    notify_email = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["phone"], condition=~Q(phone=""), name="profile_phone_unique"),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class AccessGrant(models.Model):
    """A single-use access code issued by an operator (or a direct activation of one user)."""

    code = models.CharField(max_length=32, unique=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grants_issued")
    issued_to_email = models.EmailField(blank=True, default="", help_text="Optional: only this email may redeem it.")
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # A ForeignKey (not one-to-one): a user whose access was revoked may be granted it again.
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="grants_redeemed"
    )
    redeemed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="grants_revoked"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["redeemed_at"]), models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return self.code

    def is_usable(self, *, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.redeemed_at is None and self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
        )


class VerificationCode(models.Model):
    """A short numeric code sent by email or SMS (only its keyed hash is stored). One live code
    per user and purpose; a code dies when used, when expired, after too many wrong attempts or
    when a newer one is sent."""

    class Purpose(models.TextChoices):
        EMAIL_VERIFY = "email_verify", "Email verification"
        PASSWORD_RESET = "password_reset", "Password reset"
        PHONE_VERIFY = "phone_verify", "Phone verification"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verification_codes")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    target = models.CharField(max_length=254, help_text="The email address or phone number the code was sent to")
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "purpose", "used_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.target}"


class RefreshToken(models.Model):
    """One refresh token (only its hash is stored). Rotation: each use revokes it and issues the
    next one in the same family; reuse of a revoked token revokes the whole family (theft)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    family = models.UUIDField(default=uuid.uuid4, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"session of {self.user_id} ({'revoked' if self.revoked_at else 'live'})"


class OutboxMessage(models.Model):
    """A message the platform sent. The development/test SMS and email backends stop here."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=254, db_index=True)
    subject = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient}: {self.subject or self.body[:40]}"


class RecoveryCode(models.Model):
    """A one-time two-factor recovery code, stored only as a salted PBKDF2 hash (the plaintext is
    shown once, when the set is made). Used codes are kept (used_at) so the count stays honest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"recovery code #{self.pk} of {self.user_id} ({'used' if self.used_at else 'unused'})"
