"""Notifications: one row per thing a user is told (the in-app feed), one delivery row per
channel it goes out on (the outbox), and the user's preferences per event and channel."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One event told to one user. `dedupe_key` makes notify() idempotent: the same key for the
    same user is stored (and delivered) once, however often the caller retries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=40, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200)
    language = models.CharField(max_length=2, default="ru")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True, default="")
    url = models.CharField(max_length=300, blank=True, default="", help_text="App path, e.g. /bots/12")
    in_app = models.BooleanField(default=True, help_text="Shown in the app's notification list")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once_per_key")]
        indexes = [models.Index(fields=["user", "in_app", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.event} to {self.user_id}: {self.title}"


class Delivery(models.Model):
    """The outbox: one notification on one outside channel (email, telegram, ...). Sent by a
    worker after commit; a retryable failure is tried again later with backoff, a final one is
    recorded. `(notification, channel)` is unique, so nothing is sent twice on one channel."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (channel not set up)"

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=20)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    external_id = models.CharField(max_length=120, blank=True, default="")
    last_error = models.CharField(max_length=500, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once_per_channel")]

    def __str__(self) -> str:
        return f"{self.channel} #{self.notification_id}: {self.status}"


class Preference(models.Model):
    """Whether `event` goes out on `channel` for this user. No row = the event's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=40)
    channel = models.CharField(max_length=20)
    enabled = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "event", "channel"], name="preference_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event}/{self.channel}: {'on' if self.enabled else 'off'}"


class QuietHours(models.Model):
    """Outside channels (not in-app) wait until the quiet hours end, in the user's time zone.
    Urgent events (a bot error, a stop by errors, a key that stopped working) are not held."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiet_hours")
    enabled = models.BooleanField(default=False)
    start = models.TimeField(default="23:00")
    end = models.TimeField(default="08:00")
    timezone = models.CharField(max_length=64, default="Europe/Moscow")

    class Meta:
        verbose_name_plural = "quiet hours"

    def __str__(self) -> str:
        return f"quiet {self.start}-{self.end} {self.timezone} ({'on' if self.enabled else 'off'})"
