"""Support API under /api/support/: the user's tickets (open, read the thread, reply with
attachments, close, rate), the troubleshooter of a bot, and the knowledge base."""

from __future__ import annotations

from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from config.limits import MAX_ID
from support import selectors
from support.serializers import (
    ArticleListSerializer,
    ArticleSerializer,
    TicketDetailSerializer,
    TicketSerializer,
)
from support.services import ticket_close, ticket_create, ticket_message_add, ticket_rate
from support.services.attachments import UploadedAttachment
from support.services.diagnostics import bot_troubleshoot


def _files(request) -> list[UploadedAttachment]:
    return [UploadedAttachment(name=f.name, data=f.read()) for f in request.FILES.getlist("attachments")]


def _bot(request, bot_id):
    if bot_id in (None, ""):
        return None
    from bots.models import Bot

    try:
        bot = (
            Bot.objects.select_related("exchange_account__exchange", "user")
            .filter(user=request.user, pk=int(bot_id))
            .first()
        )
    except (TypeError, ValueError):
        bot = None
    if bot is None:
        raise Http404
    return bot


def _ticket(request, ticket_id: int):
    ticket = selectors.ticket_of(user=request.user, ticket_id=ticket_id)
    if ticket is None:
        raise Http404
    return ticket


def _language(request) -> str:
    lang = getattr(request.user, "language", "") or request.LANGUAGE_CODE or "ru"
    return lang if lang in ("ru", "en") else "ru"


class TicketCreateInput(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10_000)
    queue = serializers.ChoiceField(choices=["billing", "exchange", "bots", "partners"], required=False)
    bot = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)


class TicketListApi(APIView):
    @extend_schema(responses=TicketSerializer(many=True))
    def get(self, request):
        return Response(TicketSerializer(selectors.tickets_of(user=request.user)[:200], many=True).data)

    @extend_schema(request=TicketCreateInput, responses={201: TicketDetailSerializer})
    def post(self, request):
        data = TicketCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = ticket_create(
            user=request.user,
            subject=data.validated_data["subject"],
            body=data.validated_data["body"],
            queue=data.validated_data.get("queue") or "",
            bot=_bot(request, data.validated_data.get("bot")),
            attachments=_files(request),
        )
        return Response(TicketDetailSerializer(ticket).data, status=status.HTTP_201_CREATED)


class TicketDetailApi(APIView):
    @extend_schema(responses=TicketDetailSerializer)
    def get(self, request, ticket_id: int):
        return Response(TicketDetailSerializer(_ticket(request, ticket_id)).data)


class TicketReplyInput(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)


class TicketReplyApi(APIView):
    @extend_schema(request=TicketReplyInput, responses={201: TicketDetailSerializer})
    def post(self, request, ticket_id: int):
        ticket = _ticket(request, ticket_id)
        data = TicketReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        ticket_message_add(
            ticket=ticket, author=request.user, body=data.validated_data["body"], attachments=_files(request)
        )
        ticket.refresh_from_db()
        return Response(TicketDetailSerializer(ticket).data, status=status.HTTP_201_CREATED)


class TicketCloseApi(APIView):
    @extend_schema(request=None, responses=TicketDetailSerializer)
    def post(self, request, ticket_id: int):
        ticket = ticket_close(ticket=_ticket(request, ticket_id), user=request.user)
        return Response(TicketDetailSerializer(ticket).data)


class TicketRateInput(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class TicketRateApi(APIView):
    @extend_schema(request=TicketRateInput, responses=TicketDetailSerializer)
    def post(self, request, ticket_id: int):
        data = TicketRateInput(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = ticket_rate(
            ticket=_ticket(request, ticket_id),
            user=request.user,
            rating=data.validated_data["rating"],
            comment=data.validated_data.get("comment", ""),
        )
        return Response(TicketDetailSerializer(ticket).data)


class AttachmentDownloadApi(APIView):
    """The file of an attachment, to the ticket's owner only (staff download in admin)."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, attachment_id: int):
        row = selectors.attachment_of(user=request.user, attachment_id=attachment_id)
        if row is None:
            raise Http404
        response = FileResponse(
            row.file.open("rb"), content_type=row.content_type, as_attachment=True, filename=row.name
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class BotTroubleshootApi(APIView):
    """'Why isn't my bot trading?': the causes found in the bot's data, most blocking first."""

    @extend_schema(responses=serializers.ListSerializer(child=serializers.DictField()))
    def get(self, request, bot_id: int):
        bot = _bot(request, bot_id)
        return Response({"bot": bot.pk, "findings": bot_troubleshoot(bot=bot, language=_language(request))})


class ArticleListApi(APIView):
    """Public: knowledge-base search (?q=...) in the user's language (?lang= overrides)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ArticleListSerializer(many=True))
    def get(self, request):
        language = request.query_params.get("lang") or _language(request)
        if language not in ("ru", "en"):
            raise DomainError("Unknown language.", code="invalid")
        rows = selectors.articles_search(query=request.query_params.get("q", ""), language=language)
        return Response(ArticleListSerializer(rows, many=True).data)


class ArticleDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ArticleSerializer)
    def get(self, request, slug: str):
        language = request.query_params.get("lang") or _language(request)
        article = selectors.article_get(slug=slug, language=language)
        if article is None:
            raise Http404
        return Response(ArticleSerializer(article).data)
