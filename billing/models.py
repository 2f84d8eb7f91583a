"""Plans, subscriptions, payments, the provider-event inbox, profit-share accruals and the holds
that keep a bot from opening new cycles. Fields and constraints only; behaviour is in services."""

from __future__ import annotations

import uuid
from typing import TypedDict

from django.conf import settings
from django.db import models
from django.db.models import Q

from exchanges.fields import StrictEncryptedTextField


class _DecimalArgs(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _DecimalArgs = {"max_digits": 20, "decimal_places": 2}
PROFIT: _DecimalArgs = {"max_digits": 38, "decimal_places": 18}


class Plan(models.Model):
    """What a user may do and what it costs. Limits of None mean "no limit"."""

    class Kind(models.TextChoices):
        FREE = "free", "Free"
        TIER = "tier", "Paid tier"
        PROFIT_SHARE = "profit_share", "Pay from profit"

    code = models.SlugField(max_length=32, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name_ru = models.CharField(max_length=64)
    name_en = models.CharField(max_length=64)
    price_rub = models.DecimalField(default=0, **MONEY, help_text="Price of one period in roubles (YooKassa)")
    price_usdt = models.DecimalField(default=0, **MONEY, help_text="Price of one period in USDT (crypto rail)")
    period_days = models.PositiveSmallIntegerField(default=30)
    trial_days = models.PositiveSmallIntegerField(default=0)
    max_live_bots = models.PositiveIntegerField(null=True, blank=True)
    max_live_investment = models.DecimalField(
        null=True, blank=True, **MONEY, help_text="Total investment of live bots (quote currency, USDT)"
    )
    max_exchanges = models.PositiveIntegerField(null=True, blank=True, help_text="Distinct venues with live bots")
    backtests_per_day = models.PositiveIntegerField(null=True, blank=True)
    max_pools = models.PositiveIntegerField(null=True, blank=True)
    api_access = models.BooleanField(default=False, help_text="REST API tokens and the MCP server")
    profit_share_rate = models.DecimalField(default=0, max_digits=5, decimal_places=4, help_text="0.2000 = 20 %")
    profit_share_cap_usdt = models.DecimalField(default=0, **MONEY, help_text="Most charged per calendar month")
    is_public = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price_rub__gte=0) & Q(price_usdt__gte=0), name="plan_price_nonneg"),
            models.CheckConstraint(
                condition=Q(profit_share_rate__gte=0) & Q(profit_share_rate__lte=1), name="plan_share_rate_0_1"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Subscription(models.Model):
    """One per user. The state machine is in billing.services.subscriptions."""

    class Status(models.TextChoices):
        TRIAL = "trial", "Trial"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        GRACE = "grace", "Grace period"
        EXPIRED = "expired", "Expired"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True, db_index=True)
    grace_until = models.DateTimeField(null=True, blank=True)
    comped = models.BooleanField(default=False, help_text="Granted by an operator without payment")
    # Prorated credit left by a downgrade, spent on the next payment in the same currency.
    credit_rub = models.DecimalField(default=0, **MONEY)
    credit_usdt = models.DecimalField(default=0, **MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(credit_rub__gte=0) & Q(credit_usdt__gte=0), name="sub_credit_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.plan_id} ({self.status})"


class SubscriptionEvent(models.Model):
    """The audit trail of every transition (who, why, from what to what)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, blank=True, default="")
    to_status = models.CharField(max_length=10)
    from_plan = models.CharField(max_length=32, blank=True, default="")
    to_plan = models.CharField(max_length=32)
    reason = models.CharField(max_length=40)
    note = models.CharField(max_length=300, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    payment = models.ForeignKey("billing.Payment", on_delete=models.SET_NULL, null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status} ({self.reason})"


class Payment(models.Model):
    """One attempt to pay, written BEFORE the provider is called (its idempotence key makes a
    retry return the same provider payment). Credited at most once (credited_at)."""

    class Provider(models.TextChoices):
        YOOKASSA = "yookassa", "YooKassa (RUB)"
        CRYPTOPAY = "cryptopay", "Crypto Pay (USDT)"

    class Status(models.TextChoices):
        NEW = "new", "Created, not sent"
        PENDING = "pending", "Waiting for the payer"
        SUCCEEDED = "succeeded", "Paid"
        CANCELED = "canceled", "Canceled"
        REFUNDED = "refunded", "Refunded"
        MISMATCH = "mismatch", "Amount or currency mismatch (held for an operator)"
        FAILED = "failed", "Could not be created"

    class Purpose(models.TextChoices):
        SUBSCRIPTION = "subscription", "Plan period"
        UPGRADE = "upgrade", "Prorated upgrade"
        PROFIT_SHARE = "profit_share", "Pay-from-profit fee of a month"
        POOL_FEE = "pool_fee", "Investment pool fee (to a pool's manager)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    method = models.CharField(max_length=16, blank=True, default="", help_text="bank_card, sbp, usdt")
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.SUBSCRIPTION)
    idempotence_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider_payment_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - NULL until sent
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=8)
    credit_applied = models.DecimalField(default=0, **MONEY, help_text="Downgrade credit spent on this payment")
    period_days = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    seller = models.CharField(max_length=200)
    receipt = models.JSONField(default=dict, blank=True, help_text="54-FZ receipt data sent with the payment")
    confirmation_url = models.URLField(max_length=500, blank=True, default="")
    paid_method_title = models.CharField(max_length=120, blank=True, default="")
    # Keyed HMAC-SHA256 (SETKA_INSTRUMENT_FINGERPRINT_KEY) of what identifies the paying card or
    # wallet: equal for the same instrument, never reversible. "" when the rail tells nothing.
    instrument_fingerprint = models.CharField(max_length=64, blank=True, default="", db_index=True)
    refunded_amount = models.DecimalField(default=0, **MONEY)
    credited_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True, default="")
    # What another app charges for (e.g. "pool_fee:17"): at most one live (not canceled or
    # failed) payment per key, so a charge is invoiced exactly once however often a job runs.
    charge_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - NULL: not a charge
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_key"],
                condition=Q(charge_key__isnull=False) & ~Q(status__in=["canceled", "failed"]),
                name="payment_one_live_charge",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"],
                condition=Q(provider_payment_id__isnull=False),
                name="payment_unique_provider_id",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount} {self.currency} ({self.status})"


class ProviderEvent(models.Model):
    """The webhook inbox: each provider event is stored once and processed at most once."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Not processed yet"
        APPLIED = "applied", "Changed a payment"
        NOOP = "noop", "Nothing to change"
        MISMATCH = "mismatch", "Amount or currency mismatch"
        UNKNOWN = "unknown", "Unknown payment"

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=64)
    provider_payment_id = models.CharField(max_length=64, blank=True, default="")
    payload = models.JSONField()
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    deliveries = models.PositiveIntegerField(default=1, help_text="How many times the provider sent it")
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_unique"),
        ]
        indexes = [models.Index(fields=["processed_at"])]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class RejectedCallback(models.Model):
    """A callback refused before it reached the inbox (bad signature, foreign address, garbage)."""

    provider = models.CharField(max_length=16)
    reason = models.CharField(max_length=40)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    body_excerpt = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider} rejected: {self.reason}"


