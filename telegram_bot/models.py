"""A user's Telegram chat and the one-time links that connect it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TelegramLink(models.Model):
    """The private chat a user linked. One chat per user and one user per chat."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="telegram_link")
    chat_id = models.BigIntegerField(unique=True)
    username = models.CharField(max_length=64, blank=True, default="")
    linked_at = models.DateTimeField(auto_now_add=True)
    blocked_at = models.DateTimeField(null=True, blank=True, help_text="The user blocked the bot (Telegram said 403)")

    def __str__(self) -> str:
        return f"{self.user} ↔ {self.chat_id}"


class LinkToken(models.Model):
    """A one-time deep-link token (t.me/<bot>?start=link_<token>); only its hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="telegram_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "used_at"])]

    def __str__(self) -> str:
        return f"link token of {self.user_id} (expires {self.expires_at:%Y-%m-%d %H:%M})"
