"""Operators see what was told to whom and how each channel did (the outbox)."""

from __future__ import annotations

from django.contrib import admin

from notifications.models import Delivery, Notification, Preference, QuietHours


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    readonly_fields = ("channel", "status", "attempts", "next_attempt_at", "sent_at", "external_id", "last_error")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "event", "title", "created_at", "read_at")
    list_filter = ("event",)
    search_fields = ("user__email", "title", "dedupe_key")
    readonly_fields = (
        "user",
        "event",
        "params",
        "dedupe_key",
        "language",
        "title",
        "body",
        "url",
        "in_app",
        "read_at",
        "created_at",
    )
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "notification", "channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("channel", "status")
    readonly_fields = ("notification", "channel", "attempts", "external_id", "last_error", "sent_at", "created_at")


admin.site.register(Preference)
admin.site.register(QuietHours)
