"""Dashboard and per-user metrics."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics.api_common import ApiMixin
from metrics.selectors import dashboard_data, user_metrics_totals
from metrics.serializers import DashboardSerializer, TotalsSerializer

UNAUTHORIZED = {401: OpenApiResponse(description="Not signed in")}


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
        return Response(TotalsSerializer(user_metrics_totals(user=request.user)).data)
