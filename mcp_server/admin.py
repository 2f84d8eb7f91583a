from django.contrib import admin

from mcp_server.models import AuditEntry, PersonalAccessToken, RegimeWatch


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "name", "prefix", "scope", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("scope",)
    search_fields = ("user__email", "name", "prefix")
    readonly_fields = ("token_hash", "prefix", "last_used_at", "created_at")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "tool", "outcome", "code", "bot_id")
    list_filter = ("outcome", "tool")
    search_fields = ("user__email", "tool", "code")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RegimeWatch)
class RegimeWatchAdmin(admin.ModelAdmin):
    list_display = ("bot", "state", "label", "direction", "turned_at", "checked_at", "alerted_at")
    list_filter = ("state",)
    search_fields = ("bot__name", "bot__symbol", "bot__user__email")
    readonly_fields = [f.name for f in RegimeWatch._meta.fields]

    def has_add_permission(self, request):
        return False
