"""Official announcements: written once in admin (ru/en), checked against the editorial
checklist, scheduled, and published to each outlet exactly once."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class Announcement(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"

    class Kind(models.TextChoices):
        PRODUCT = "product", "Product news"
        EDUCATION = "education", "Education"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PRODUCT)
    title_ru = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    body_ru = models.TextField(max_length=3500)
    body_en = models.TextField(max_length=3500)
    link = models.URLField(blank=True, default="", help_text="Optional: a page of the app or the knowledge base")
    publish_at = models.DateTimeField(null=True, blank=True, help_text="When it goes out (UTC)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # The editorial checklist: every box must be ticked before the post can be scheduled.
    check_product_or_education = models.BooleanField(
        "It is product news or education", default=False, help_text="Not market commentary or signals"
    )
    check_no_income_promises = models.BooleanField(
        "No promises of income", default=False, help_text="No figures of future profit, no 'guaranteed'"
    )
    check_no_buy_calls = models.BooleanField(
        "No calls to buy a coin", default=False, help_text="No coin recommendations, no 'buy now'"
    )
    check_risk_stated = models.BooleanField(
        "Risk is stated where trading is mentioned", default=False, help_text="Grid bots can lose money"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-publish_at", "-id"]

    def __str__(self) -> str:
        return self.title_ru


class Publication(models.Model):
    """One announcement on one outlet. The unique pair makes every outlet receive it once."""

    class Outlet(models.TextChoices):
        TELEGRAM = "telegram", "Telegram channel"
        VK = "vk", "VK community wall"
        NEWS = "news", "In-app news"
        RSS = "rss", "RSS feed (Dzen)"

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        DONE = "done", "Published"
        FAILED = "failed", "Failed (retried)"

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="publications")
    outlet = models.CharField(max_length=10, choices=Outlet.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    external_id = models.CharField(max_length=64, blank=True, default="")
    error = models.CharField(max_length=300, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["announcement", "outlet"], name="one_publication_per_outlet")]

    def __str__(self) -> str:
        return f"{self.announcement_id} → {self.outlet}"


class VkCallbackEvent(models.Model):
    """The inbox of VK's Callback API: each event stored once by its event_id (VK re-sends an
    event it got no "ok" for), then handled once (processed_at)."""

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=40, db_index=True)
    group_id = models.BigIntegerField()
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    deliveries = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class VkComment(models.Model):
    """A comment on one of our VK wall posts (wall_reply_new), kept for moderators."""

    class Status(models.TextChoices):
        NEW = "new", "To review"
        REVIEWED = "reviewed", "Reviewed"
        HIDDEN = "hidden", "Needs removal on VK"

    post_id = models.BigIntegerField()
    comment_id = models.BigIntegerField()
    from_id = models.BigIntegerField(help_text="VK id of the author (negative: a community)")
    text = models.TextField(blank=True, default="")
    written_at = models.DateTimeField()
    announcement = models.ForeignKey(
        Announcement, on_delete=models.SET_NULL, null=True, blank=True, related_name="vk_comments"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-written_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["post_id", "comment_id"], name="vk_comment_once")]

    def __str__(self) -> str:
        return f"comment {self.comment_id} on post {self.post_id}"
