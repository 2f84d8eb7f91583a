from __future__ import annotations

from rest_framework import serializers

from apicommon.api import Money
from exchanges.selectors import venue_lookup
from trading.models import Trade


class TradeSerializer(serializers.ModelSerializer):
    price = Money()
    qty = Money()
    fee = Money()
    realized_pnl = Money(help_text="Realized PnL this fill closed (quote); 0 for opening fills.")
    venue = serializers.SerializerMethodField(help_text="Code of the exchange of the fill (bybit, okx, ...).")
    venue_name = serializers.SerializerMethodField(help_text="The exchange's display name, e.g. OKX.")

    class Meta:
        model = Trade
        fields = ["id", "bot", "venue", "venue_name", "symbol", "side", "price", "qty", "fee", "fee_coin", "realized_pnl", "executed_at"]
        read_only_fields = fields

    def get_venue(self, trade) -> str:
        return venue_lookup(trade, accounts__bots__id=trade.bot_id)[0]

    def get_venue_name(self, trade) -> str:
        return venue_lookup(trade, accounts__bots__id=trade.bot_id)[1]
