"""Operators: partner tiers (rates, minimums), partners (approval for custom codes), the review
of flagged attributions (approve: rewards are released; reject: every reward reversed), payout
requests (mark sent / reject), and the ledger, read-only."""

from __future__ import annotations

from django.contrib import admin, messages

from billing.selectors import payout_status_text
from config.errors import DomainError
from referrals import services
from referrals.models import (
    Attribution,
    LedgerEntry,
    LedgerPosting,
    Partner,
    PartnerTier,
    Payout,
    ReferralCode,
    Reward,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PartnerTier)
class PartnerTierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level1_rate", "level2_rate", "referee_discount_rate", "is_default"]


class CodeInline(admin.TabularInline):
    model = ReferralCode
    extra = 0
    fields = ["code", "custom", "active"]
    readonly_fields = ["code", "custom"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["user", "tier", "approved", "created_at"]
    list_filter = ["tier", "approved"]
    search_fields = ["user__email", "codes__code"]
    fields = ["user", "tier", "approved"]
    readonly_fields = ["user"]
    inlines = [CodeInline]

    def has_add_permission(self, request):
        return False


@admin.register(Attribution)
class AttributionAdmin(admin.ModelAdmin):
    list_display = ["user", "referrer", "code", "source", "status", "flags", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["user__email", "referrer__email", "code__code"]
    readonly_fields = [f.name for f in Attribution._meta.fields]
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Approve: release the held rewards")
    def approve(self, request, queryset):
        for attribution in queryset:
            services.attribution_review(attribution=attribution, approve=True, actor=request.user)
        self.message_user(request, f"{queryset.count()} approved.")

    @admin.action(description="Reject: no rewards, reverse what was accrued")
    def reject(self, request, queryset):
        for attribution in queryset:
            services.attribution_review(attribution=attribution, approve=False, actor=request.user)
        self.message_user(request, f"{queryset.count()} rejected.", messages.WARNING)


@admin.register(Reward)
class RewardAdmin(ReadOnly):
    list_display = ["payment", "partner", "level", "rate", "base", "amount", "currency", "status", "matures_at"]
    list_filter = ["status", "level", "currency"]
    search_fields = ["partner__user__email"]


class PostingInline(admin.TabularInline):
    model = LedgerPosting
    extra = 0
    readonly_fields = ["account", "amount"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnly):
    list_display = ["key", "kind", "memo", "created_at"]
    list_filter = ["kind"]
    search_fields = ["key"]
    inlines = [PostingInline]


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    list_display = [
        "partner",
        "kind",
        "rail",
        "destination",
        "amount",
        "currency",
        "status",
        "provider_status",
        "created_at",
    ]
    list_filter = ["status", "kind", "rail"]
    readonly_fields = [f.name for f in Payout._meta.fields if f.name != "destination_sealed"] + ["provider_status"]
    exclude = ["destination_sealed"]
    actions = ["approve", "reject"]

    @admin.display(description="Provider")
    def provider_status(self, obj: Payout) -> str:
        """What the rail says (billing's payout row: status, provider id, why it was canceled)."""
        if obj.provider_payout_id is None:
            return "-"
        return payout_status_text(payout_id=obj.provider_payout_id)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _decide(self, request, queryset, approve: bool):
        done = 0
        for payout in queryset:
            try:
                services.payout_decide(payout=payout, approve=approve, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{payout}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{done} decided.")

    @admin.action(description="Approve: send by the rail (paid when the provider confirms)")
    def approve(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description="Reject: return the amount to the partner's balance")
    def reject(self, request, queryset):
        self._decide(request, queryset, False)
