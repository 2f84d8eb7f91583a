"""Public news: /api/news/ (the app's news page), /news/rss.xml (Dzen imports it), and VK's
Callback API endpoint (confirmation string, then events checked by their secret)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema
from feedgen.feed import FeedGenerator
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttling import ScopedRateThrottle
from announcements import selectors
from announcements.vk_callback import vk_event_process, vk_event_store
from config.errors import DomainError
from config.parsers import safe_json_loads


class NewsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title_ru = serializers.CharField()
    title_en = serializers.CharField()
    body_ru = serializers.CharField()
    body_en = serializers.CharField()
    link = serializers.CharField()
    published_at = serializers.DateTimeField()


class NewsListApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses=NewsSerializer(many=True))
    def get(self, request):
        return Response(NewsSerializer(selectors.news_list()[:50], many=True).data)


class NewsDetailApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses=NewsSerializer)
    def get(self, request, announcement_id: int):
        item = selectors.news_get(announcement_id=announcement_id)
        if item is None:
            raise DomainError("Not found.", code="not_found", status_code=404)
        return Response(NewsSerializer(item).data)


def news_rss(request: HttpRequest) -> HttpResponse:
    """RSS 2.0 of the published posts in Russian, in the shape Dzen imports."""
    base = settings.SETKA_PUBLIC_URL.rstrip("/")
    feed = FeedGenerator()
    feed.title("Сетка — новости")
    feed.link(href=f"{base}/news", rel="alternate")
    feed.description("Новости продукта и обучение")
    feed.language("ru")
    for item in reversed(list(selectors.news_list()[:50])):
        entry = feed.add_entry()
        entry.guid(f"{base}/news/{item.pk}", permalink=True)
        entry.title(item.title_ru)
        entry.link(href=f"{base}/news/{item.pk}")
        entry.description(item.body_ru)
        entry.content(item.body_ru.replace("\n", "<br/>"), type="CDATA")
        entry.pubDate(item.published_at)
    return HttpResponse(feed.rss_str(pretty=True), content_type="application/rss+xml; charset=utf-8")


class VkCallbackApi(APIView):
    """VK's Callback API. `confirmation` is answered with our confirmation string; every other
    event must carry our `secret` (403 otherwise) and our group_id; it is stored once by its
    event_id and handled, and VK is always answered with the plain "ok" it waits for (a
    re-delivered event changes nothing)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "webhook"

    @extend_schema(exclude=True)
    def post(self, request):
        event = safe_json_loads(request.body)
        if not isinstance(event, dict):
            raise DomainError("A VK event is a JSON object.", code="parse_error")
        if str(event.get("group_id")) != str(settings.SETKA_VK_GROUP_ID):
            raise DomainError("Unknown VK community.", code="permission_denied", status_code=403)
        if event.get("type") == "confirmation":
            return HttpResponse(settings.SETKA_VK_CONFIRMATION, content_type="text/plain")
        secret = settings.SETKA_VK_CALLBACK_SECRET
        given = event.get("secret")
        if not secret or not isinstance(given, str) or not hmac.compare_digest(given.encode(), secret.encode()):
            raise DomainError("Wrong secret.", code="permission_denied", status_code=403)
        event_id, kind = event.get("event_id"), event.get("type")
        if not isinstance(event_id, str) or not 0 < len(event_id) <= 64 or not isinstance(kind, str):
            raise DomainError("A VK event needs its type and event_id.", code="invalid")
        row, _new = vk_event_store(event=event)
        if row.processed_at is None:  # new, or stored earlier by a delivery that failed half-way
            vk_event_process(event_pk=row.pk)
        return HttpResponse("ok", content_type="text/plain")
