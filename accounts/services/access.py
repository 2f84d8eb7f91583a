"""The one way trading access ends.

Every path that takes access away — an operator revoking a grant (Access grants -> Revoke), an
operator revoking a user's access or deactivating the user, and (later) a plan that expires —
calls `user_access_end`. Without access nobody trades: it stops every active bot of the user
through the bots' own stop path (told through accounts.signals.access_ended) (marked stopping now; the stop tick, queued after commit,
cancels the orders on the exchange) and closes the user's open WebSockets. Callers record
their own reason (the grant, the user's fields) before calling it, in the same transaction."""

from __future__ import annotations

from django.db import transaction

from accounts.live import CLOSE_ACCESS_REVOKED, CLOSE_SESSION_ENDED, user_sockets_close
from accounts.models import User
from accounts.signals import access_ended
from accounts.tokens import user_tokens_revoke_all


class AccessEndReason:
    """Why access ended (the bots' stop reason shows it; `code` for the user's language)."""

    GRANT_REVOKED = "access_grant_revoked"
    ACCESS_REVOKED = "access_revoked"
    DEACTIVATED = "account_deactivated"
    PLAN_EXPIRED = "plan_expired"


_STOP_REASONS = {
    AccessEndReason.GRANT_REVOKED: "Access revoked by an operator (access grant revoked)",
    AccessEndReason.ACCESS_REVOKED: "Access revoked by an operator",
    AccessEndReason.DEACTIVATED: "Account deactivated by an operator",
    AccessEndReason.PLAN_EXPIRED: "The plan expired",
}


def user_access_end(*, user: User, reason: str, end_sessions: bool = False) -> int:
    """Access of `user` has ended: stop their bots (orders cancelled by the stop tick) and close
    their live sockets; with end_sessions every session ends too (deactivation). Returns how
    many bots were asked to stop. Idempotent: bots already stopping are left alone."""
    stop_reason = _STOP_REASONS.get(reason, reason)  # shown to the user: no operator names
    with transaction.atomic():
        # bots stop every active bot of the user (bots.receivers; accounts does not import bots)
        replies = access_ended.send(sender=User, user=user, reason=stop_reason)
        stopped = 0
        for _, count in replies:
            stopped += count if isinstance(count, int) else 0
        if end_sessions:
            user_tokens_revoke_all(user=user)  # closes the sockets with 4401 after commit
        else:
            user_sockets_close(user_id=user.pk, code=CLOSE_ACCESS_REVOKED, reason=reason)
    return stopped


def user_deactivate(*, user: User, operator=None) -> int:
    """Deactivate the account: it cannot log in, every session ends, its bots stop. Safe to
    call when the row was already saved inactive (the admin form saves first)."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        return user_access_end(user=user, reason=AccessEndReason.DEACTIVATED, end_sessions=True)


__all__ = ["CLOSE_ACCESS_REVOKED", "CLOSE_SESSION_ENDED", "AccessEndReason", "user_access_end", "user_deactivate"]
