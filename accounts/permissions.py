"""Permission classes other apps use to gate trading features."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class HasTradingAccess(BasePermission):
    """Stage-1 gate: binding exchange keys and running bots need an operator's grant."""

    message = _(
        "An operator has not granted you access yet: your account has no trading access. Enter the access "
        "code you were given (Profile → Access) or ask an operator to activate your account."
    )
    code = "no_access"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_trading_access)
