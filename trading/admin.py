"""Orders and trades of record: read-only for operators (the exchange is the truth)."""

from __future__ import annotations

from django.contrib import admin

from trading.models import Order, Trade


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "bot",
        "client_order_id",
        "purpose",
        "level",
        "side",
        "price",
        "qty",
        "filled_qty",
        "status",
        "updated_at",
    )
    list_filter = ("status", "side", "purpose", "symbol")
    search_fields = ("client_order_id", "exchange_order_id", "bot__name", "user__email")
    list_select_related = ("bot",)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ("id", "bot", "symbol", "side", "price", "qty", "fee", "fee_coin", "realized_pnl", "executed_at")
    list_filter = ("side", "symbol")
    search_fields = ("exec_id", "bot__name", "user__email")
    list_select_related = ("bot",)
