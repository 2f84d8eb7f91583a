"""Partners, codes, clicks, attributions (who referred whom, for life), rewards and the
double-entry ledger they are paid through, and payout requests. Fields and constraints only;
behaviour is in referrals.services.

The ledger: every money movement is one LedgerEntry whose LedgerPostings sum to zero (signed
amounts; a positive amount raises what the account holds). Partner accounts: accrued (inside
the refund window), available (may go negative after a late refund: netted against future
rewards), pending (a payout requested, not yet approved), paid; platform accounts: expense
(rewards granted, negative) and reversed (rewards taken back). Entries are never changed or
deleted (a database trigger refuses it); each has a unique key naming its source event, so a
retried event posts nothing twice."""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings
from django.db import models
from django.db.models import Q


class _DecimalArgs(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _DecimalArgs = {"max_digits": 20, "decimal_places": 2}


class PartnerTier(models.Model):
    """Reward rates set by an operator in admin. At most two levels (deeper looks like a pyramid)."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    level1_rate = models.DecimalField(max_digits=5, decimal_places=4, help_text="0.2000 = 20 % of each payment")
    level2_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=0, help_text="Of payments by the referrals' referrals; 0 = off"
    )
    referee_discount_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=0, help_text="Discount on the referred user's first payment"
    )
    min_payout_rub = models.DecimalField(default=1000, **MONEY)
    min_payout_usdt = models.DecimalField(default=10, **MONEY)
    is_default = models.BooleanField(default=False, help_text="Tier of every user who did not apply")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level1_rate__gte=0) & Q(level1_rate__lte="0.5"), name="tier_level1_0_50"
            ),
            models.CheckConstraint(
                condition=Q(level2_rate__gte=0) & Q(level2_rate__lte="0.2"), name="tier_level2_0_20"
            ),
            models.CheckConstraint(
                condition=Q(referee_discount_rate__gte=0) & Q(referee_discount_rate__lte="0.5"),
                name="tier_discount_0_50",
            ),
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="tier_one_default"),
        ]

    def __str__(self) -> str:
        return self.code


class Partner(models.Model):
    """A user's partner profile (created with their first code). Custom codes need approval."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner")
    tier = models.ForeignKey(PartnerTier, on_delete=models.PROTECT, related_name="partners")
    approved = models.BooleanField(default=False, help_text="An approved partner may have custom codes")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"partner {self.user}"


class ReferralCode(models.Model):
    code = models.CharField(max_length=32, unique=True)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="codes")
    custom = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["partner"], condition=Q(custom=False), name="refcode_one_default"),
        ]

    def __str__(self) -> str:
        return self.code


class Click(models.Model):
    """A visit by a referral link (counted once per device and code per day)."""

    code = models.ForeignKey(ReferralCode, on_delete=models.CASCADE, related_name="clicks")
    device = models.CharField(max_length=64, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "device", "day"], name="click_once_per_day")]

    def __str__(self) -> str:
        return f"click on {self.code_id} {self.day}"


