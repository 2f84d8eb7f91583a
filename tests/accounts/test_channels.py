"""The WebSocket handshake is authenticated by the same access cookie as the API."""

from __future__ import annotations

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.testing import WebsocketCommunicator

from accounts.channels import CookieTokenAuthMiddleware
from accounts.tokens import access_token_issue

pytestmark = pytest.mark.django_db(transaction=True)


class WhoAmI(AsyncJsonWebsocketConsumer):
    channel_layer_alias = "unused-in-this-test"  # no channel layer: nothing but the handshake

    async def connect(self):
        await self.accept()
        user = self.scope["user"]
        await self.send_json({"authenticated": user.is_authenticated, "email": getattr(user, "email", None)})


async def _who(headers):
    app = CookieTokenAuthMiddleware(WhoAmI.as_asgi())
    communicator = WebsocketCommunicator(app, "/ws/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    message = await communicator.receive_json_from()
    await communicator.disconnect()
    return message


@pytest.fixture
def ws_user(db):
    from accounts import services

    return services.user_create(email="ws@example.com", password="Lantern-orbit-77-quiet", email_verified=True)


async def test_handshake_cookie_sets_the_user_or_anonymous(ws_user):
    """One test (a transactional database is slow to reset): valid, missing, garbage, and a
    token made before a password change."""
    from channels.db import database_sync_to_async

    from accounts import services

    token = access_token_issue(user=ws_user)
    message = await _who([(b"cookie", f"csrftoken=abc; setka_access={token}".encode())])
    assert message == {"authenticated": True, "email": "ws@example.com"}

    assert (await _who([]))["authenticated"] is False
    assert (await _who([(b"cookie", b"setka_access=garbage")]))["authenticated"] is False
    assert (await _who([(b"cookie", b"\xff\xfe;;;=")]))["authenticated"] is False

    await database_sync_to_async(services.user_password_set)(user=ws_user, password="Another-long-pass-99")
    message = await _who([(b"cookie", f"setka_access={token}".encode())])
    assert message["authenticated"] is False
