"""Public news: /api/news/ (the app's news page), /news/rss.xml (Dzen imports it), and VK's
Callback API endpoint (confirmation string, then events checked by their secret)."""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from feedgen.feed import FeedGenerator
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from announcements import selectors
from config.exceptions import DomainError


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


@csrf_exempt
def vk_callback(request: HttpRequest) -> HttpResponse:
    """VK's Callback API: answer the confirmation request with our string; accept events only
    with our secret (VK expects the body "ok")."""
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        event = json.loads(request.body)
    except ValueError:
        return HttpResponse("bad request", status=400)
    if str(event.get("group_id")) != str(settings.SETKA_VK_GROUP_ID):
        return HttpResponse("unknown group", status=403)
    if event.get("type") == "confirmation":
        return HttpResponse(settings.SETKA_VK_CONFIRMATION, content_type="text/plain")
    secret = settings.SETKA_VK_CALLBACK_SECRET
    if not secret or not hmac.compare_digest(str(event.get("secret", "")).encode(), secret.encode()):
        return HttpResponse("forbidden", status=403)
    return HttpResponse("ok", content_type="text/plain")
