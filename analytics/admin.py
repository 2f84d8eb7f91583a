from django.contrib import admin

from analytics.models import Backtest, CandleGap, CandleSeries, ScreenerRow


@admin.register(CandleSeries)
class CandleSeriesAdmin(admin.ModelAdmin):
    list_display = ("venue", "category", "symbol", "source", "candle_count", "first_time", "cursor", "last_error")
    list_filter = ("venue", "category", "source")
    search_fields = ("symbol",)


@admin.register(CandleGap)
class CandleGapAdmin(admin.ModelAdmin):
    list_display = ("series", "start", "end")
    list_select_related = ("series",)


@admin.register(Backtest)
class BacktestAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "series", "status", "progress", "created_at", "duration_ms")
    list_filter = ("status",)
    readonly_fields = ("summary", "result")
    list_select_related = ("user", "series")


@admin.register(ScreenerRow)
class ScreenerRowAdmin(admin.ModelAdmin):
    list_display = ("series", "score", "computed_at")
    list_select_related = ("series",)
