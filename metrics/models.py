"""Profit figures per bot, kept incrementally as fills arrive, and snapshots for charts."""

from __future__ import annotations

from typing import TypedDict

from django.db import models


class _DecimalArgs(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _DecimalArgs = {"max_digits": 38, "decimal_places": 18}


class BotMetrics(models.Model):
    bot = models.OneToOneField("bots.Bot", on_delete=models.CASCADE, related_name="metrics")
    invested = models.DecimalField(default=0, **MONEY)
    grid_profit = models.DecimalField(default=0, **MONEY, help_text="Realised profit of completed cycles, net of fees")
    realized_pnl = models.DecimalField(default=0, **MONEY)
    unrealized_pnl = models.DecimalField(default=0, **MONEY, help_text="Inventory PnL at the last price")
    fees_quote = models.DecimalField(default=0, **MONEY, help_text="All fees converted to quote at fill price")
    funding = models.DecimalField(
        default=0, **MONEY, help_text="Funding settlements of the linear position: + received, - paid"
    )
    gross_profit = models.DecimalField(default=0, **MONEY)
    gross_loss = models.DecimalField(default=0, **MONEY)
    base_position = models.DecimalField(default=0, **MONEY)
    quote_balance = models.DecimalField(default=0, **MONEY)
    cost_basis = models.DecimalField(default=0, **MONEY, help_text="Quote spent on the base still held")
    last_price = models.DecimalField(null=True, blank=True, **MONEY)
    trade_count = models.PositiveIntegerField(default=0)
    cycle_count = models.PositiveIntegerField(default=0)
    last_trade_id = models.BigIntegerField(default=0, help_text="Trades up to this id are counted")
    # Accounting state that has no column: spot FIFO lots per level, linear entry and open fees.
    book = models.JSONField(default=dict, blank=True)
    drift_detected_at = models.DateTimeField(null=True, blank=True)
    drift_detail = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "bot metrics"

    def __str__(self) -> str:
        return f"metrics of bot #{self.bot_id}"


class MetricSnapshot(models.Model):
    bot = models.ForeignKey("bots.Bot", on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(db_index=True)
    price = models.DecimalField(null=True, blank=True, **MONEY)
    equity = models.DecimalField(**MONEY)
    grid_profit = models.DecimalField(**MONEY)
    total_pnl = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["taken_at"]
        indexes = [models.Index(fields=["bot", "taken_at"])]
        constraints = [models.UniqueConstraint(fields=["bot", "taken_at"], name="snapshot_unique_per_bot_time")]

    def __str__(self) -> str:
        return f"bot #{self.bot_id} at {self.taken_at:%Y-%m-%d %H:%M}"


class Cycle(models.Model):
    """One completed grid cycle: a sell order (spot) that closed base bought at the level below,
    or a grid order that closed part of the position (linear). One row per closing order, so
    partial fills of that order count once. Feeds the "cycles in the last 24h" figure."""

    bot = models.ForeignKey("bots.Bot", on_delete=models.CASCADE, related_name="cycles")
    order = models.ForeignKey("trading.Order", on_delete=models.CASCADE, related_name="+")
    level = models.IntegerField(null=True, blank=True)
    profit = models.DecimalField(default=0, **MONEY)
    closed_at = models.DateTimeField()

    class Meta:
        ordering = ["-closed_at"]
        indexes = [models.Index(fields=["bot", "-closed_at"])]
        constraints = [models.UniqueConstraint(fields=["bot", "order"], name="cycle_unique_per_order")]

    def __str__(self) -> str:
        return f"cycle of bot #{self.bot_id} at level {self.level}: {self.profit}"
