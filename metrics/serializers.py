from __future__ import annotations

from rest_framework import serializers

from bots.serializers import BotSerializer
from metrics.api_common import Money
from trading.serializers import TradeSerializer


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


class DashboardSerializer(serializers.Serializer):
    bots = BotSerializer(many=True, help_text="Active bots with their current figures")
    latest_trades = TradeSerializer(many=True)
    positions = PositionSerializer(many=True)
    totals = TotalsSerializer()
