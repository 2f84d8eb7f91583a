"""Bots API: list, preview, create, detail, lifecycle actions, event log, orders, metrics.

Views are thin: parse input, call the lifecycle services (bots.services, owned by the lifecycle
work) or our read selectors, serialize. Every lookup is scoped to request.user, so another
user's bot answers 404, never 403."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apicommon.api import ApiMixin
from apicommon.pagination import IdCursorPagination
from bots import services
from bots.filters import BotFilter, OrderFilter
from bots.models import Bot, BotEvent
from bots.selectors import dashboard_data, user_bots
from bots.serializers import (
    BotCreateSerializer,
    BotEventSerializer,
    BotPreviewSerializer,
    BotSerializer,
    BotStopSerializer,
    DashboardSerializer,
    MetricsSerializer,
    OrderSerializer,
    ReportSerializer,
    SeriesPointSerializer,
)
from config.errors import DomainError
from metrics.selectors import bot_metrics_series, metrics_cycles_24h_by_bot, metrics_figures, user_metrics_totals
from metrics.serializers import TotalsSerializer
from trading.models import Order

UNAUTHORIZED = {401: OpenApiResponse(description="Not signed in")}
ERRORS = {
    400: OpenApiResponse(description="Invalid input: {detail, code, fields}"),
    401: OpenApiResponse(description="Not signed in"),
    404: OpenApiResponse(description="No such bot for this user"),
}


def _report_json(report):
    if report is None:
        return {}
    if hasattr(report, "to_json"):
        return report.to_json()
    return report


def _user_account(user, account_id: int):
    from exchanges.models import ExchangeAccount

    account = ExchangeAccount.objects.filter(pk=account_id, user=user).first()
    if account is None:
        raise ValidationError({"exchange_account": ["No such exchange account."]})
    return account


def _owned_bot(request, pk) -> Bot:
    return get_object_or_404(user_bots(user=request.user), pk=pk)


class BotListCreateApi(ApiMixin, ListAPIView):
    serializer_class = BotSerializer
    filterset_class = BotFilter

    queryset = Bot.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Bot.objects.none()
        return user_bots(user=self.request.user).order_by("-created_at", "-id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["now"] = timezone.now()
        return context

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        context = self.get_serializer_context()
        context["cycles_24h"] = metrics_cycles_24h_by_bot(bot_ids=[b.pk for b in page], now=context["now"])
        data = BotSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=BotCreateSerializer,
        responses={201: BotSerializer, **ERRORS},
        summary="Create a bot (draft)",
        description="400 when the launch report has warnings that were not accepted or blocks the launch.",
    )
    def post(self, request, *args, **kwargs):
        serializer = BotCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = _user_account(request.user, data["exchange_account"])
        bot = services.bot_create(
            user=request.user,
            name=data["name"],
            exchange_account=account,
            symbol=data["symbol"],
            category=data["category"],
            config=data["config"],
            accept_warnings=data["accept_warnings"],
        )
        bot = user_bots(user=request.user).get(pk=bot.pk)
        return Response(BotSerializer(bot, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)


class BotPreviewApi(ApiMixin, GenericAPIView):
    throttle_scope = "preview"
    serializer_class = BotPreviewSerializer

    @extend_schema(
        request=BotPreviewSerializer,
        responses={
            200: OpenApiResponse(response=ReportSerializer, description="The launch report (`report`)"),
            **ERRORS,
        },
        summary="Launch report for a configuration; nothing is created",
    )
    def post(self, request):
        serializer = BotPreviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = _user_account(request.user, data["exchange_account"])
        report = services.bot_preview(
            user=request.user,
            exchange_account=account,
            symbol=data["symbol"],
            category=data["category"],
            config=data["config"],
        )
        return Response(_report_json(report))


class BotDetailApi(ApiMixin, GenericAPIView):
    serializer_class = BotSerializer
    queryset = Bot.objects.none()

    @extend_schema(responses={200: BotSerializer, **ERRORS})
    def get(self, request, pk: int):
        bot = _owned_bot(request, pk)
        return Response(BotSerializer(bot, context={"now": timezone.now()}).data)

    @extend_schema(
        responses={204: None, 409: OpenApiResponse(description="Only a draft or stopped bot can be deleted"), **ERRORS}
    )
    def delete(self, request, pk: int):
        bot = _owned_bot(request, pk)
        if bot.status not in (Bot.Status.DRAFT, Bot.Status.STOPPED):
            raise DomainError("Stop the bot before deleting it.", code="bot_not_stopped", status_code=409)
        services.bot_delete(bot=bot, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _BotActionApi(ApiMixin, GenericAPIView):
    serializer_class = BotSerializer
    queryset = Bot.objects.none()

    def act(self, request, bot: Bot) -> None:  # pragma: no cover - every action defines it
        raise NotImplementedError

    def post(self, request, pk: int):
        bot = _owned_bot(request, pk)
        self.act(request, bot)
        bot = _owned_bot(request, pk)
        return Response(BotSerializer(bot, context={"now": timezone.now()}).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    request=None,
    responses={
        202: BotSerializer,
        409: OpenApiResponse(description="Wrong state; a stopped bot restarts via restart/"),
        **ERRORS,
    },
    summary="Start a draft bot (its report was confirmed at creation)",
)
class BotStartApi(_BotActionApi):
    def act(self, request, bot: Bot) -> None:
        services.bot_start(bot=bot, user=request.user)

    def post(self, request, pk: int):
        bot = _owned_bot(request, pk)
        if bot.status == Bot.Status.STOPPED:
            # A stopped bot re-enters the market at today's price: never in one tap.
            raise DomainError(
                "A stopped bot restarts after you confirm a fresh report (POST restart/).",
                code="restart_needs_confirmation",
                status_code=409,
            )
        return super().post(request, pk)


class BotRestartSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        default=False, help_text="The user read the fresh report (restart/preview/) and confirms the restart."
    )
    warnings_seen = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=50,
        help_text="Codes of the report's warnings the user was shown; a newer warning refuses the restart.",
    )


class BotRestartPreviewApi(ApiMixin, GenericAPIView):
    throttle_scope = "preview"
    serializer_class = ReportSerializer
    queryset = Bot.objects.none()

    @extend_schema(
        request=None,
        responses={200: ReportSerializer, 409: OpenApiResponse(description="The bot is not stopped"), **ERRORS},
        summary="A fresh launch report of a stopped bot at the current price (nothing changes)",
    )
    def post(self, request, pk: int):
        bot = _owned_bot(request, pk)
        bot = Bot.objects.select_related("exchange_account").get(pk=bot.pk)
        return Response(_report_json(services.bot_restart_preview(bot=bot, user=request.user)))


class BotRestartApi(ApiMixin, GenericAPIView):
    throttle_scope = "preview"
    serializer_class = BotSerializer
    queryset = Bot.objects.none()

    @extend_schema(
        request=BotRestartSerializer,
        responses={202: BotSerializer, 409: OpenApiResponse(description="The bot is not stopped"), **ERRORS},
        summary="Restart a stopped bot after confirming its fresh launch report",
        description="400 `restart_not_confirmed` without `confirm: true`; 400 `warnings_not_accepted` when the "
        "fresh report has a warning not listed in `warnings_seen`; 400 `report_blocking` when it cannot run.",
    )
    def post(self, request, pk: int):
        bot = _owned_bot(request, pk)
        serializer = BotRestartSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        bot = Bot.objects.select_related("exchange_account").get(pk=bot.pk)
        services.bot_relaunch(
            bot=bot,
            user=request.user,
            confirm=serializer.validated_data["confirm"],
            warnings_seen=serializer.validated_data.get("warnings_seen") or [],
        )
        bot = _owned_bot(request, pk)
        return Response(BotSerializer(bot, context={"now": timezone.now()}).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    request=BotStopSerializer, responses={202: BotSerializer, 409: OpenApiResponse(description="Wrong state"), **ERRORS}
)
class BotStopApi(_BotActionApi):
    def act(self, request, bot: Bot) -> None:
        serializer = BotStopSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        services.bot_stop(
            bot=bot, user=request.user, close_action=serializer.validated_data.get("close_action") or None
        )


@extend_schema(request=None, responses={202: BotSerializer, 409: OpenApiResponse(description="Wrong state"), **ERRORS})
class BotEmergencyStopApi(_BotActionApi):
    def act(self, request, bot: Bot) -> None:
        services.bot_emergency_stop(bot=bot, actor=request.user)


class BotEventListApi(ApiMixin, ListAPIView):
    serializer_class = BotEventSerializer
    pagination_class = IdCursorPagination
    filter_backends: list = []

    queryset = BotEvent.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BotEvent.objects.none()
        bot = _owned_bot(self.request, self.kwargs["pk"])
        return BotEvent.objects.filter(bot=bot)


class BotOrderListApi(ApiMixin, ListAPIView):
    serializer_class = OrderSerializer
    pagination_class = IdCursorPagination
    filterset_class = OrderFilter

    queryset = Order.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        bot = _owned_bot(self.request, self.kwargs["pk"])
        return Order.objects.filter(bot=bot, user=self.request.user)


class BotMetricsApi(ApiMixin, GenericAPIView):
    serializer_class = MetricsSerializer
    queryset = Bot.objects.none()

    @extend_schema(responses={200: MetricsSerializer, **ERRORS})
    def get(self, request, pk: int):
        bot = _owned_bot(request, pk)
        figures = metrics_figures(bot=bot, metrics=getattr(bot, "metrics", None) if _metrics_exist(bot) else None)
        return Response(MetricsSerializer(figures).data)


class BotPositionSerializer(serializers.Serializer):
    """The futures panel: what a running linear bot holds on the exchange."""

    category = serializers.CharField()
    direction = serializers.CharField(allow_null=True, help_text="long | short | neutral (linear bots)")
    leverage = serializers.CharField(allow_null=True)
    side = serializers.CharField(allow_null=True, help_text="long | short; null when flat")
    size = serializers.CharField(help_text="Absolute position size in the base coin")
    entry_price = serializers.CharField(allow_null=True)
    mark_price = serializers.CharField(allow_null=True, help_text="The latest price the bot saw")
    unrealized_pnl = serializers.CharField(allow_null=True)
    liquidation_price = serializers.CharField(allow_null=True)
    # A declared field named "source": DRF's metaclass pops it from the class, the stub cannot know.
    source = serializers.ChoiceField(choices=["exchange", "ledger", "none"])  # type: ignore[assignment]
    updated_at = serializers.CharField(allow_null=True, help_text="When the exchange last reported it")


class BotPositionApi(ApiMixin, GenericAPIView):
    serializer_class = BotPositionSerializer
    queryset = Bot.objects.none()

    @extend_schema(responses={200: BotPositionSerializer, **ERRORS}, summary="The bot's live futures position")
    def get(self, request, pk: int):
        from bots.selectors import bot_position

        bot = _owned_bot(request, pk)
        metrics = bot.metrics if _metrics_exist(bot) else None
        return Response(BotPositionSerializer(bot_position(bot=bot, metrics=metrics)).data)


def _metrics_exist(bot) -> bool:
    from metrics.models import BotMetrics

    try:
        return bot.metrics is not None
    except BotMetrics.DoesNotExist:
        return False


class SeriesQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="Only points at or after this time.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=10000, default=2000)


class BotMetricsSeriesApi(ApiMixin, GenericAPIView):
    serializer_class = SeriesPointSerializer
    queryset = Bot.objects.none()

    @extend_schema(parameters=[SeriesQuerySerializer], responses={200: SeriesPointSerializer(many=True), **ERRORS})
    def get(self, request, pk: int):
        bot = _owned_bot(request, pk)
        query = SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        points = bot_metrics_series(
            bot=bot, since=query.validated_data.get("since"), limit=query.validated_data["limit"]
        )
        return Response(SeriesPointSerializer(points, many=True).data)


# --- dashboard and per-user totals (bots with their figures, the latest fills) ------------------


class DashboardApi(ApiMixin, APIView):
    @extend_schema(responses={200: DashboardSerializer, **UNAUTHORIZED})
    def get(self, request):
        now = timezone.now()
        data = dashboard_data(user=request.user, now=now)
        context = {"now": now, "cycles_24h": data["cycles_24h"], "request": request}
        return Response(DashboardSerializer(data, context=context).data)


class UserMetricsApi(ApiMixin, APIView):
    @extend_schema(responses={200: TotalsSerializer, **UNAUTHORIZED})
    def get(self, request):
        return Response(TotalsSerializer(user_metrics_totals(bots=user_bots(user=request.user))).data)
