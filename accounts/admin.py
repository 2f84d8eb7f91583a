"""Admin for operators and support: users with their verification and access state, access
grants, profiles, sessions (refresh tokens) and the outbox. What a staff member may do follows
the groups made by accounts.roles (operator / support); superusers may do everything."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.html import format_html

from accounts import services
from accounts.models import AccessGrant, OutboxMessage, Profile, RefreshToken, User
from accounts.tokens import refresh_family_revoke, user_tokens_revoke_all

# --- users -----------------------------------------------------------------------------------


def _bots_stopping(stopped: int) -> str:
    if not stopped:
        return "They had no running bots."
    return (
        f"{stopped} running bot(s) are being stopped now: their orders are cancelled on the exchange "
        "(follow it in Bots)."
    )


def _revoked_message(count: int, stopped: int) -> str:
    return f"Access revoked for {count} user(s). {_bots_stopping(stopped)}"


def _deactivated_message(count: int, stopped: int) -> str:
    return f"{count} user(s) deactivated: they are logged out everywhere. {_bots_stopping(stopped)}"


class _EmailCleanMixin:
    """Emails are stored lower-case and unique regardless of case (login looks them up so)."""

    def clean_email(self):
        email = services.email_normalize(self.cleaned_data.get("email"))
        taken = User.objects.filter(email__iexact=email)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("A user with this email already exists.")
        return email


class SetkaUserCreationForm(_EmailCleanMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class SetkaUserChangeForm(_EmailCleanMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class SetkaPasswordChangeForm(AdminPasswordChangeForm):
    """A password set by staff ends every session of the user (old tokens die)."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            user_tokens_revoke_all(user=user)
        return user


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["phone", "phone_verified_at", "theme", "notify_email"]
    readonly_fields = ["phone_verified_at"]
    extra = 0


class AccessStateFilter(admin.SimpleListFilter):
    title = "trading access"
    parameter_name = "access"

    def lookups(self, request, model_admin):
        return [("yes", "Has access"), ("no", "No access"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(access_granted_at__isnull=False, access_revoked_at__isnull=True, is_active=True)
        if self.value() == "no":
            return queryset.filter(access_granted_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(access_revoked_at__isnull=False)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = SetkaUserChangeForm
    add_form = SetkaUserCreationForm
    change_password_form = SetkaPasswordChangeForm
    inlines = [ProfileInline]
    ordering = ["-date_joined"]
    list_display = [
        "email",
        "email_verified",
        "has_access",
        "phone_verified",
        "language",
        "is_staff",
        "is_active",
        "date_joined",
        "last_login",
    ]
    list_filter = [AccessStateFilter, "is_staff", "is_active", "groups", "language"]
    search_fields = ["email", "profile__phone"]
    readonly_fields = ["access_granted_at", "access_revoked_at", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password", "language"]}),
        ("Access", {"fields": ["access_granted_at", "access_revoked_at"]}),
        ("Staff", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]})]
    actions = ["grant_access", "revoke_access", "deactivate", "mark_email_verified", "end_sessions"]

    def get_queryset(self, request):
        unverified = EmailAddress.objects.filter(user=OuterRef("pk"), email__iexact=OuterRef("email"), verified=False)
        return super().get_queryset(request).select_related("profile").annotate(_email_verified=~Exists(unverified))

    @admin.display(boolean=True, description="email ✓", ordering="_email_verified")
    def email_verified(self, obj):
        return getattr(obj, "_email_verified", None)

    @admin.display(boolean=True, description="access")
    def has_access(self, obj):
        return obj.has_trading_access

    @admin.display(boolean=True, description="phone ✓")
    def phone_verified(self, obj):
        profile = getattr(obj, "profile", None)
        return bool(profile and profile.phone and profile.phone_verified_at)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # the profile is created on save

    # Operators may edit ordinary users; staff accounts and privileges are for superusers only.
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_staff and not request.user.is_superuser and obj != request.user:
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, id)
        if target is not None and (target.is_staff or target.is_superuser) and not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        was_active = change and User.objects.filter(pk=obj.pk, is_active=True).exists()
        super().save_model(request, obj, form, change)
        Profile.objects.get_or_create(user=obj)  # accounts made by staff need no email confirmation
        if was_active and not obj.is_active:
            # Unticking "active" is a deactivation: sessions end and bots stop, like the action.
            stopped = services.user_deactivate(user=obj, operator=request.user)
            self.message_user(request, _deactivated_message(1, stopped), messages.WARNING)

    # Actions: who may run them follows the grant permissions (operator group).
    def has_grant_permission(self, request):
        return request.user.has_perm("accounts.add_accessgrant")

    def has_revoke_permission(self, request):
        return request.user.has_perm("accounts.change_accessgrant")

    @admin.action(description="Grant trading access", permissions=["grant"])
    def grant_access(self, request, queryset):
        count = 0
        for user in queryset:
            if not user.has_trading_access:
                services.user_access_grant(user=user, operator=request.user)
                count += 1
        self.message_user(request, f"Access granted to {count} user(s).", messages.SUCCESS)

    @admin.action(description="Revoke trading access (stops their bots)", permissions=["revoke"])
    def revoke_access(self, request, queryset):
        count = stopped = 0
        for user in queryset:
            if user.access_revoked_at is None and user.access_granted_at is not None:
                stopped += services.user_access_revoke(user=user, operator=request.user)
                count += 1
        self.message_user(request, _revoked_message(count, stopped), messages.WARNING)

    @admin.action(description="Deactivate (no login, sessions end, bots stop)", permissions=["revoke"])
    def deactivate(self, request, queryset):
        count = stopped = 0
        for user in queryset.filter(is_active=True):
            if user == request.user or (user.is_staff and not request.user.is_superuser):
                continue
            stopped += services.user_deactivate(user=user, operator=request.user)
            count += 1
        self.message_user(request, _deactivated_message(count, stopped), messages.WARNING)

    @admin.action(description="Mark email as verified", permissions=["change"])
    def mark_email_verified(self, request, queryset):
        for user in queryset:
            EmailAddress.objects.update_or_create(
                user=user, email__iexact=user.email, defaults={"email": user.email, "verified": True, "primary": True}
            )
        self.message_user(request, f"{queryset.count()} email address(es) marked verified.", messages.SUCCESS)

    @admin.action(description="Log out everywhere (end all sessions)", permissions=["change"])
    def end_sessions(self, request, queryset):
        for user in queryset:
            user_tokens_revoke_all(user=user)
        self.message_user(request, f"Sessions ended for {queryset.count()} user(s).", messages.SUCCESS)


