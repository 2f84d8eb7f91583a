"""Ending live access: close a user's open WebSockets (/ws/, bots.consumers.LiveConsumer).

A session that ends (logout, password change, "log out everywhere", refresh-token reuse,
deactivation) or trading access that ends must not leave a socket streaming. Services call
`user_sockets_close(...)` inside their transaction; the close message goes out after commit to
the user's group, and every socket of the user (or only those of one session family) closes
with the given code. The client reconnects, and the handshake decides again from the cookie."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from django.db import transaction

from live.events import user_group

logger = logging.getLogger(__name__)

# WebSocket close codes (4000-4999: application codes the browser can read).
CLOSE_SESSION_ENDED = 4401  # sign in again (same code as an unauthenticated handshake)
CLOSE_ACCESS_REVOKED = 4403  # trading access ended; reconnecting is allowed (read-only)
# The consumer method that handles it (channels maps "session.end" -> session_end).
SESSION_END_MESSAGE = "session.end"


def _send(user_id: int, message: dict) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), message)
    except Exception:  # the session is ended in the database already; the socket dies at its next check
        logger.exception("could not close the live sockets of user %s", user_id)


def user_sockets_close(*, user_id: int, code: int = CLOSE_SESSION_ENDED, family=None, reason: str = "") -> None:
    """After commit, close the user's sockets (only those of session `family` when given)."""
    message = {
        "type": SESSION_END_MESSAGE,
        "code": int(code),
        "family": str(family) if family else None,
        "reason": reason,
    }
    transaction.on_commit(lambda: _send(user_id, message))
