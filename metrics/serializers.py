from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apicommon.api import Money, plain_decimal


class TotalsSerializer(serializers.Serializer):
    """Per-user totals. invested/current_value: active bots; profit figures: all bots that ran."""

    bot_count = serializers.IntegerField()
    active_bot_count = serializers.IntegerField()
    invested = Money()
    current_value = Money()
    grid_profit = Money()
    unrealized_pnl = Money()
    total_pnl = Money()
    fees = Money()
    funding = Money(help_text="Funding of linear positions: + received, - paid")
    trade_count = serializers.IntegerField()
    cycle_count = serializers.IntegerField()
    cycle_count_24h = serializers.IntegerField()
    roi_percent = Money(allow_null=True, help_text="total_pnl / invested of every bot that ran, in percent")


class PositionSerializer(serializers.Serializer):
    bot_id = serializers.IntegerField()
    bot_name = serializers.CharField()
    symbol = serializers.CharField()
    category = serializers.CharField()
    base_position = Money(help_text="Spot: base held; linear: signed position")
    cost_basis = Money()
    average_price = Money(allow_null=True)
    last_price = Money(allow_null=True)
    unrealized_pnl = Money()


class MetricsSerializer(serializers.Serializer):
    """Profit figures of one bot. Percentages (roi_percent, grid_apr, total_apr) are in percent;
    APRs are null until the bot has run; profit_factor is null while no closed cycle lost."""

    invested = Money()
    grid_profit = Money(help_text="Realized profit of completed grid cycles, net of fees (quote).")
    realized_pnl = Money(help_text="All realized PnL incl. initial-position and stop sells (quote).")
    unrealized_pnl = Money(help_text="Inventory PnL at the last price (quote).")
    total_pnl = Money()
    current_value = Money(help_text="invested + total_pnl")
    fees = Money(help_text="All fees in quote (base fees converted at the fill price).")
    funding = Money(help_text="Funding of the linear position: + received, - paid (quote); 0 for spot.")
    profit_factor = Money(allow_null=True, help_text="Gross profit / gross loss of closed cycles; null with no loss.")
    roi_percent = Money(allow_null=True)
    grid_apr = Money(allow_null=True, help_text="Percent per year (grid-math §3.10).")
    total_apr = Money(allow_null=True, help_text="Percent per year (grid-math §3.10).")
    days_running = Money()
    trade_count = serializers.IntegerField()
    cycle_count = serializers.IntegerField()
    cycle_count_24h = serializers.IntegerField(allow_null=True)
    base_position = Money(help_text="Spot: base held; linear: signed position.")
    last_price = Money(allow_null=True)
    drift_detected = serializers.BooleanField()


METRICS_FIELDS = tuple(MetricsSerializer().fields)


def metrics_json(figures: dict) -> dict:
    """The MetricsSerializer representation, built directly (the dashboard renders 50 of these)."""
    return {
        name: plain_decimal(value) if isinstance(value, Decimal) else value
        for name, value in ((name, figures[name]) for name in METRICS_FIELDS)
    }