class ProfitShareMonth(models.Model):
    """A user's "pay from profit" fee for one calendar month, accrued from realized grid profit."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profit_share_months")
    month = models.DateField(help_text="First day of the month (UTC)")
    profit = models.DecimalField(default=0, **PROFIT, help_text="Realized grid profit of live bots this month")
    rate = models.DecimalField(max_digits=5, decimal_places=4)
    cap = models.DecimalField(**MONEY)
    fee = models.DecimalField(default=0, **MONEY, help_text="min(cap, rate x profit), rounded down to the cent")
    # Once the month is over its fee is invoiced (Payment, USDT) and marked paid when credited.
    payment = models.ForeignKey("billing.Payment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="profit_share_month_unique")]

    def __str__(self) -> str:
        return f"{self.user} {self.month:%Y-%m}: {self.fee}"


class ProfitWatermark(models.Model):
    """How much of a bot's cumulative grid profit has already been accrued (so each cent of profit
    is counted once, whichever month it falls in)."""

    bot = models.OneToOneField("bots.Bot", on_delete=models.CASCADE, related_name="+")
    accrued_profit = models.DecimalField(default=0, **PROFIT)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"bot #{self.bot_id}: {self.accrued_profit} accrued"


class CycleHold(models.Model):
    """While a hold exists the bot opens no NEW grid cycles: it keeps its open orders (the
    protective, position-closing ones included) and closes what it holds. Placed when a paid
    plan lapses for bots beyond the free plan; lifted when a plan covers them again."""

    bot = models.OneToOneField("bots.Bot", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=40, default="plan_expired")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"hold on bot #{self.bot_id} ({self.reason})"


class Refund(models.Model):
    """One refund an operator asked for (all or part of a payment), written BEFORE the provider is
    called: its own idempotence key makes a retried or resubmitted refund return the same
    provider refund, never a second one. What the refund takes back is applied from the
    provider's confirmed refunded total (billing.services.payments.payment_apply), once."""

    class Status(models.TextChoices):
        NEW = "new", "Created, not sent"
        SUCCEEDED = "succeeded", "Refunded"
        RECORDED = "recorded", "Recorded (refunded outside the provider)"
        FAILED = "failed", "Provider refused"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**MONEY)
    idempotence_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider_refund_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    note = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"refund {self.amount} of payment #{self.payment_id} ({self.status})"


class ProviderPayout(models.Model):
    """Money we send out by a rail (a partner's reward, a pool manager's fees), written with its
    idempotency key BEFORE the provider is called: a retry, a crash or a lost answer re-sends the
    same key and gets the same payout, never a second one. `owner_key` names what it pays
    ("referral_payout:17"); its owner is told when it settles (SETKA_PAYOUT_LISTENERS)."""

    class Status(models.TextChoices):
        NEW = "new", "Written, not answered yet"
        PENDING = "pending", "Sent, waiting for the provider"
        SUCCEEDED = "succeeded", "Paid out"
        CANCELED = "canceled", "Canceled by the provider (money back)"

    rail = models.CharField(max_length=16)
    owner_key = models.CharField(max_length=64, unique=True)
    idempotence_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider_payout_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - NULL until answered
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=8)
    destination = StrictEncryptedTextField(help_text="Encrypted at rest; shown only masked")
    destination_masked = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    cancellation_reason = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    settled_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="provider_payout_positive"),
            models.UniqueConstraint(
                fields=["rail", "provider_payout_id"],
                condition=Q(provider_payout_id__isnull=False),
                name="provider_payout_unique_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rail} payout {self.amount} {self.currency} to {self.destination_masked} ({self.status})"
