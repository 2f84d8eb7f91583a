"""Trades API: the user's fills across bots (keyset-paginated) and their CSV export."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer

from apicommon.api import ApiMixin
from apicommon.pagination import TradeCursorPagination
from trading.export import trade_csv_response
from trading.filters import TradeFilter
from trading.models import Trade
from trading.selectors import user_trades
from trading.serializers import TradeSerializer


class TradeListApi(ApiMixin, ListAPIView):
    """Fills of the user's bots, newest first. Cursor pagination on (executed_at, id)."""

    serializer_class = TradeSerializer
    pagination_class = TradeCursorPagination
    filterset_class = TradeFilter

    queryset = Trade.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Trade.objects.none()
        return user_trades(user=self.request.user)


class CSVRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; errors still render as JSON text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class TradeExportApi(ApiMixin, GenericAPIView):
    """The same selection as the trade list, as CSV (streamed)."""

    serializer_class = TradeSerializer
    filterset_class = TradeFilter
    throttle_scope = "export"
    pagination_class = None
    renderer_classes = [JSONRenderer, CSVRenderer]

    queryset = Trade.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Trade.objects.none()
        return user_trades(user=self.request.user)

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR, description="CSV, header row first"),
            400: OpenApiResponse(description="Invalid filter"),
            401: OpenApiResponse(description="Not signed in"),
            429: OpenApiResponse(description="Too many exports; see Retry-After"),
        }
    )
    def get(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return trade_csv_response(queryset, filename=f"setka-trades-{stamp}.csv")
