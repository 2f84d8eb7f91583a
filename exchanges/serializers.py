"""Explicit serializers of the exchange-accounts API. The key appears only as its masked hint;
the secret never leaves the server."""

from __future__ import annotations

from rest_framework import serializers

from config.limits import MAX_ID
from exchanges.client import Category
from exchanges.models import ExchangeAccount
from exchanges.venues import VENUES

VENUE_CODES = tuple(VENUES)

BOUND_ENVIRONMENTS = [
    (ExchangeAccount.Environment.MAINNET, "Mainnet"),
    (ExchangeAccount.Environment.TESTNET, "Testnet"),
    (ExchangeAccount.Environment.DEMO, "Demo trading"),
]
INTERVALS = ["1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M"]


class ExchangeAccountOutputSerializer(serializers.ModelSerializer):
    exchange = serializers.CharField(source="exchange.code")
    can_withdraw = serializers.SerializerMethodField()

    class Meta:
        model = ExchangeAccount
        fields = [
            "id", "label", "exchange", "environment", "api_key_hint", "status", "status_reason", "permissions",
            "read_only", "can_withdraw", "ip_whitelist", "key_expires_at", "validated_at", "balances", "created_at",
        ]
        read_only_fields = fields

    def get_can_withdraw(self, obj) -> bool:
        return bool((obj.permissions or {}).get("can_withdraw", False))


class ExchangeAccountPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ExchangeAccountOutputSerializer(many=True)


class ExchangeAccountCreateInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=64)  # type: ignore[assignment]  # DRF pops declared fields
    exchange = serializers.ChoiceField(choices=list(VENUE_CODES), default="bybit")
    environment = serializers.ChoiceField(choices=BOUND_ENVIRONMENTS)
    api_key = serializers.CharField(max_length=128, trim_whitespace=True, write_only=True)
    api_secret = serializers.CharField(max_length=256, trim_whitespace=True, write_only=True)
    api_passphrase = serializers.CharField(max_length=128, trim_whitespace=True, write_only=True, required=False,
                                           allow_blank=True, default="")


class ExchangeAccountPaperInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=64, required=False, allow_blank=True)  # type: ignore[assignment]  # DRF pops declared fields
    exchange = serializers.ChoiceField(choices=list(VENUE_CODES), default="bybit")


class VenueOutputSerializer(serializers.Serializer):
    """What the registry (exchanges/venues.py) tells the UI about one exchange."""

    code = serializers.CharField()
    name = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    futures_note = serializers.CharField()
    order_types = serializers.ListField(child=serializers.CharField())
    passphrase_required = serializers.BooleanField()
    environments = serializers.ListField(child=serializers.CharField())
    fee_coin = serializers.CharField()
    min_notional = serializers.CharField()
    client_id_max_len = serializers.IntegerField()
    batch_create = serializers.IntegerField()


class ExchangeAccountUpdateInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=64)  # type: ignore[assignment]  # DRF pops declared fields


class MarketQuerySerializer(serializers.Serializer):
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    category = serializers.ChoiceField(choices=[c.value for c in Category], default=Category.SPOT.value)


class TickerQuerySerializer(MarketQuerySerializer):
    symbol = serializers.RegexField(r"^[A-Z0-9]{2,30}$", max_length=30)


class KlinesQuerySerializer(TickerQuerySerializer):
    interval = serializers.ChoiceField(choices=INTERVALS, default="60")
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=200)


class SymbolOutputSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    base_coin = serializers.CharField()
    quote_coin = serializers.CharField()
    tick_size = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True)
    qty_step = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True)
    min_qty = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True)
    min_notional = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True)
    max_leverage = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True, allow_null=True)


class TickerOutputSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    last_price = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True)
    bid_price = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True, allow_null=True)
    ask_price = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True, allow_null=True)
    high_24h = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True, allow_null=True)
    low_24h = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True, allow_null=True)


class KlineOutputSerializer(serializers.Serializer):
    time = serializers.SerializerMethodField()
    open = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True)
    high = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True)
    low = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True)
    close = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True)
    volume = serializers.DecimalField(max_digits=40, decimal_places=20, normalize_output=True)

    def get_time(self, obj) -> int:
        return int(obj.start.timestamp())
