"""Personal access tokens for the MCP server, confirmation tokens that bind a money-moving
action to its exact parameters, and the audit log of every tool call that could move money."""

from django.conf import settings
from django.db import models


class PersonalAccessToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", "Read"
        TRADE = "trade", "Read and trade"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters, shown to tell tokens apart")
    token_hash = models.CharField(
        max_length=64, unique=True, help_text="SHA-256 of the token; the token is never stored"
    )
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ConfirmationToken(models.Model):
    """Issued by a preview tool; spent once by the matching action within its lifetime."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    action = models.CharField(max_length=32)
    params_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.action} ({'used' if self.used_at else 'open'})"


class AuditEntry(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", "Done"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mcp_audit")
    token = models.ForeignKey(PersonalAccessToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tool = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)
    bot_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.tool} {self.outcome}"


class RegimeWatch(models.Model):
    """The market regime last seen for a running bot's pair, with hysteresis: the state turns
    "trending" on a trending reading and back to "range" only on a range-bound one (a "mixed"
    reading keeps it), so a borderline market does not flap. Each turn into "trending" is one
    alert (notifications dedupe on turned_at)."""

    class State(models.TextChoices):
        UNKNOWN = "unknown", "Not seen yet"
        RANGE = "range", "Range-bound"
        MIXED = "mixed", "Mixed"
        TRENDING = "trending", "Trending"

    bot = models.OneToOneField("bots.Bot", on_delete=models.CASCADE, related_name="regime_watch")
    state = models.CharField(max_length=8, choices=State.choices, default=State.UNKNOWN)
    label = models.CharField(max_length=8, blank=True, help_text="the detector's last reading")
    direction = models.CharField(max_length=8, blank=True)
    measures = models.JSONField(default=dict, blank=True)
    turned_at = models.DateTimeField(null=True, blank=True, help_text="when the state last changed")
    checked_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"bot {self.bot_id}: {self.state}"