# --- access grants ---------------------------------------------------------------------------


class GrantStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("usable", "Usable"), ("redeemed", "Redeemed"), ("revoked", "Revoked"), ("expired", "Expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value()
        if value == "usable":
            return queryset.filter(redeemed_at__isnull=True, revoked_at__isnull=True).exclude(expires_at__lte=now)
        if value == "redeemed":
            return queryset.filter(redeemed_at__isnull=False)
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if value == "expired":
            return queryset.filter(redeemed_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now)
        return queryset


@admin.register(AccessGrant)
class AccessGrantAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "state",
        "issued_to_email",
        "issued_by",
        "created_at",
        "expires_at",
        "redeemed_by",
        "redeemed_at",
        "revoked_by",
        "revoked_at",
    ]
    list_filter = [GrantStateFilter, "issued_by"]
    search_fields = ["code", "issued_to_email", "redeemed_by__email", "note"]
    list_select_related = ["issued_by", "redeemed_by", "revoked_by"]
    date_hierarchy = "created_at"
    actions = ["revoke", "send_by_email"]
    _info = ["code", "issued_by", "created_at", "redeemed_by", "redeemed_at", "revoked_by", "revoked_at"]

    def get_fields(self, request, obj=None):
        if obj is None:  # add: the operator chooses only these; the code is generated
            return ["issued_to_email", "expires_at", "note"]
        return [*self._info[:3], "issued_to_email", "expires_at", "note", *self._info[3:]]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*self._info, "issued_to_email", "expires_at"]

    @admin.display(description="state")
    def state(self, obj):
        if obj.revoked_at:
            return "revoked"
        if obj.redeemed_at:
            return "redeemed"
        if obj.expires_at and obj.expires_at <= timezone.now():
            return "expired"
        return "usable"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.code = services.access_code_generate()
            obj.issued_by = request.user
            obj.issued_to_email = services.email_normalize(obj.issued_to_email)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request,
            format_html("Access code <strong>{}</strong> issued. Give it to the person; it works once.", obj.code),
            messages.SUCCESS,
        )
        return super().response_add(request, obj, post_url_continue)

    def has_delete_permission(self, request, obj=None):
        return False  # grants are the audit trail: revoke instead

    @admin.action(
        description="Revoke selected grants (a redeemed grant's user loses access; their bots stop)",
        permissions=["change"],
    )
    def revoke(self, request, queryset):
        count = stopping = 0
        users = set()
        for grant in queryset.filter(revoked_at__isnull=True).select_related("redeemed_by"):
            stopping += services.access_grant_revoke(grant=grant, operator=request.user)
            count += 1
            if grant.redeemed_by_id:
                users.add(grant.redeemed_by_id)
        text = f"{count} grant(s) revoked."
        if users:
            text += f" {len(users)} user(s) lost trading access. {_bots_stopping(stopping)}"
        self.message_user(request, text, messages.WARNING)

    @admin.action(description="Email the code to its bound address", permissions=["add"])
    def send_by_email(self, request, queryset):
        now = timezone.now()
        sent = 0
        for grant in queryset:
            if grant.issued_to_email and grant.is_usable(now=now):
                services.access_grant_send(grant=grant)
                sent += 1
        skipped = queryset.count() - sent
        text = f"{sent} code(s) emailed."
        if skipped:
            text += f" {skipped} skipped (no bound email, or already used, revoked or expired)."
        self.message_user(request, text, messages.SUCCESS if sent else messages.WARNING)


# --- profile, sessions, outbox ---------------------------------------------------------------


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "phone", "phone_verified_at", "theme", "notify_email", "updated_at"]
    search_fields = ["user__email", "phone"]
    list_select_related = ["user"]
    readonly_fields = ["user", "phone_verified_at", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False


@admin.register(RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    """Sessions: one live refresh token per family (the rest are rotated-out history)."""

    list_display = [
        "user",
        "family",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "ip_address",
        "user_agent",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "ip_address", "=family"]
    list_select_related = ["user"]
    exclude = ["token_hash"]
    readonly_fields = [
        "user",
        "family",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "user_agent",
        "ip_address",
    ]
    actions = ["revoke_family"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="End these sessions (revoke their token families)", permissions=["change"])
    def revoke_family(self, request, queryset):
        families = set(queryset.values_list("family", flat=True))
        for family in families:
            refresh_family_revoke(family=family)
        self.message_user(request, f"{len(families)} session(s) ended.", messages.SUCCESS)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "recipient", "subject"]
    list_filter = ["channel"]
    search_fields = ["recipient", "subject"]
    readonly_fields = ["channel", "recipient", "subject", "body", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
