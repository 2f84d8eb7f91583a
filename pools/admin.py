"""Operators approve, suspend and close pools; members and fees are read-only records."""

from __future__ import annotations

from django.contrib import admin, messages

from billing.selectors import payout_status_text
from config.errors import DomainError
from pools.models import ManagerPayout, Pool, PoolFee, PoolManager, PoolMember, PoolNav
from pools.payouts import manager_payout_decide
from pools.services import manager_approve, manager_reject, manager_revoke, pool_approve, pool_close, pool_suspend


class PoolMemberInline(admin.TabularInline):
    model = PoolMember
    extra = 0
    can_delete = False
    fields = ("investor", "status", "amount", "units", "hwm", "equity", "bot", "joined_at", "left_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _act(modeladmin, request, queryset, service, done: str) -> None:
    count = 0
    for pool in queryset:
        try:
            service(pool=pool, note=f"by {request.user}")
            count += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{pool}: {exc.message}", level=messages.WARNING)
    modeladmin.message_user(request, f"{count} pool(s) {done}.")


@admin.action(description="Approve (investors may join)")
def approve(modeladmin, request, queryset):
    _act(modeladmin, request, queryset, pool_approve, "approved")


@admin.action(description="Suspend (no joining; followers stop)")
def suspend(modeladmin, request, queryset):
    _act(modeladmin, request, queryset, pool_suspend, "suspended")


@admin.action(description="Close (followers stop; members leave)")
def close(modeladmin, request, queryset):
    _act(modeladmin, request, queryset, pool_close, "closed")


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "manager",
        "status",
        "is_paper",
        "risk_level",
        "performance_fee_percent",
        "nav",
        "units",
        "created_at",
    )
    list_filter = ("status", "is_paper", "risk_level")
    search_fields = ("name", "manager__email")
    actions = [approve, suspend, close]
    readonly_fields = ("manager", "bot", "status", "is_paper", "nav", "units", "equity", "valued_at", "approved_at", "closed_at")
    inlines = [PoolMemberInline]


@admin.register(PoolFee)
class PoolFeeAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "pool",
        "kind",
        "amount",
        "investor",
        "manager",
        "nav",
        "hwm_before",
        "created_at",
        "payment",
        "paid_at",
    )
    list_filter = ("kind",)
    readonly_fields = [f.name for f in PoolFee._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PoolNav)
class PoolNavAdmin(admin.ModelAdmin):
    list_display = ("pool", "taken_at", "nav", "equity", "units")
    readonly_fields = ("pool", "taken_at", "nav", "equity", "units")


def _decide(modeladmin, request, queryset, service, done: str) -> None:
    """Run `service` on each application; the operator and the time are kept on the row and in
    the admin log (LogEntry), with how many pools a revocation suspended. The operator's name
    is never put in the note the applicant reads."""
    count = 0
    for application in queryset.select_related("user"):
        try:
            # the note the operator typed on the application is the one the applicant reads
            result = service(application=application, by=request.user, note=application.decision_note)
        except DomainError as exc:
            modeladmin.message_user(request, f"{application}: {exc.message}", level=messages.WARNING)
            continue
        count += 1
        message = f"Pool manager {done}"
        if isinstance(result, tuple):
            message += f"; {result[1]} pool(s) suspended"
        modeladmin.log_change(request, application, message)
    modeladmin.message_user(request, f"{count} application(s) {done}.")


@admin.action(description="Approve (may publish pools)")
def manager_approve_action(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, manager_approve, "approved")


@admin.action(description="Reject the application")
def manager_reject_action(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, manager_reject, "rejected")


@admin.action(description="Revoke (suspends their open pools; followers stop and are told)")
def manager_revoke_action(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, manager_revoke, "revoked")


@admin.register(PoolManager)
class PoolManagerAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "status", "applied_at", "decided_at", "decided_by")
    list_filter = ("status",)
    search_fields = ("user__email",)
    actions = [manager_approve_action, manager_reject_action, manager_revoke_action]
    readonly_fields = ("user", "experience", "status", "applied_at", "decided_at", "decided_by")
    fields = (*readonly_fields, "decision_note")
@admin.register(ManagerPayout)
class ManagerPayoutAdmin(admin.ModelAdmin):
    """Managers' payout requests: approve sends by the rail (paid when the provider confirms);
    reject makes the amount available again. The destination is shown masked only."""

    list_display = (
        "id",
        "manager",
        "kind",
        "rail",
        "destination",
        "amount",
        "currency",
        "status",
        "provider_status",
        "created_at",
    )
    list_filter = ("status", "kind", "rail")
    exclude = ("destination_sealed",)
    readonly_fields = [f.name for f in ManagerPayout._meta.fields if f.name != "destination_sealed"] + [
        "provider_status"
    ]
    actions = ["approve_payouts", "reject_payouts"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Provider")
    def provider_status(self, obj: ManagerPayout) -> str:
        return "-" if obj.provider_payout_id is None else payout_status_text(payout_id=obj.provider_payout_id)

    def _decide(self, request, queryset, approve: bool) -> None:
        done = 0
        for payout in queryset:
            try:
                manager_payout_decide(payout=payout, approve=approve, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{payout}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{done} decided.")

    @admin.action(description="Approve: send by the rail")
    def approve_payouts(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description="Reject: the amount is available again")
    def reject_payouts(self, request, queryset):
        self._decide(request, queryset, False)
