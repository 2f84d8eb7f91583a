"""Billing API shapes. Money is a string (COERCE_DECIMAL_TO_STRING)."""

from __future__ import annotations

from rest_framework import serializers

from billing.models import Payment, Plan, ProfitShareMonth, Subscription


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "code",
            "kind",
            "name_ru",
            "name_en",
            "price_rub",
            "price_usdt",
            "period_days",
            "trial_days",
            "max_live_bots",
            "max_live_investment",
            "max_exchanges",
            "backtests_per_day",
            "max_pools",
            "api_access",
            "profit_share_rate",
            "profit_share_cap_usdt",
        ]


class SubscriptionSerializer(serializers.ModelSerializer):
    plan = PlanSerializer()

    class Meta:
        model = Subscription
        fields = ["plan", "status", "period_start", "period_end", "grace_until", "comped", "credit_rub", "credit_usdt"]


class PaymentSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code")

    class Meta:
        model = Payment
        fields = [
            "id",
            "plan",
            "provider",
            "method",
            "purpose",
            "amount",
            "currency",
            "credit_applied",
            "status",
            "seller",
            "confirmation_url",
            "paid_method_title",
            "refunded_amount",
            "created_at",
            "credited_at",
        ]


class ProfitShareSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProfitShareMonth
        fields = ["month", "profit", "rate", "cap", "fee", "paid_at"]


class CheckoutInput(serializers.Serializer):
    plan = serializers.SlugField(max_length=32)
    provider = serializers.ChoiceField(choices=Payment.Provider.choices)
    method = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")


class PlanInput(serializers.Serializer):
    plan = serializers.SlugField(max_length=32)
