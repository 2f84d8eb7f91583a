"""Notifications API under /api/notifications/: the user's in-app list, unread count, mark as
read, and preferences (per event and channel, quiet hours)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.limits import MAX_ID
from config.pagination import LimitOffsetPagination
from notifications import selectors
from notifications.channels import channels_registered
from notifications.events import CHANNELS, EVENTS, help_path
from notifications.models import Notification
from notifications.services import notifications_mark_read, preferences_set


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()
    help_url = serializers.SerializerMethodField(
        help_text='App path of the knowledge-base article "How to fix" (e.g. /help/api-key-problems), or "".'
    )

    class Meta:
        model = Notification
        fields = ["id", "event", "title", "body", "url", "help_url", "params", "created_at", "read"]

    def get_read(self, obj) -> bool:
        return obj.read_at is not None

    def get_help_url(self, obj) -> str:
        return help_path(obj.params)


class NotificationListApi(APIView):
    @extend_schema(responses=NotificationSerializer(many=True))
    def get(self, request):
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.notifications_of(user=request.user), request, view=self)
        return paginator.get_paginated_response(NotificationSerializer(page, many=True).data)


class UnreadCountApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response({"unread": selectors.unread_count(user=request.user)})


class MarkReadInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=500
    )


class MarkReadApi(APIView):
    @extend_schema(request=MarkReadInput, responses={200: dict})
    def post(self, request):
        data = MarkReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        count = notifications_mark_read(user=request.user, ids=data.validated_data.get("ids"))
        return Response({"marked": count, "unread": selectors.unread_count(user=request.user)})


class PreferenceItem(serializers.Serializer):
    event = serializers.ChoiceField(choices=list(EVENTS))
    channel = serializers.ChoiceField(choices=list(CHANNELS))
    enabled = serializers.BooleanField()


class QuietInput(serializers.Serializer):
    enabled = serializers.BooleanField()
    start = serializers.TimeField()
    end = serializers.TimeField()
    timezone = serializers.CharField(max_length=64)


class PreferencesInput(serializers.Serializer):
    preferences = PreferenceItem(many=True, required=False)
    quiet_hours = QuietInput(required=False)


class PreferencesApi(APIView):
    def _state(self, user):
        return {
            "events": list(EVENTS),
            "channels": [c for c in CHANNELS if c == "inapp" or c in channels_registered()],
            "preferences": selectors.preferences_of(user=user),
            "quiet_hours": selectors.quiet_hours_of(user=user),
        }

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(self._state(request.user))

    @extend_schema(request=PreferencesInput, responses={200: dict})
    def put(self, request):
        data = PreferencesInput(data=request.data)
        data.is_valid(raise_exception=True)
        preferences_set(
            user=request.user,
            preferences=data.validated_data.get("preferences", []),
            quiet=data.validated_data.get("quiet_hours"),
        )
        return Response(self._state(request.user))
