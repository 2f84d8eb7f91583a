from __future__ import annotations

from rest_framework import serializers

from support.models import Article, Attachment, Ticket, TicketMessage


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "url"]

    def get_url(self, obj) -> str:
        return f"/api/support/attachments/{obj.pk}/"


class MessageSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "body", "from_staff", "via", "created_at", "attachments"]


class TicketSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = [
            "id", "subject", "queue", "status", "bot", "created_at", "last_message_at",
            "first_response_due", "resolution_due", "rating", "rating_comment",
        ]  # fmt: skip


class TicketDetailSerializer(TicketSerializer):
    messages = serializers.SerializerMethodField()
    has_diagnostics = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages", "has_diagnostics"]

    def get_messages(self, obj) -> list:
        from support.selectors import ticket_thread

        # many=True answers a ReturnList; the stub types .data as ReturnDict.
        return MessageSerializer(ticket_thread(ticket=obj), many=True).data  # type: ignore[return-value]

    def get_has_diagnostics(self, obj) -> bool:
        return bool(obj.diagnostics)


class ArticleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = ["slug", "language", "title", "summary", "body", "cause", "updated_at"]


class ArticleListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = ["slug", "language", "title", "summary", "cause"]
