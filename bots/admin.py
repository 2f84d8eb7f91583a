"""Operators' view of bots: filters, inline orders and events (read-only), the bulk emergency
stop, and the "stop all bots" switch. Stopping goes through the services, never raw updates."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from bots import services
from bots.models import AccountSync, Bot, BotEvent, TradingSwitch
from exchanges.selectors import venue_annotations
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
    list_display = (
        "id", "name", "user", "venue", "symbol", "category", "status", "restart_count", "last_tick_at", "created_at"
    )
    list_filter = (
        "status",
        "exchange_account__exchange",
        "category",
        "symbol",
        ("user", admin.RelatedOnlyFieldListFilter),
    )
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
        "reconciled_at",
        "warnings_accepted_at",
        "created_at",
        "updated_at",
    )
    inlines = [OrderInline, BotEventInline]
    actions = ["emergency_stop_selected", "stop_all_bots"]
    list_select_related = ("user",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**venue_annotations("exchange_account"))

    @admin.display(description="Venue", ordering="venue_name")
    def venue(self, obj):
        return obj.venue_name

    def has_add_permission(self, request):
        return False

    @admin.action(description="Emergency stop selected bots (cancel all their orders now)")
    def emergency_stop_selected(self, request, queryset):
        if not _can_stop(request):
            self.message_user(request, "You need the 'stop bot' permission.", messages.ERROR)
            return
        count = services.bots_emergency_stop_many(
            bot_ids=list(queryset.values_list("pk", flat=True)),
            actor=request.user,
            reason=f"Emergency stop by operator {request.user}",
        )
        self.message_user(
            request,
            f"Emergency stop of {count} bot(s) is running in the background; the trading switch page shows progress.",
            messages.WARNING,
        )

    @admin.action(description="STOP ALL BOTS and halt trading (every user)")
    def stop_all_bots(self, request, queryset):
        if not _can_stop(request):
            self.message_user(request, "You need the 'stop bot' permission.", messages.ERROR)
            return
        count = services.bots_stop_all(actor=request.user, reason=f"All trading halted by operator {request.user}")
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


class TradingSwitchForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, label="Reason (shown to operators)")
    confirm = forms.BooleanField(required=True, label="I am sure")


@admin.register(TradingSwitch)
class TradingSwitchAdmin(admin.ModelAdmin):
    """The "stop all bots" switch as one control: a page that shows whether trading is allowed
    or halted (by whom, when, why) and one confirmed button that flips it. Halting emergency-
    stops every active bot; resuming lets users start bots again (stopped bots stay stopped)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return _can_stop(request)

    def has_view_permission(self, request, obj=None):
        return _can_stop(request) or super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("", self.admin_site.admin_view(self.switch_view), name="bots_tradingswitch_changelist")]

    def switch_view(self, request):
        if not _can_stop(request):
            raise PermissionDenied
        switch = services.trading_switch()
        form = TradingSwitchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if switch.halted:
                services.trading_resume(actor=request.user)
                self.message_user(request, "Trading resumed: users can start bots again.", messages.SUCCESS)
            else:
                reason = form.cleaned_data["reason"].strip() or f"All trading halted by operator {request.user}"
                count = services.bots_stop_all(actor=request.user, reason=reason)
                self.message_user(
                    request, f"Trading halted; stopping {count} bot(s) in the background.", messages.WARNING
                )
            return redirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": "Trading switch",
            "opts": self.model._meta,
            "switch": switch,
            "forced_by_setting": bool(settings.SETKA_TRADING_HALTED),
            "active_bots": Bot.objects.filter(status__in=Bot.ACTIVE_STATUSES).count(),
            "stop_run": services.stop_run_progress(run) if (run := services.stop_run_get()) else None,
            "form": form,
        }
        return TemplateResponse(request, "admin/bots/trading_switch.html", context)


@admin.register(AccountSync)
class AccountSyncAdmin(admin.ModelAdmin):
    """The account passes' cursors (read-only): when each account was last passed and why a
    pass failed."""

    list_display = ("exchange_account", "category", "passed_at", "fills_seen_until", "failures", "last_error")
    list_filter = ("category",)
    search_fields = ("exchange_account__label",)
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
