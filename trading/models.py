"""Orders and trades of record.

An order row is written (status PENDING, with its deterministic client_order_id) BEFORE it is
sent to the exchange; the unique constraint on client_order_id is what makes a retry or a crash
unable to duplicate it. A trade row is one exchange execution, unique by exec_id. A funding
payment row is one funding settlement of a linear bot's position, once per bot and venue id."""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings
from django.db import models


class _DecimalArgs(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _DecimalArgs = {"max_digits": 38, "decimal_places": 18}


class Side(models.TextChoices):
    BUY = "Buy", "Buy"
    SELL = "Sell", "Sell"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending (written, not yet confirmed)"
        OPEN = "open", "Open"
        PARTIALLY_FILLED = "partially_filled", "Partially filled"
        FILLED = "filled", "Filled"
        CANCELLING = "cancelling", "Cancelling"
        CANCELLED = "cancelled", "Cancelled"
        REJECTED = "rejected", "Rejected"
        MISSING = "missing", "Unknown to the exchange"

    OPEN_STATUSES = (Status.PENDING, Status.OPEN, Status.PARTIALLY_FILLED, Status.CANCELLING)

    class Type(models.TextChoices):
        LIMIT = "Limit", "Limit"
        MARKET = "Market", "Market"

    class Purpose(models.TextChoices):
        GRID = "grid", "Grid level"
        INITIAL = "initial", "Initial position"
        CLOSE = "close", "Close on stop"

    bot = models.ForeignKey("bots.Bot", on_delete=models.CASCADE, related_name="orders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders")
    symbol = models.CharField(max_length=32)
    client_order_id = models.CharField(max_length=36, unique=True)
    exchange_order_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default=Purpose.GRID)
    level = models.IntegerField(null=True, blank=True, help_text="Grid line index, 0 = lowest")
    side = models.CharField(max_length=4, choices=Side.choices)
    order_type = models.CharField(max_length=6, choices=Type.choices, default=Type.LIMIT)
    price = models.DecimalField(null=True, blank=True, **MONEY)
    qty = models.DecimalField(**MONEY)
    filled_qty = models.DecimalField(default=0, **MONEY)
    avg_price = models.DecimalField(null=True, blank=True, **MONEY)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    reject_reason = models.CharField(max_length=300, blank=True, default="")
    send_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["bot", "status"]),
            models.Index(fields=["bot", "-id"]),
            models.Index(fields=["user", "-id"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(qty__gt=0), name="order_qty_positive"),
            models.CheckConstraint(condition=models.Q(filled_qty__gte=0), name="order_filled_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.qty} {self.symbol} @ {self.price} ({self.status})"


class Trade(models.Model):
    """One execution on the exchange, stored exactly once (exec_id is unique)."""

    bot = models.ForeignKey("bots.Bot", on_delete=models.CASCADE, related_name="trades")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="trades")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trades")
    symbol = models.CharField(max_length=32)
    exec_id = models.CharField(max_length=64, unique=True)
    side = models.CharField(max_length=4, choices=Side.choices)
    price = models.DecimalField(**MONEY)
    qty = models.DecimalField(**MONEY)
    fee = models.DecimalField(**MONEY)
    fee_coin = models.CharField(max_length=16)
    is_maker = models.BooleanField(default=True)
    # Realised grid profit this fill closed (a sell completing a buy->sell cycle), in quote.
    realized_pnl = models.DecimalField(default=0, **MONEY)
    executed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-executed_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-executed_at", "-id"]),
            models.Index(fields=["bot", "-executed_at", "-id"]),
            models.Index(fields=["bot", "id"], name="trade_bot_id_cursor"),  # executions after a cursor
            models.Index(fields=["user", "symbol", "-executed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.qty} {self.symbol} @ {self.price}"


class FundingPayment(models.Model):
    """One funding settlement of a linear bot's position, stored exactly once per bot (the
    venue's execution id is `venue_id`). `amount` is the bot's share, signed as it moved the
    wallet (positive: received); `venue_amount` is the whole settlement of the account's
    position (the two are equal when the bot holds the whole position, the usual case)."""

    bot = models.ForeignKey("bots.Bot", on_delete=models.CASCADE, related_name="funding_payments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="funding_payments")
    symbol = models.CharField(max_length=32)
    venue_id = models.CharField(max_length=64)
    amount = models.DecimalField(**MONEY, help_text="The bot's share: + received, - paid (settle coin)")
    venue_amount = models.DecimalField(**MONEY, help_text="The whole settlement on the account's position")
    coin = models.CharField(max_length=16)
    rate = models.DecimalField(**MONEY)
    position_qty = models.DecimalField(**MONEY, help_text="The account's position it was charged on (base)")
    mark_price = models.DecimalField(**MONEY)
    paid_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-paid_at", "-id"]
        indexes = [models.Index(fields=["bot", "-paid_at"])]
        constraints = [models.UniqueConstraint(fields=["bot", "venue_id"], name="funding_once_per_bot")]

    def __str__(self) -> str:
        return f"funding {self.amount} {self.coin} on {self.symbol} at {self.paid_at:%Y-%m-%d %H:%M}"
