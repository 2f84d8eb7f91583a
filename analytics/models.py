"""Market data, backtests and the screener: fields and constraints only (logic in services)."""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings
from django.db import models


class _DecimalArgs(TypedDict):
    max_digits: int
    decimal_places: int


PRICE: _DecimalArgs = {"max_digits": 36, "decimal_places": 18}


class Candle(models.Model):
    """One 1-minute candle of one series. On PostgreSQL the table is partitioned by month of
    open_time (migration 0001; partitions are created by services.candles_upsert as needed);
    on SQLite it is a plain table. The key makes a candle impossible to store twice."""

    pk = models.CompositePrimaryKey("venue", "category", "symbol", "open_time")
    venue = models.CharField(max_length=16)
    category = models.CharField(max_length=8)
    symbol = models.CharField(max_length=32)
    open_time = models.DateTimeField()
    open = models.DecimalField(**PRICE)
    high = models.DecimalField(**PRICE)
    low = models.DecimalField(**PRICE)
    close = models.DecimalField(**PRICE)
    volume = models.DecimalField(**PRICE)

    class Meta:
        managed = True

    def __str__(self) -> str:
        return f"{self.venue} {self.category} {self.symbol} {self.open_time:%Y-%m-%d %H:%M}"


class CandleSeries(models.Model):
    """One (venue, category, symbol) series: what is stored, where downloading resumes, and the
    instrument's rules and fees the backtests use."""

    class Source(models.TextChoices):
        EXCHANGE = "exchange", "Downloaded through the exchange port"
        SHIPPED = "shipped", "Shipped real days (offline)"
        SYNTHETIC = "synthetic", "Synthetic (tests and benchmarks)"

    venue = models.CharField(max_length=16)
    category = models.CharField(max_length=8)
    symbol = models.CharField(max_length=32)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.EXCHANGE)
    base_coin = models.CharField(max_length=16)
    quote_coin = models.CharField(max_length=16)
    tick_size = models.DecimalField(**PRICE)
    qty_step = models.DecimalField(**PRICE)
    min_qty = models.DecimalField(**PRICE)
    max_qty = models.DecimalField(**PRICE)
    min_notional = models.DecimalField(**PRICE)
    maker_fee = models.DecimalField(max_digits=12, decimal_places=8)
    taker_fee = models.DecimalField(max_digits=12, decimal_places=8)
    first_time = models.DateTimeField(null=True, blank=True)
    cursor = models.DateTimeField(null=True, blank=True, help_text="open time of the newest stored candle")
    candle_count = models.PositiveIntegerField(default=0)
    funding_rate = models.DecimalField(max_digits=16, decimal_places=10, null=True, blank=True)
    spread_percent = models.DecimalField(max_digits=16, decimal_places=8, null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["venue", "category", "symbol"], name="analytics_series_unique")]
        verbose_name_plural = "candle series"

    def __str__(self) -> str:
        return f"{self.venue} {self.category} {self.symbol}"


class CandleGap(models.Model):
    """Minutes missing from a series: [start, end) had no candle where one was expected."""

    series = models.ForeignKey(CandleSeries, on_delete=models.CASCADE, related_name="gaps")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "start"], name="analytics_gap_unique"),
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="analytics_gap_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.series}: no candles {self.start:%Y-%m-%d %H:%M} - {self.end:%Y-%m-%d %H:%M}"


class Backtest(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backtests")
    series = models.ForeignKey(CandleSeries, on_delete=models.PROTECT, related_name="backtests")
    name = models.CharField(max_length=80, blank=True, default="")
    config = models.JSONField(help_text="the grid configuration (docs/api-contract.md keys)")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    in_sample_percent = models.PositiveSmallIntegerField(default=70)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=40, blank=True, default="")
    error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="analytics_backtest_progress"),
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")), name="analytics_backtest_period"
            ),
        ]

    def __str__(self) -> str:
        return f"backtest {self.pk} ({self.status})"


class ScreenerRow(models.Model):
    """The screener's last computed figures for one series (refreshed periodically)."""

    series = models.OneToOneField(CandleSeries, on_delete=models.CASCADE, related_name="screener")
    score = models.DecimalField(max_digits=12, decimal_places=4, db_index=True)
    factors = models.JSONField(default=dict)
    suggestion = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.series}: {self.score}"
