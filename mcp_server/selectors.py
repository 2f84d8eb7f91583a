from django.db.models import QuerySet

from mcp_server.models import AuditEntry, PersonalAccessToken


def access_token_list(*, user) -> QuerySet[PersonalAccessToken]:
    return PersonalAccessToken.objects.filter(user=user).order_by("-created_at", "-id")


def audit_list(*, user) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(user=user).order_by("-created_at", "-id")
