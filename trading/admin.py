"""Orders and trades of record: read-only for operators (the exchange is the truth)."""

from __future__ import annotations

from django.contrib import admin

from exchanges.selectors import venue_annotations
from trading.models import Order, Trade

# Every venue as a choice (five rows): a "related only" filter would scan the whole table for them.
VENUE_FILTER = "bot__exchange_account__exchange"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Read-only rows of one bot each; the bot's venue is a column and a filter."""

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**venue_annotations("bot__exchange_account"))

    @admin.display(description="Venue", ordering="venue_name")
    def venue(self, obj):
        return obj.venue_name

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
        "venue",
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
    list_filter = ("status", VENUE_FILTER, "side", "purpose", "symbol")
    search_fields = ("client_order_id", "exchange_order_id", "bot__name", "user__email")
    list_select_related = ("bot",)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = (
        "id", "bot", "venue", "symbol", "side", "price", "qty", "fee", "fee_coin", "realized_pnl", "executed_at"
    )
    list_filter = (VENUE_FILTER, "side", "symbol")
    search_fields = ("exec_id", "bot__name", "user__email")
    list_select_related = ("bot",)