class PartnerDevice(models.Model):
    """A browser the partner used (device cookie): a sign-up from it is flagged."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="devices")
    device = models.CharField(max_length=64, db_index=True)
    seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "device"], name="partner_device_unique")]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.device[:8]}"


class Attribution(models.Model):
    """Who referred this user: set once, for life; never changed (unique per user, and a database
    trigger refuses any change of the referrer)."""

    class Status(models.TextChoices):
        OK = "ok", "Attributed"
        FLAGGED = "flagged", "Flagged: rewards held for review"
        APPROVED = "approved", "Approved by an operator"
        REJECTED = "rejected", "Rejected: no rewards"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referral")
    referrer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referred")
    code = models.ForeignKey(ReferralCode, on_delete=models.PROTECT, related_name="attributions")
    source = models.CharField(max_length=16, help_text="link, telegram")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK, db_index=True)
    flags = models.JSONField(default=list, blank=True, help_text="Why it was flagged")
    ip = models.GenericIPAddressField(null=True, blank=True)
    device = models.CharField(max_length=64, blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(user=models.F("referrer")), name="attribution_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} <- {self.referrer_id}"


class LedgerAccount(models.Model):
    class Kind(models.TextChoices):
        ACCRUED = "accrued", "Accrued (in the refund window)"
        AVAILABLE = "available", "Available"
        PENDING = "pending", "Payout requested"
        PAID = "paid", "Paid out"
        EXPENSE = "expense", "Platform: rewards granted"
        REVERSED = "reversed", "Platform: rewards reversed"

    PARTNER_KINDS = ("accrued", "available", "pending", "paid")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    currency = models.CharField(max_length=8)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "kind", "currency"], name="ledger_account_unique"),
            models.UniqueConstraint(
                fields=["kind", "currency"], condition=Q(partner__isnull=True), name="ledger_platform_account_unique"
            ),
            models.CheckConstraint(
                condition=(Q(partner__isnull=True) & Q(kind__in=["expense", "reversed"]))
                | (Q(partner__isnull=False) & Q(kind__in=["accrued", "available", "pending", "paid"])),
                name="ledger_account_owner_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id or 'platform'}:{self.kind}:{self.currency}"


class LedgerEntry(models.Model):
    key = models.CharField(max_length=80, unique=True, help_text="The source event: posted once")
    kind = models.CharField(max_length=16, help_text="accrue, mature, reverse, payout, ...")
    memo = models.CharField(max_length=200, blank=True, default="")
    reward = models.ForeignKey("referrals.Reward", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return self.key


class LedgerPosting(models.Model):
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_nonzero")]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount}"


class Reward(models.Model):
    """One partner's share of one payment at one level (unique: a payment is paid for once)."""

    class Status(models.TextChoices):
        ACCRUED = "accrued", "Accrued (refund window)"
        AVAILABLE = "available", "Available"
        REVERSED = "reversed", "Reversed (refund or chargeback)"

    payment = models.ForeignKey("billing.Payment", on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="rewards")
    attribution = models.ForeignKey(
        Attribution, on_delete=models.PROTECT, related_name="rewards", help_text="The payer's attribution"
    )
    via = models.ForeignKey(
        Attribution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="second_level_rewards",
        help_text="Level 2: the attribution of the payer's referrer to this partner",
    )
    level = models.PositiveSmallIntegerField()
    rate = models.DecimalField(max_digits=5, decimal_places=4)
    base = models.DecimalField(**MONEY, help_text="What the referred user paid")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=8)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCRUED, db_index=True)
    matures_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "level"], name="reward_once_per_payment_level"),
            models.CheckConstraint(condition=Q(level__in=[1, 2]), name="reward_two_levels_at_most"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="reward_positive"),
        ]

    def __str__(self) -> str:
        return f"L{self.level} {self.amount} {self.currency} for payment {self.payment_id}"


class Payout(models.Model):
    class Kind(models.TextChoices):
        PLAN_CREDIT = "plan_credit", "Credit towards my plan"
        TRANSFER = "transfer", "Payout by a payment rail"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Waiting for an operator"
        SENDING = "sending", "Approved: sent by the rail, waiting for the provider"
        PAID = "paid", "Paid"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "The provider canceled it: the amount is back in the balance"

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="payouts")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    rail = models.CharField(max_length=16, blank=True, default="", help_text="billing rail: yookassa, cryptopay")
    destination = models.CharField(max_length=200, blank=True, default="", help_text="Masked: what may be shown")
    # The full card, wallet or Telegram id the rail pays to, encrypted (billing.destinations.seal).
    destination_sealed = models.TextField(blank=True, default="")
    # billing.ProviderPayout (owner key "referral_payout:<id>"), once approved.
    provider_payout_id = models.BigIntegerField(null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=8)
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    note = models.CharField(max_length=300, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payout_positive")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.status})"
