"""Telegram API under /api/telegram/: the profile's link (create a one-time deep link, see the
linked chat, unlink), the webhook Telegram posts updates to (production), and a dev-only
"press Start" that plays the user's part against the fake Bot API."""

from __future__ import annotations

import hmac
import json

import aiohttp
from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from pydantic import ValidationError
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from telegram_bot import selectors, services
from telegram_bot.webhook import feed

LinkStatus = inline_serializer(
    "TelegramLink",
    {
        "linked": serializers.BooleanField(),
        "username": serializers.CharField(allow_blank=True),
        "linked_at": serializers.DateTimeField(allow_null=True),
        "blocked": serializers.BooleanField(),
        "bot_username": serializers.CharField(),
        "dev_tools": serializers.BooleanField(),
    },
)


def _status(user) -> dict:
    link = selectors.link_get(user=user)
    return {
        "linked": link is not None,
        "username": link.username if link else "",
        "linked_at": link.linked_at if link else None,
        "blocked": bool(link and link.blocked_at),
        "bot_username": settings.SETKA_TELEGRAM_BOT_USERNAME,
        "dev_tools": settings.SETKA_TELEGRAM_DEV_TOOLS,
    }


class TelegramLinkApi(APIView):
    """GET the link's state; POST a fresh one-time deep link (it expires, works once); DELETE unlinks."""

    @extend_schema(responses=LinkStatus)
    def get(self, request):
        return Response(_status(request.user))

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "TelegramLinkToken", {"url": serializers.CharField(), "expires_at": serializers.DateTimeField()}
        ),
    )
    def post(self, request):
        _, url, expires_at = services.link_token_create(user=request.user)
        return Response({"url": url, "expires_at": expires_at}, status=201)

    @extend_schema(responses={204: None})
    def delete(self, request):
        services.link_delete(user=request.user)
        return Response(status=204)


class TelegramDevStartApi(APIView):
    """Development only (SETKA_TELEGRAM_DEV_TOOLS): play the user pressing Start on the deep
    link in Telegram. The fake Bot API sends `/start link_<token>` from a Telegram user whose id
    is derived from the account, and the bot (polling) links that chat."""

    @extend_schema(
        request=inline_serializer("TelegramDevStart", {"url": serializers.CharField()}),
        responses=inline_serializer("TelegramDevStarted", {"chat_id": serializers.IntegerField()}),
    )
    def post(self, request):
        if not settings.SETKA_TELEGRAM_DEV_TOOLS:
            raise DomainError("Not found.", code="not_found", status_code=404)
        body = request.data if isinstance(request.data, dict) else {}  # a JSON list or scalar is no link
        url = str(body.get("url", ""))
        marker = f"?start={services.LINK_PREFIX}"
        if marker not in url:
            raise DomainError("Check the highlighted fields.", code="invalid", fields={"url": ["Not a link."]})
        start = url.split("?start=", 1)[1]
        chat_id = 700_000_000 + request.user.pk
        body = {
            "user_id": chat_id,
            "text": f"/start {start}",
            "first_name": request.user.first_name or request.user.email.split("@")[0],
            "language_code": request.user.language,
        }
        async_to_sync(_control_post)("message", body)
        return Response({"chat_id": chat_id})


async def _control_post(action: str, body: dict) -> dict:
    base = settings.SETKA_TELEGRAM_API_URL.rstrip("/")
    url = f"{base}/_control/{settings.SETKA_TELEGRAM_BOT_TOKEN}/{action}"
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as resp:
        return await resp.json()


@csrf_exempt
async def telegram_webhook(request: HttpRequest) -> HttpResponse:
    """Telegram's updates in webhook mode. Only a request carrying our secret in
    X-Telegram-Bot-Api-Secret-Token is fed to the dispatcher; anything else answers 403."""
    if request.method != "POST":
        return JsonResponse({"detail": "Method not allowed.", "code": "method_not_allowed"}, status=405)
    secret = settings.SETKA_TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return JsonResponse({"detail": "Forbidden.", "code": "permission_denied"}, status=403)
    try:
        update = json.loads(request.body)
        if not isinstance(update, dict):
            raise ValueError("an update is an object")
        await feed(update)
    except (ValueError, ValidationError):
        return JsonResponse({"detail": "The request could not be read.", "code": "parse_error"}, status=400)
    return HttpResponse(status=200)
