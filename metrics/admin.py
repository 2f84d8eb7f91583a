from django.contrib import admin

from metrics.models import BotMetrics, Cycle, MetricSnapshot


@admin.register(BotMetrics)
class BotMetricsAdmin(admin.ModelAdmin):
    list_display = ("bot", "grid_profit", "realized_pnl", "unrealized_pnl", "trade_count", "cycle_count", "drift_detected_at")
    list_filter = ("drift_detected_at",)
    search_fields = ("bot__name", "bot__symbol", "bot__user__email")
    readonly_fields = [f.name for f in BotMetrics._meta.fields]
    actions = ["reconcile"]

    @admin.action(description="Recompute from trades and flag drift")
    def reconcile(self, request, queryset):
        from metrics.services import metrics_reconcile

        drifted = sum(1 for m in queryset.select_related("bot") if metrics_reconcile(bot=m.bot))
        self.message_user(request, f"{queryset.count()} checked, {drifted} with drift.")


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(admin.ModelAdmin):
    list_display = ("bot", "taken_at", "price", "equity", "grid_profit", "total_pnl")
    list_select_related = ("bot",)


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    list_display = ("bot", "order", "level", "profit", "closed_at")
    list_select_related = ("bot",)
