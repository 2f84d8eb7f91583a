"""Exchanges and the users' exchange accounts (the specification's "Profiles")."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from exchanges.fields import SealedSecretsMixin, StrictEncryptedTextField


class Exchange(models.Model):
    class Code(models.TextChoices):
        BYBIT = "bybit", "Bybit"
        BINANCE = "binance", "Binance"
        MEXC = "mexc", "MEXC"
        KUCOIN = "kucoin", "KuCoin"
        OKX = "okx", "OKX"

    code = models.CharField(max_length=16, choices=Code.choices, unique=True)
    name = models.CharField(max_length=64)
    is_active = models.BooleanField(default=False, help_text="Users can bind keys only for active exchanges.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ExchangeAccount(SealedSecretsMixin, models.Model):
    """API keys of one user on one exchange. Secrets are encrypted at rest; only the masked key
    hint is ever shown (admin and API never decrypt)."""

    class Environment(models.TextChoices):
        MAINNET = "mainnet", "Mainnet"
        TESTNET = "testnet", "Testnet"
        DEMO = "demo", "Demo trading"
        PAPER = "paper", "Paper (Setka simulator)"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INVALID = "invalid", "Invalid keys"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked on the exchange"
        UNDECRYPTABLE = "undecryptable", "Cannot be decrypted"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exchange_accounts")
    exchange = models.ForeignKey(Exchange, on_delete=models.PROTECT, related_name="accounts")
    label = models.CharField(max_length=64)
    environment = models.CharField(max_length=8, choices=Environment.choices, default=Environment.MAINNET)
    api_key = StrictEncryptedTextField()
    api_secret = StrictEncryptedTextField()
    api_passphrase = StrictEncryptedTextField(blank=True, null=True, default="", help_text="OKX and KuCoin keys carry one")
    api_key_hint = models.CharField(max_length=16, help_text="Masked key, e.g. abcd…wxyz")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    status_reason = models.CharField(max_length=300, blank=True, default="")
    permissions = models.JSONField(default=dict, blank=True, help_text="Snapshot of the key's permissions")
    read_only = models.BooleanField(default=False)
    ip_whitelist = models.JSONField(default=list, blank=True)
    key_expires_at = models.DateTimeField(null=True, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    balances = models.JSONField(default=dict, blank=True, help_text="Last balance read: {coin: amount}")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "label"], name="exchange_account_label_unique_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.exchange_id}, {self.environment})"
