"""Operators' view of bots: filters, inline orders and events (read-only), the bulk emergency
stop, and the "stop all bots" switch. Stopping goes through the services, never raw updates."""

from __future__ import annotations

from django.contrib import admin, messages

from bots.models import Bot, BotEvent, TradingSwitch
from trading.models import Order


def _can_stop(request) -> bool:
    user = request.user
    return bool(
        user.is_superuser
        or user.has_perm("bots.stop_bot")
        or user.groups.filter(name__in=("operator", "operators")).exists()
    )


class OrderInline(admin.TabularInline):
    model = Order
    extra = 0
    can_delete = False
    fields = (
        "client_order_id",
        "purpose",
        "level",
        "side",
        "order_type",
        "price",
        "qty",
        "filled_qty",
        "status",
        "updated_at",
    )
    readonly_fields = fields
    ordering = ("-id",)
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-id")


class BotEventInline(admin.TabularInline):
    model = BotEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "level", "message")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "user", "symbol", "category", "status", "restart_count", "last_tick_at", "created_at")
    list_filter = ("status", "category", "symbol", ("user", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "symbol", "user__email")
    readonly_fields = (
        "user",
        "exchange_account",
        "kind",
        "category",
        "symbol",
        "status",
        "config",
        "report",
        "investment",
        "instrument",
        "close_action",
        "awaiting_trigger",
        "last_price",
        "fills_seen_until",
        "transient_errors",
        "generation",
        "started_at",
        "stopped_at",
        "stop_reason",
        "last_error",
        "restart_count",
        "next_restart_at",
        "lease_owner",
        "lease_until",
        "last_tick_at",
        "warnings_accepted_at",
        "created_at",
        "updated_at",
    )
    inlines = [OrderInline, BotEventInline]
    actions = ["emergency_stop_selected", "stop_all_bots"]
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Emergency stop selected bots (cancel all their orders now)")
    def emergency_stop_selected(self, request, queryset):
        if not _can_stop(request):
            self.message_user(request, "You need the 'stop bot' permission.", messages.ERROR)
            return
        from bots.services import bot_emergency_stop

        count = 0
        for bot in queryset.select_related("exchange_account"):
            bot_emergency_stop(bot=bot, actor=request.user, reason=f"Emergency stop by operator {request.user}")
            count += 1
        self.message_user(request, f"Emergency stop sent to {count} bot(s).", messages.WARNING)

    @admin.action(description="STOP ALL BOTS and halt trading (every user)")
    def stop_all_bots(self, request, queryset):
        if not _can_stop(request):
            self.message_user(request, "You need the 'stop bot' permission.", messages.ERROR)
            return
        from bots.services import bots_stop_all

        count = bots_stop_all(actor=request.user, reason=f"All trading halted by operator {request.user}")
        self.message_user(request, f"Trading halted; {count} bot(s) stopping.", messages.WARNING)


@admin.register(BotEvent)
class BotEventAdmin(admin.ModelAdmin):
    list_display = ("id", "bot", "kind", "level", "message", "created_at")
    list_filter = ("kind", "level")
    search_fields = ("message", "bot__name")
    readonly_fields = ("bot", "kind", "level", "message", "data", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TradingSwitch)
class TradingSwitchAdmin(admin.ModelAdmin):
    """The "stop all bots" switch: turning it on emergency-stops every bot."""

    list_display = ("__str__", "reason", "changed_by", "changed_at")
    fields = ("halted", "reason", "changed_by", "changed_at")
    readonly_fields = ("changed_by", "changed_at")

    def has_add_permission(self, request):
        return not TradingSwitch.objects.exists() and _can_stop(request)

    def has_change_permission(self, request, obj=None):
        return _can_stop(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from bots.services import bots_stop_all, trading_resume

        if obj.halted:
            bots_stop_all(actor=request.user, reason=obj.reason or f"All trading halted by operator {request.user}")
        else:
            trading_resume(actor=request.user)
