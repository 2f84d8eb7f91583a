"""Investment pools without custody: a manager's live bot is the strategy; each investor's
follower bot trades the investor's own money on the investor's own exchange account. Only the
accounting is pooled: units and a time-weighted NAV per pool, a high-water mark per investor,
and the fees the manager earns (pools/accounting.py holds the arithmetic)."""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings
from django.db import models


class _DecimalArgs(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _DecimalArgs = {"max_digits": 38, "decimal_places": 18}


class PoolManager(models.Model):
    """A user's standing as a pool manager: they apply, an operator approves, rejects or later
    revokes it in admin (who and when is kept). Only an approved manager publishes pools."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REVOKED = "revoked", "Revoked"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pool_manager")
    experience = models.TextField(max_length=2000, help_text="The applicant's own words about their trading")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    applied_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.CharField(max_length=300, blank=True, default="", help_text="Shown to the applicant")

    class Meta:
        ordering = ["-applied_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} as a pool manager ({self.status})"


class Pool(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    class Risk(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="managed_pools")
    bot = models.ForeignKey("bots.Bot", on_delete=models.PROTECT, related_name="pools", help_text="The manager's bot")
    name = models.CharField(max_length=80)
    description = models.TextField(max_length=2000)
    risk_level = models.CharField(max_length=8, choices=Risk.choices)
    min_investment = models.DecimalField(**MONEY)
    max_investment = models.DecimalField(**MONEY)
    performance_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, help_text="Above the high-water mark")
    management_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0, help_text="Per month")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    status_note = models.CharField(max_length=300, blank=True, default="")
    is_paper = models.BooleanField(
        default=False, help_text="Set at publication: the manager's bot trades no real money (paper, demo, testnet)"
    )
    # Time-weighted accounting (chain-linked): NAV per unit and the pool's equity right after the
    # last valuation and its flows. A flow (join, add, reduce, leave) is priced at the NAV of the
    # valuation just before it, so joining later changes nobody's figures.
    nav = models.DecimalField(default=1, **MONEY)
    units = models.DecimalField(default=0, **MONEY)
    equity = models.DecimalField(default=0, **MONEY)
    valued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(min_investment__gt=0), name="pool_min_positive"),
            models.CheckConstraint(
                condition=models.Q(max_investment__gte=models.F("min_investment")), name="pool_max_not_below_min"
            ),
            models.CheckConstraint(
                condition=models.Q(performance_fee_percent__gte=0, performance_fee_percent__lte=50),
                name="pool_performance_fee_range",
            ),
            models.CheckConstraint(
                condition=models.Q(management_fee_percent__gte=0, management_fee_percent__lte=5),
                name="pool_management_fee_range",
            ),
            models.UniqueConstraint(
                fields=["bot"], condition=~models.Q(status="closed"), name="pool_one_open_pool_per_bot"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name} ({self.status})"


class PoolMember(models.Model):
    """One investor's place in one pool: their follower bot, units and high-water mark."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Following"
        BELOW_MINIMUM = "below_minimum", "Below the venue's minimums"
        LEFT = "left", "Left"

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="members")
    investor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pool_memberships")
    exchange_account = models.ForeignKey("exchanges.ExchangeAccount", on_delete=models.PROTECT, related_name="+")
    bot = models.ForeignKey(
        "bots.Bot", null=True, blank=True, on_delete=models.SET_NULL, related_name="pool_memberships"
    )
    amount = models.DecimalField(**MONEY, help_text="The followed amount (the follower bot's investment)")
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    status_note = models.CharField(max_length=300, blank=True, default="")
    units = models.DecimalField(default=0, **MONEY)
    hwm = models.DecimalField(default=1, **MONEY, help_text="High-water mark: NAV per unit fees were last taken at")
    # Equity counted in the pool at the last valuation (followed amount + the follower's PnL).
    equity = models.DecimalField(default=0, **MONEY)
    # The follower's PnL when this member's money last moved in or out (a base, not income).
    pnl_base = models.DecimalField(default=0, **MONEY)
    followed_generation = models.PositiveIntegerField(default=0, help_text="Manager run the follower copies")
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-joined_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "investor"], condition=~models.Q(status="left"), name="pool_member_once"
            ),
            models.CheckConstraint(condition=models.Q(units__gte=0), name="pool_member_units_not_negative"),
        ]
        indexes = [models.Index(fields=["bot"])]

    def __str__(self) -> str:
        return f"{self.investor} in pool #{self.pool_id} ({self.status})"


class PoolFee(models.Model):
    """A fee accrued to the manager's ledger. Performance fees are keyed by the high-water mark
    they lift the member to (a mark only ever rises, so one gain is never charged twice);
    management fees by the month."""

    class Kind(models.TextChoices):
        PERFORMANCE = "performance", "Performance fee"
        MANAGEMENT = "management", "Management fee"

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="fees")
    member = models.ForeignKey(PoolMember, on_delete=models.PROTECT, related_name="fees")
    investor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pool_fees_owed")
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pool_fees_earned")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    key = models.CharField(max_length=64, help_text="The new high-water mark, or the month (YYYY-MM)")
    amount = models.DecimalField(**MONEY)
    nav = models.DecimalField(**MONEY)
    units = models.DecimalField(**MONEY)
    hwm_before = models.DecimalField(**MONEY)
    created_at = models.DateTimeField()
    # Accrued -> invoiced to the investor through billing (the payment of key "pool_fee:<id>")
    # -> paid: only then is it the manager's earned money (paid_at, set by billing's hook).
    payment = models.ForeignKey("billing.Payment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "kind", "key"], name="pool_fee_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="pool_fee_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} pool #{self.pool_id} member #{self.member_id}"


class PoolNav(models.Model):
    """The pool's NAV per unit at each valuation (the chart and the drawdown read these)."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="nav_history")
    taken_at = models.DateTimeField()
    nav = models.DecimalField(**MONEY)
    equity = models.DecimalField(**MONEY)
    units = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [models.Index(fields=["pool", "taken_at"])]

    def __str__(self) -> str:
        return f"pool #{self.pool_id} NAV {self.nav} at {self.taken_at:%Y-%m-%d %H:%M}"


class ManagerPayout(models.Model):
    """A manager's request to be paid what investors have paid in fees: as credit towards the
    manager's own plan (at once), or by a rail after an operator approves it (sent through
    billing's payout port, owner key "pool_payout:<id>", exactly once). What is available is
    paid-in fees less every payout requested, sending or paid (pools.payouts.manager_balance)."""

    class Kind(models.TextChoices):
        PLAN_CREDIT = "plan_credit", "Credit towards my plan"
        TRANSFER = "transfer", "Payout by a payment rail"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Waiting for an operator"
        SENDING = "sending", "Approved: sent by the rail, waiting for the provider"
        PAID = "paid", "Paid"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "The provider canceled it: the amount is back in the balance"

    LIVE = ("requested", "sending", "paid")  # what counts against the balance

    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pool_payouts")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    rail = models.CharField(max_length=16, blank=True, default="")
    destination = models.CharField(max_length=40, blank=True, default="", help_text="Masked: what may be shown")
    destination_sealed = models.TextField(blank=True, default="", help_text="Encrypted (billing.destinations)")
    amount = models.DecimalField(max_digits=20, decimal_places=2, help_text="Whole cents")
    currency = models.CharField(max_length=8, default="USDT")
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    provider_payout_id = models.BigIntegerField(null=True, blank=True, help_text="billing's ProviderPayout")
    note = models.CharField(max_length=300, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="pool_payout_positive")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} to {self.manager} ({self.status})"
