"""What the app's forms need to know about the server's rules before they submit (public)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttling import AnonRateThrottle


class AppConfigApi(APIView):
    """The rules the server enforces, so that hints in the app say the same."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        responses=inline_serializer("AppConfig", {"password_min_length": serializers.IntegerField()}),
        auth=[],
    )
    def get(self, request):
        return Response({"password_min_length": settings.SETKA_PASSWORD_MIN_LENGTH})
