"""Analytics API under /api/analytics/: market series, the screener, backtests. Thin views."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors, services
from analytics.explain import FACTORS
from analytics.models import Backtest
from config.limits import MAX_ID

_series = selectors.series_json


class SeriesListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="analytics_series_list", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response([_series(s) for s in selectors.series_list()])


class ScreenerListApi(APIView):
    """Every stored market with its factors, sortable (?sort=field, -field) and filterable
    (?venue=, ?category=, ?min_volume=)."""

    permission_classes = [IsAuthenticated]
    SORTS = selectors.SCREENER_SORTS

    @extend_schema(
        operation_id="analytics_screener_list",
        parameters=[
            OpenApiParameter("sort", str, description="score, quote_volume_24h, atr_percent, ... ('-' for descending)"),
            OpenApiParameter("venue", str),
            OpenApiParameter("category", str),
            OpenApiParameter("min_volume", float),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        try:
            min_volume = float(request.query_params.get("min_volume") or 0)
        except ValueError:
            min_volume = 0.0
        rows = selectors.screener_list(
            venue=request.query_params.get("venue") or "",
            category=request.query_params.get("category") or "",
            sort=request.query_params.get("sort") or "-score",
            min_volume=min_volume,
            series_json=_series,
        )
        return Response({"results": rows, "explain": FACTORS, "venues": selectors.screener_venues()})


class BacktestInput(serializers.Serializer):
    series_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    config = serializers.DictField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    in_sample_percent = serializers.IntegerField(required=False, default=70, min_value=50, max_value=90)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=80)


def _backtest(bt: Backtest, *, full: bool) -> dict:
    data = {
        "id": bt.id,
        "name": bt.name,
        "series": _series(bt.series),
        "config": bt.config,
        "period_start": bt.period_start,
        "period_end": bt.period_end,
        "in_sample_percent": bt.in_sample_percent,
        "status": bt.status,
        "progress": bt.progress,
        "summary": bt.summary,
        "error_code": bt.error_code,
        "error": bt.error,
        "created_at": bt.created_at,
        "finished_at": bt.finished_at,
        "duration_ms": bt.duration_ms,
        "launch": services.backtest_launch_query(backtest=bt),
    }
    if full:
        data["result"] = bt.result
    return data


class BacktestListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="analytics_backtests_list",
        parameters=[OpenApiParameter("ids", str, description="compare side by side: 1,2,3 (at most 6)")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        ids = request.query_params.get("ids")
        qs = selectors.backtests_of(user=request.user)
        if ids:  # compare side by side: ?ids=1,2,3
            parts = [x.strip() for x in ids.split(",")[:50]]
            numbers = (int(x) for x in parts if x.isascii() and x.isdigit() and len(x) <= 19)
            wanted = [n for n in numbers if n <= MAX_ID][:6]
            return Response([_backtest(b, full=True) for b in qs.filter(pk__in=wanted)])
        return Response([_backtest(b, full=False) for b in qs[:100]])

    @extend_schema(
        operation_id="analytics_backtests_create", request=BacktestInput, responses={201: OpenApiTypes.OBJECT}
    )
    def post(self, request):
        data = BacktestInput(data=request.data)
        data.is_valid(raise_exception=True)
        bt = services.backtest_create(user=request.user, **data.validated_data)
        return Response(_backtest(bt, full=False), status=201)


class BacktestDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="analytics_backtest_detail",
        parameters=[OpenApiParameter("chart", str, description="1: add candles, grid lines and marks")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, backtest_id: int):
        try:
            bt = selectors.backtest_of(user=request.user, backtest_id=backtest_id)
        except Backtest.DoesNotExist as exc:
            raise Http404 from exc
        data = _backtest(bt, full=True)
        if request.query_params.get("chart") == "1":
            data["chart"] = _chart(bt)
        return Response(data)


def _chart(bt: Backtest) -> dict:
    """Candles of the period, the grid lines, TP/SL/trigger prices for the result's chart."""
    from bots.engine import GridConfig
    from bots.engine.levels import grid_levels

    minutes, candles = selectors.candles_bucketed(series=bt.series, start=bt.period_start, end=bt.period_end)
    config = GridConfig.from_json(bt.config)
    levels = [format(v.normalize(), "f") for v in grid_levels(config, services.series_rules(bt.series))]
    marks = {
        k: str(getattr(config, k))
        for k in ("take_profit_price", "stop_loss_price", "trigger_price")
        if getattr(config, k) is not None
    }
    return {"bar_minutes": minutes, "candles": candles, "levels": levels, "marks": marks}
