from __future__ import annotations

from rest_framework import serializers

from metrics.api_common import Money
from trading.models import Trade


class TradeSerializer(serializers.ModelSerializer):
    price = Money()
    qty = Money()
    fee = Money()
    realized_pnl = Money(help_text="Realized PnL this fill closed (quote); 0 for opening fills.")

    class Meta:
        model = Trade
        fields = ["id", "bot", "symbol", "side", "price", "qty", "fee", "fee_coin", "realized_pnl", "executed_at"]
        read_only_fields = fields
