"""Serializers of the bots API (docs/api-contract.md "Bots"). Money is a string everywhere."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apicommon.api import Money
from bots.models import Bot, BotEvent
from config.help import bot_article, line_article
from config.limits import MAX_ID
from exchanges.models import ExchangeAccount
from exchanges.selectors import venue_lookup
from metrics.selectors import metrics_figures
from metrics.serializers import MetricsSerializer, PositionSerializer, TotalsSerializer, metrics_json
from trading.models import Order
from trading.serializers import TradeSerializer


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["info", "warning", "danger"])
    message = serializers.CharField()
    params = serializers.DictField(required=False)
    blocking = serializers.BooleanField(required=False)


class BotSerializer(serializers.ModelSerializer):
    metrics = serializers.SerializerMethodField()
    config = serializers.JSONField(help_text="Grid configuration (docs/api-contract.md `config`).")
    report = serializers.JSONField(help_text="The launch report the user saw (docs/api-contract.md `report`).")
    exchange_account: serializers.PrimaryKeyRelatedField[ExchangeAccount] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    investment = Money(read_only=True)
    venue = serializers.SerializerMethodField(help_text="Code of the exchange the bot trades on (bybit, okx, ...).")
    venue_name = serializers.SerializerMethodField(help_text="The exchange's display name, e.g. OKX.")
    help_article = serializers.SerializerMethodField(
        help_text="Slug of the knowledge-base article on fixing why it stopped or its last error (/help/<slug>)."
    )

    class Meta:
        model = Bot
        fields = [
            "id",
            "name",
            "symbol",
            "category",
            "status",
            "exchange_account",
            "venue",
            "venue_name",
            "investment",
            "config",
            "report",
            "created_at",
            "started_at",
            "stopped_at",
            "stop_reason",
            "stop_code",
            "last_error",
            "help_article",
            "restart_count",
            "metrics",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_help_article(self, bot) -> str | None:
        return bot_article(status=bot.status, stop_code=bot.stop_code, last_error=bot.last_error)

    def get_venue(self, bot) -> str:
        return venue_lookup(bot, accounts__id=bot.exchange_account_id)[0]

    def get_venue_name(self, bot) -> str:
        return venue_lookup(bot, accounts__id=bot.exchange_account_id)[1]

    @extend_schema_field(MetricsSerializer)
    def get_metrics(self, bot):
        cycles = self.context.get("cycles_24h")
        figures = metrics_figures(
            bot=bot,
            metrics=getattr(bot, "metrics", None) if _has_metrics(bot) else None,
            now=self.context.get("now"),
            with_24h=cycles is None,
        )
        if cycles is not None:
            figures["cycle_count_24h"] = cycles.get(bot.pk, 0)
        return metrics_json(figures)


def _has_metrics(bot) -> bool:
    try:
        return bot.metrics is not None
    except Exception:  # RelatedObjectDoesNotExist: no fill yet
        return False


class BotCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    exchange_account = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    symbol = serializers.RegexField(r"^[A-Z0-9]{2,32}$", max_length=32, error_messages={"invalid": "Use the exchange symbol, e.g. BTCUSDT."})
    category = serializers.ChoiceField(choices=Bot.Category.choices, default=Bot.Category.SPOT)
    config = serializers.DictField(help_text="Grid configuration (docs/api-contract.md `config`).")
    accept_warnings = serializers.BooleanField(default=False)


class BotPreviewSerializer(serializers.Serializer):
    exchange_account = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    symbol = serializers.RegexField(r"^[A-Z0-9]{2,32}$", max_length=32, error_messages={"invalid": "Use the exchange symbol, e.g. BTCUSDT."})
    category = serializers.ChoiceField(choices=Bot.Category.choices, default=Bot.Category.SPOT)
    config = serializers.DictField()


class BotStopSerializer(serializers.Serializer):
    close_action = serializers.ChoiceField(
        choices=["keep", "sell_base", "close_position"], required=False, allow_null=True,
        help_text="Override the bot's on_stop for this stop.",
    )


class GridProfitSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    gross = serializers.CharField(help_text="percent of the buy notional")
    net = serializers.CharField(help_text="percent, after maker fees on both legs")
    gross_quote = serializers.CharField()
    net_quote = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    """The launch report (docs/api-contract.md `report`); decimals are strings."""

    levels = serializers.ListField(child=serializers.CharField())
    qty_per_grid = serializers.CharField()
    profit_per_grid_min = GridProfitSerializer()
    profit_per_grid_max = GridProfitSerializer()
    profit_per_cycle = serializers.CharField()
    quote_needed = serializers.CharField()
    base_needed = serializers.CharField()
    min_investment = serializers.CharField()
    min_investment_rule = serializers.CharField()
    balance_ok = serializers.BooleanField(allow_null=True)
    break_even_price = serializers.CharField(allow_null=True, required=False)
    below_range = serializers.CharField(required=False)
    above_range = serializers.CharField(required=False)
    liquidation_price = serializers.CharField(allow_null=True, required=False)
    liquidation_price_up = serializers.CharField(allow_null=True, required=False)
    liquidation_price_long = serializers.CharField(
        allow_null=True, required=False, help_text="Linear: liquidation of the long side (the price falls)."
    )
    liquidation_price_short = serializers.CharField(
        allow_null=True, required=False, help_text="Linear: liquidation of the short side (the price rises)."
    )
    price = serializers.CharField(required=False, help_text="The price the report was built at.")
    warnings = WarningSerializer(many=True)
    blocking = serializers.BooleanField()


class BotEventSerializer(serializers.ModelSerializer):
    # A declared field named "data": DRF's metaclass pops it from the class, the stub cannot know.
    data = serializers.JSONField()  # type: ignore[assignment]
    help_article = serializers.SerializerMethodField(
        help_text="Slug of the knowledge-base article on fixing this error line (/help/<slug>), if any."
    )

    class Meta:
        model = BotEvent
        fields = ["id", "kind", "level", "message", "data", "help_article", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_help_article(self, event) -> str | None:
        return line_article(event.data or {})


class OrderSerializer(serializers.ModelSerializer):
    price = Money(allow_null=True)
    qty = Money()
    filled_qty = Money()
    avg_price = Money(allow_null=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "client_order_id",
            "side",
            "order_type",
            "price",
            "qty",
            "filled_qty",
            "avg_price",
            "status",
            "level",
            "purpose",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SeriesPointSerializer(serializers.Serializer):
    time = serializers.DateTimeField()
    price = Money(allow_null=True)
    equity = Money()
    grid_profit = Money()
    total_pnl = Money()


class DashboardSerializer(serializers.Serializer):
    bots = BotSerializer(many=True, help_text="Active bots with their current figures")
    latest_trades = TradeSerializer(many=True)
    positions = PositionSerializer(many=True)
    totals = TotalsSerializer()
