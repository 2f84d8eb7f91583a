"""The help desk: tickets with threads, queues, SLA due times, attachments, canned replies,
and the knowledge base the troubleshooter links to."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        WAITING = "waiting", "Waiting for the user"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class Queue(models.TextChoices):
        BILLING = "billing", "Billing"
        EXCHANGE = "exchange", "Exchange connection"
        BOTS = "bots", "Bots"
        PARTNERS = "partners", "Partners"

    # Empty only for a ticket an anonymous VK contact opened by writing to our community.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tickets", null=True, blank=True
    )
    vk_contact = models.ForeignKey(
        "support.VkContact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        help_text="Opened by a message to the VK community: staff replies go back there",
    )
    subject = models.CharField(max_length=200)
    queue = models.CharField(max_length=10, choices=Queue.choices, default=Queue.BOTS, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_tickets"
    )
    bot = models.ForeignKey("bots.Bot", on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    diagnostics = models.JSONField(default=dict, blank=True, help_text="Snapshot taken when opened (secrets redacted)")
    plan_code = models.CharField(max_length=20, blank=True, default="", help_text="The user's plan when opened (SLA)")
    language = models.CharField(max_length=2, default="ru")
    first_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.CharField(max_length=1000, blank=True, default="")
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="ticket_rating_1_5",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketMessage(models.Model):
    class Via(models.TextChoices):
        APP = "app", "App"
        ADMIN = "admin", "Admin"
        TELEGRAM = "telegram", "Telegram"
        EMAIL = "email", "Email"
        VK = "vk", "VK"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    from_staff = models.BooleanField(default=False)
    internal = models.BooleanField(default=False, help_text="Internal note: never shown to the user")
    body = models.TextField()
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.APP)
    # VK's id of this message in the community's conversation (incoming, or our reply once sent).
    vk_message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {'note' if self.internal else 'message'} {self.pk}"


class VkContact(models.Model):
    """Someone who wrote to our VK community. Linked to an account by an operator (or left
    anonymous): a linked contact's tickets are the user's own and show in the app."""

    vk_user_id = models.BigIntegerField(unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="vk_contact"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"vk.com/id{self.vk_user_id}" + (f" ({self.user})" if self.user_id else "")


class Attachment(models.Model):
    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="support/%Y/%m/")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class CannedReply(models.Model):
    title = models.CharField(max_length=120)
    queue = models.CharField(max_length=10, choices=Ticket.Queue.choices, blank=True, default="")
    body_ru = models.TextField()
    body_en = models.TextField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


class Article(models.Model):
    """A knowledge-base article in one language; `cause` ties it to a troubleshooter cause."""

    slug = models.SlugField(max_length=80)
    language = models.CharField(max_length=2)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=400, blank=True, default="")
    body = models.TextField()
    cause = models.CharField(max_length=40, blank=True, default="", db_index=True)
    published = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["slug", "language"], name="article_slug_language")]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"
