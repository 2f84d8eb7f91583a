"""Admin for exchanges and exchange accounts. Keys are never decrypted here: lists and forms
show the masked hint only, api_key/api_secret/api_passphrase are excluded everywhere."""

from __future__ import annotations

from django.contrib import admin, messages

from exchanges.models import Exchange, ExchangeAccount


@admin.register(Exchange)
class ExchangeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active"]
    list_filter = ["is_active"]
    list_editable = ["is_active"]
    search_fields = ["name", "code"]


@admin.register(ExchangeAccount)
class ExchangeAccountAdmin(admin.ModelAdmin):
    list_display = ["label", "user", "exchange", "environment", "api_key_hint", "status", "read_only",
                    "key_expires_at", "validated_at", "created_at"]
    list_filter = ["status", "environment", "exchange", "read_only"]
    search_fields = ["label", "user__email", "api_key_hint"]
    list_select_related = ["user", "exchange"]
    exclude = ["api_key", "api_secret", "api_passphrase"]
    readonly_fields = ["user", "exchange", "environment", "api_key_hint", "status", "status_reason", "permissions",
                       "read_only", "ip_whitelist", "key_expires_at", "validated_at", "balances", "created_at",
                       "updated_at"]
    actions = ["recheck_keys"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are bound by their owner through the API, after validation

    @admin.action(description="Re-check keys with the exchange")
    def recheck_keys(self, request, queryset):
        from exchanges.services import exchange_account_recheck

        done = 0
        for account in queryset:
            exchange_account_recheck(account=account)
            done += 1
        self.message_user(request, f"Re-checked {done} account(s).", messages.SUCCESS)
