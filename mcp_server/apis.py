"""The profile's personal access tokens (create: the token is shown once; list; revoke) and the
user's MCP audit log."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from apicommon.api import ApiMixin
from mcp_server import selectors, services
from mcp_server.models import AuditEntry, PersonalAccessToken


class AccessTokenSerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField()

    class Meta:
        model = PersonalAccessToken
        fields = ["id", "name", "prefix", "scope", "expires_at", "revoked_at", "last_used_at", "created_at", "active"]

    def get_active(self, obj) -> bool:
        from django.utils import timezone

        return obj.revoked_at is None and obj.expires_at > timezone.now()


class AccessTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=PersonalAccessToken.Scope.choices, default="read")
    days = serializers.IntegerField(min_value=1, max_value=services.MAX_TOKEN_DAYS, default=90)


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["id", "created_at", "tool", "outcome", "code", "message", "bot_id", "params"]


class AccessTokenListCreateApi(ApiMixin, GenericAPIView):
    serializer_class = AccessTokenSerializer
    queryset = PersonalAccessToken.objects.none()

    @extend_schema(responses={200: AccessTokenSerializer(many=True)})
    def get(self, request):
        rows = selectors.access_token_list(user=request.user)[:100]
        return Response(AccessTokenSerializer(rows, many=True).data)

    @extend_schema(request=AccessTokenCreateSerializer, responses={201: AccessTokenSerializer})
    def post(self, request):
        serializer = AccessTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row, text = services.access_token_create(user=request.user, **serializer.validated_data)
        return Response({**AccessTokenSerializer(row).data, "token": text}, status=status.HTTP_201_CREATED)


class AccessTokenRevokeApi(ApiMixin, GenericAPIView):
    serializer_class = AccessTokenSerializer
    queryset = PersonalAccessToken.objects.none()

    @extend_schema(request=None, responses={200: AccessTokenSerializer})
    def post(self, request, pk: int):
        row = services.access_token_revoke(user=request.user, token_id=pk)
        return Response(AccessTokenSerializer(row).data)


class AuditListApi(ApiMixin, GenericAPIView):
    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.none()

    @extend_schema(responses={200: AuditEntrySerializer(many=True)})
    def get(self, request):
        return Response(AuditEntrySerializer(selectors.audit_list(user=request.user)[:200], many=True).data)


class SuggestSerializer(serializers.Serializer):
    symbol = serializers.RegexField(r"^[A-Z0-9]{2,32}$", max_length=32)
    budget = serializers.DecimalField(max_digits=20, decimal_places=8, min_value=50, max_value=10_000_000)
    risk = serializers.ChoiceField(choices=["low", "medium", "high"], default="medium")
    price = serializers.DecimalField(max_digits=30, decimal_places=12, min_value=0, required=False)
    tick = serializers.DecimalField(max_digits=30, decimal_places=12, min_value=0, required=False)


class SuggestApi(ApiMixin, GenericAPIView):
    """Walk-forward parameter suggestion for the create form ("suggest"), at the live price."""

    throttle_scope = "preview"
    serializer_class = SuggestSerializer

    @extend_schema(request=SuggestSerializer, responses={200: dict})
    def post(self, request):
        from config.errors import DomainError
        from mcp_server import tools
        from mcp_server.services import Principal, ToolRefused

        serializer = SuggestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            out = tools.suggest_parameters(
                Principal(user_id=request.user.pk, scopes=("read",)),
                symbol=data["symbol"],
                budget=str(data["budget"]),
                risk=data["risk"],
                price=str(data["price"]) if data.get("price") else None,
                tick=str(data["tick"]) if data.get("tick") else None,
            )
        except ToolRefused as exc:
            raise DomainError(exc.message, code="invalid", fields={"symbol": [exc.message]}) from exc
        return Response(out)


class BotStudyApi(ApiMixin, GenericAPIView):
    """The trade study of one of the user's bots (another user's bot answers 404)."""

    serializer_class = AuditEntrySerializer  # schema placeholder: the study is a plain object
    queryset = AuditEntry.objects.none()

    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        from django.shortcuts import get_object_or_404
        from django.utils.translation import get_language

        from bots.selectors import user_bots
        from mcp_server.insights.study import bot_study

        bot = get_object_or_404(user_bots(user=request.user), pk=pk)
        return Response(bot_study(bot=bot, language=(get_language() or "ru")[:2]))


class PortfolioApi(ApiMixin, GenericAPIView):
    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.none()

    @extend_schema(responses={200: dict})
    def get(self, request):
        from mcp_server.insights.study import portfolio_study

        return Response(portfolio_study(user=request.user))


class BotRegimeApi(ApiMixin, GenericAPIView):
    """The market regime watched for one of the user's bots, with the reason in words when it
    has turned against the grid (another user's bot answers 404)."""

    serializer_class = AuditEntrySerializer  # schema placeholder: a plain object
    queryset = AuditEntry.objects.none()

    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        from django.shortcuts import get_object_or_404

        from bots.selectors import user_bots
        from config.exceptions import request_language
        from mcp_server.insights.watch import bot_regime_view

        bot = get_object_or_404(user_bots(user=request.user), pk=pk)
        return Response(bot_regime_view(bot=bot, language=request_language(request)))
