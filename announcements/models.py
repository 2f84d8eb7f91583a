"""Official announcements: written once in admin (ru/en), checked against the editorial
checklist, scheduled, and published to each outlet exactly once."""

from __future__ import annotations

from django.conf import settings
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
