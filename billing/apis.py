"""Billing API under /api/billing/: public plans and configuration, the user's subscription,
checkout, payments, plan switches, and the providers' webhooks. Thin views over services."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttling import ScopedRateThrottle, client_ip
from billing import selectors, services
from billing.models import Plan
from billing.serializers import (
    CheckoutInput,
    PaymentSerializer,
    PlanInput,
    PlanSerializer,
    ProfitShareSerializer,
    SubscriptionSerializer,
)


class PlanListApi(APIView):
    """Public: the pricing page's plans and how registration works."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "BillingConfig",
            {
                "registration_mode": serializers.CharField(),
                "rails": serializers.ListField(),
                "plans": PlanSerializer(many=True),
            },
        )
    )
    def get(self, request):
        return Response(
            {
                "registration_mode": settings.SETKA_REGISTRATION_MODE,
                "rails": list(settings.SETKA_BILLING_RAILS),
                "sellers": {
                    k: v for k, v in settings.SETKA_BILLING_SELLERS.items() if k in settings.SETKA_BILLING_RAILS
                },
                "plans": PlanSerializer(selectors.plans_public(), many=True).data,
            }
        )


SUMMARY = inline_serializer(
    "BillingSummary",
    {
        "subscription": SubscriptionSerializer(allow_null=True),
        "plan": PlanSerializer(),
        "usage": serializers.DictField(),
        "held_bots": serializers.ListField(child=serializers.IntegerField()),
        "profit_share": ProfitShareSerializer(allow_null=True),
    },
)


def _summary(user) -> dict:
    sub = selectors.subscription_of(user=user)
    plan = selectors.plan_effective(user=user, subscription=sub)
    share = selectors.profit_share_month(user=user)
    return {
        "subscription": SubscriptionSerializer(sub).data if sub else None,
        "plan": PlanSerializer(plan).data,
        "usage": {k: str(v) if not isinstance(v, int) else v for k, v in selectors.usage(user=user).items()},
        "held_bots": selectors.held_bot_ids(user=user),
        "profit_share": ProfitShareSerializer(share).data if share else None,
    }


class SubscriptionApi(APIView):
    @extend_schema(responses=SUMMARY)
    def get(self, request):
        return Response(_summary(request.user))


class CheckoutApi(APIView):
    @extend_schema(request=CheckoutInput, responses=PaymentSerializer)
    def post(self, request):
        data = CheckoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.checkout_create(
            user=request.user,
            plan_code=data.validated_data["plan"],
            provider=data.validated_data["provider"],
            method=data.validated_data["method"],
            return_base=request.build_absolute_uri("/"),
        )
        return Response(PaymentSerializer(payment).data, status=201)


class PaymentListApi(APIView):
    @extend_schema(responses=PaymentSerializer(many=True))
    def get(self, request):
        return Response(PaymentSerializer(selectors.payments_of(user=request.user)[:100], many=True).data)


class PaymentDetailApi(APIView):
    @extend_schema(responses=PaymentSerializer)
    def get(self, request, payment_id: int):
        payment = selectors.payment_of(user=request.user, payment_id=payment_id)
        if payment is None:
            return Response({"detail": "No such payment.", "code": "not_found"}, status=404)
        return Response(PaymentSerializer(payment).data)


class SubscriptionDowngradeApi(APIView):
    @extend_schema(request=PlanInput, responses=SUMMARY)
    def post(self, request):
        data = PlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = get_object_or_404(Plan, code=data.validated_data["plan"], is_public=True)
        services.subscription_downgrade(user=request.user, plan=plan)
        return Response(_summary(request.user))


class SubscriptionTrialApi(APIView):
    @extend_schema(request=PlanInput, responses=SUMMARY)
    def post(self, request):
        data = PlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = get_object_or_404(Plan, code=data.validated_data["plan"], is_public=True)
        services.subscription_trial_start(user=request.user, plan=plan)
        return Response(_summary(request.user))


class SubscriptionProfitShareApi(APIView):
    """Switch to "pay from profit" (no payment up front: the fee accrues from profit)."""

    @extend_schema(request=PlanInput, responses=SUMMARY)
    def post(self, request):
        data = PlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = get_object_or_404(Plan, code=data.validated_data["plan"], is_public=True, kind=Plan.Kind.PROFIT_SHARE)
        services.subscription_profit_share_join(user=request.user, plan=plan)
        return Response(_summary(request.user))


class WebhookApi(APIView):
    """A provider's callback. No session, no CSRF: the provider's own authentication (address
    range + fetch for YooKassa, HMAC signature for Crypto Pay) is checked by the adapter."""

    authentication_classes = []
    permission_classes = [AllowAny]
    # Providers call from a few addresses, in bursts: a generous per-address budget (atomic).
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "webhook"

    @extend_schema(exclude=True)
    def post(self, request, provider: str):
        code, outcome = services.webhook_receive(
            provider=provider, body=request.body, headers=request.headers, remote_addr=client_ip(request)
        )
        body = {"outcome": outcome}
        if code >= 400:  # the contract's error shape: providers log it, people can read it
            body.update(code=outcome, detail=f"Callback not accepted: {outcome.replace('_', ' ')}.")
        return Response(body, status=code)
