"""Referral API under /api/referrals/ and the landing /r/<code>. Thin views over services."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import HttpResponseRedirect
from django.utils.http import urlencode
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttling import client_ip
from referrals import selectors, services
from referrals.models import Payout
from referrals.services.payouts import payout_minimum

REF_COOKIE, DEVICE_COOKIE = "setka_ref", "setka_dev"
YEAR = 365 * 24 * 3600


def _device(request) -> tuple[str, bool]:
    value = request.COOKIES.get(DEVICE_COOKIE, "")
    if value and len(value) <= 64 and value.isalnum():
        return value, False
    return secrets.token_hex(16), True


def _set_device(response, device: str) -> None:
    response.set_cookie(DEVICE_COOKIE, device, max_age=YEAR, httponly=True, samesite="Lax", secure=not settings.DEBUG)


def referral_landing_view(request, code: str):
    """A visit by a partner link: count the click, keep the code (cookie, 30 days) and send the
    visitor to sign-up with the code in the address as well."""
    device, new = _device(request)
    found = services.click_record(code=code, device=device, ip=client_ip(request))
    target = "/register"
    response = HttpResponseRedirect(f"{target}?{urlencode({'ref': found.code})}" if found else target)
    if found:
        response.set_cookie(
            REF_COOKIE, found.code, max_age=30 * 24 * 3600, httponly=True, samesite="Lax", secure=not settings.DEBUG
        )
    if new:
        _set_device(response, device)
    return response


class AttributionSerializer(serializers.Serializer):
    code = serializers.CharField(source="code.code")
    source = serializers.CharField()  # type: ignore[assignment]  # a field named "source": DRF pops it from the class
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


def _body(request) -> dict:
    """The JSON body when it is an object; a list or a bare value reads as empty (a 4xx follows)."""
    return request.data if isinstance(request.data, dict) else {}


class ReferralAttributeApi(APIView):
    """Right after sign-up the app sends the code it kept (parameter), or the landing's cookie
    is used. Once attributed, the referrer is fixed for life."""

    @extend_schema(
        request=inline_serializer("ReferralAttributeInput", {"code": serializers.CharField(required=False)}),
        responses=AttributionSerializer,
    )
    def post(self, request):
        code = str(_body(request).get("code") or request.COOKIES.get(REF_COOKIE, ""))[:64]
        device, new = _device(request)
        attribution = services.referral_attribute(
            user=request.user, code=code, source="link", ip=client_ip(request), device=device
        )
        response = Response(AttributionSerializer(attribution).data, status=201)
        response.delete_cookie(REF_COOKIE)
        if new:
            _set_device(response, device)
        return response


class PayoutSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(max_digits=20, decimal_places=2, coerce_to_string=True)

    class Meta:
        model = Payout
        fields = [
            "id",
            "kind",
            "rail",
            "destination",
            "amount",
            "currency",
            "status",
            "note",
            "created_at",
            "decided_at",
        ]
        extra_kwargs = {"destination": {"help_text": "Masked (the card's last four, the wallet's ends)"}}


class PartnerDashboardApi(APIView):
    """The partner's page: codes and links, figures, balances by currency, promotional texts."""

    @extend_schema(responses=inline_serializer("PartnerDashboard", {"codes": serializers.ListField()}))
    def get(self, request):
        partner = services.partner_ensure(user=request.user)
        device, new = _device(request)
        services.partner_device_seen(partner=partner, device=device)
        base = request.build_absolute_uri("/").rstrip("/")
        codes = [
            {
                "code": c.code,
                "custom": c.custom,
                "link": f"{base}/r/{c.code}",
                "telegram": f"start=ref_{c.code}",
            }
            for c in partner.codes.filter(active=True)
        ]
        tier = partner.tier
        body = {
            "codes": codes,
            "approved": partner.approved,
            "tier": {
                "name": tier.name,
                "level1_rate": str(tier.level1_rate),
                "level2_rate": str(tier.level2_rate),
                "referee_discount_rate": str(tier.referee_discount_rate),
                # What a transfer needs at least: the tier's minimum, never below the rail's.
                "min_payout_rub": str(payout_minimum(partner, "RUB", "yookassa")),
                "min_payout_usdt": str(payout_minimum(partner, "USDT", "cryptopay")),
            },
            "promo": selectors.PROMO_TEXTS,
            **selectors.partner_dashboard(partner=partner),
        }
        response = Response(body)
        if new:
            _set_device(response, device)
        return response


class ReferralCodeCreateApi(APIView):
    @extend_schema(
        request=inline_serializer("ReferralCodeInput", {"code": serializers.CharField()}),
        responses={
            201: inline_serializer(
                "ReferralCodeOutput", {"code": serializers.CharField(), "custom": serializers.BooleanField()}
            )
        },
    )
    def post(self, request):
        code = services.code_create_custom(user=request.user, code=str(_body(request).get("code", ""))[:64])
        return Response({"code": code.code, "custom": True}, status=201)


class PayoutInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Payout.Kind.choices)
    currency = serializers.ChoiceField(choices=["RUB", "USDT"])
    amount = serializers.DecimalField(max_digits=20, decimal_places=2, required=False, min_value=0)
    rail = serializers.CharField(required=False, allow_blank=True, max_length=16, default="")
    destination = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class PayoutListApi(APIView):
    """The partner's payout history, and a new request (plan credit is instant)."""

    @extend_schema(responses=PayoutSerializer(many=True))
    def get(self, request):
        partner = selectors.partner_of(user=request.user)
        rows = selectors.partner_payouts(partner=partner)[:200] if partner else []
        return Response(PayoutSerializer(rows, many=True).data)

    @extend_schema(request=PayoutInput, responses=PayoutSerializer)
    def post(self, request):
        data = PayoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.payout_request(user=request.user, **data.validated_data)
        return Response(PayoutSerializer(payout).data, status=201)


class ReferralCodeCheckApi(APIView):
    """Public: is this code valid (the sign-up page shows who invited the visitor)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses=inline_serializer("ReferralCodeCheck", {"valid": serializers.BooleanField()}))
    def get(self, request, code: str):
        found = selectors.code_active(code=code)
        return Response({"valid": found is not None, "code": found.code if found else None})
