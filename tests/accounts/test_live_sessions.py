"""Ending a session ends live access at once (issue 9, item 2): the access cookie of an ended
session is refused on the next request, and the user's open WebSockets close (4401: sign in
again; 4403: trading access ended). Junk frames on /ws/ get an error, not a crash (item 5)."""

from __future__ import annotations

import logging

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts import services
from accounts.tokens import ACCESS_COOKIE, REFRESH_COOKIE
from config.asgi import application
from tests.accounts.conftest import STRONG_PASSWORD, SpaClient
from tests.factories import DEFAULT_PASSWORD

# --- the access cookie ------------------------------------------------------------------------


def _cookie(client, name=ACCESS_COOKIE) -> str:
    return client.cookies[name].value


def _with_access(token: str) -> SpaClient:
    other = SpaClient()
    other.cookies[ACCESS_COOKIE] = token
    return other


@pytest.mark.django_db
def test_logout_kills_the_access_cookie_at_once(logged_in):
    access = _cookie(logged_in)
    assert _with_access(access).get("/api/auth/me/").status_code == 200
    assert logged_in.post("/api/auth/logout/").status_code == 204
    response = _with_access(access).get("/api/auth/me/")  # someone kept a copy of the cookie
    assert response.status_code == 401 and response.data["code"] == "token_invalid"


@pytest.mark.django_db
def test_logout_with_only_the_access_cookie_ends_that_session(logged_in):
    access = _cookie(logged_in)
    holder = _with_access(access)
    assert holder.post("/api/auth/logout/").status_code == 204
    assert _with_access(access).get("/api/auth/me/").status_code == 401


@pytest.mark.django_db
def test_refresh_token_reuse_kills_the_access_cookies_of_its_family(logged_in, settings):
    settings.SETKA_REFRESH_REUSE_GRACE_SECONDS = 0
    stolen_refresh = _cookie(logged_in, REFRESH_COOKIE)
    assert logged_in.post("/api/auth/refresh/").status_code == 200
    fresh_access = _cookie(logged_in)
    assert _with_access(fresh_access).get("/api/auth/me/").status_code == 200

    thief = SpaClient()
    thief.cookies[REFRESH_COOKIE] = stolen_refresh
    assert thief.post("/api/auth/refresh/").status_code == 401  # reuse: the family is revoked
    assert _with_access(fresh_access).get("/api/auth/me/").status_code == 401


@pytest.mark.django_db
def test_ending_one_session_from_the_list_leaves_the_others(logged_in, verified_user):
    laptop = SpaClient()
    assert (
        laptop.post("/api/auth/login/", {"email": verified_user.email, "password": DEFAULT_PASSWORD}).status_code == 200
    )
    sessions = logged_in.get("/api/auth/sessions/").data
    laptop_session = next(s for s in sessions if not s["current"])
    assert logged_in.delete(f"/api/auth/sessions/{laptop_session['id']}/").status_code == 204
    assert laptop.get("/api/auth/me/").status_code == 401
    assert logged_in.get("/api/auth/me/").status_code == 200


@pytest.mark.django_db
def test_password_change_kills_other_access_cookies_and_keeps_this_device(logged_in, verified_user):
    other_device = SpaClient()
    other_device.post("/api/auth/login/", {"email": verified_user.email, "password": DEFAULT_PASSWORD})
    response = logged_in.post(
        "/api/auth/password/change/", {"current_password": DEFAULT_PASSWORD, "password": STRONG_PASSWORD}
    )
    assert response.status_code == 200
    assert other_device.get("/api/auth/me/").status_code == 401
    assert logged_in.get("/api/auth/me/").status_code == 200


@pytest.mark.django_db
def test_log_out_everywhere_ends_every_session(logged_in, verified_user):
    laptop = SpaClient()
    laptop.post("/api/auth/login/", {"email": verified_user.email, "password": DEFAULT_PASSWORD})
    access = _cookie(logged_in)
    assert logged_in.post("/api/auth/sessions/end-all/").status_code == 204
    assert laptop.get("/api/auth/me/").status_code == 401
    assert _with_access(access).get("/api/auth/me/").status_code == 401
    assert laptop.post("/api/auth/refresh/").status_code == 401


# --- the WebSocket ----------------------------------------------------------------------------


def _login_with(email: str, password: str) -> SpaClient:
    spa = SpaClient()
    response = spa.post("/api/auth/login/", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return spa


def _login(email: str) -> SpaClient:
    return _login_with(email, DEFAULT_PASSWORD)


async def _socket(spa: SpaClient) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"cookie", f"{ACCESS_COOKIE}={_cookie(spa)}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


async def _closed_with(communicator) -> int:
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    return message["code"]


async def _alive(communicator) -> bool:
    await communicator.send_json_to({"action": "ping"})
    return (await communicator.receive_json_from(timeout=5))["type"] == "pong"


@pytest.fixture
def ws_user(transactional_db):
    user = services.user_create(email="live@example.com", password=DEFAULT_PASSWORD, email_verified=True)
    user.access_granted_at = user.date_joined
    user.save(update_fields=["access_granted_at"])
    return user


@pytest.mark.django_db(transaction=True)
async def test_open_sockets_close_when_their_session_ends(ws_user):
    """One transactional test (each costs a database flush): logout, refresh-token reuse and
    ending a session from the list close that session's socket only; a password change and
    "log out everywhere" close them all."""
    phone, laptop = await sync_to_async(_login)(ws_user.email), await sync_to_async(_login)(ws_user.email)
    on_phone, on_laptop = await _socket(phone), await _socket(laptop)

    # Logout on the phone: its socket closes, the laptop's stays.
    assert (await sync_to_async(phone.post)("/api/auth/logout/")).status_code == 204
    assert await _closed_with(on_phone) == 4401
    assert await _alive(on_laptop)

    # Refresh-token reuse on the laptop's session: its family is revoked, its socket closes.
    phone = await sync_to_async(_login)(ws_user.email)
    on_phone = await _socket(phone)
    stolen = _cookie(laptop, REFRESH_COOKIE)

    def reuse():
        from django.conf import settings

        settings.SETKA_REFRESH_REUSE_GRACE_SECONDS = 0
        try:
            assert laptop.post("/api/auth/refresh/").status_code == 200
            thief = SpaClient()
            thief.cookies[REFRESH_COOKIE] = stolen
            assert thief.post("/api/auth/refresh/").status_code == 401
        finally:
            del settings.SETKA_REFRESH_REUSE_GRACE_SECONDS

    await sync_to_async(reuse)()
    assert await _closed_with(on_laptop) == 4401
    assert await _alive(on_phone)

    # Password change on the phone: every socket of the user closes (this device's too; it
    # reconnects with the fresh cookie it just got).
    laptop = await sync_to_async(_login)(ws_user.email)
    on_laptop = await _socket(laptop)
    response = await sync_to_async(phone.post)(
        "/api/auth/password/change/", {"current_password": DEFAULT_PASSWORD, "password": STRONG_PASSWORD}
    )
    assert response.status_code == 200
    assert await _closed_with(on_laptop) == 4401
    assert await _closed_with(on_phone) == 4401
    on_phone = await _socket(phone)  # the fresh cookie works
    assert await _alive(on_phone)

    # "Log out everywhere" from the laptop (a fresh login there).
    laptop = await sync_to_async(_login_with)(ws_user.email, STRONG_PASSWORD)
    assert (await sync_to_async(laptop.post)("/api/auth/sessions/end-all/")).status_code == 204
    assert await _closed_with(on_phone) == 4401


@pytest.mark.django_db(transaction=True)
async def test_sockets_close_when_trading_access_ends(ws_user):
    spa = await sync_to_async(_login)(ws_user.email)
    live = await _socket(spa)
    operator = await sync_to_async(services.user_create)(email="op@example.com", password=None, is_staff=True)
    await sync_to_async(services.user_access_revoke)(user=ws_user, operator=operator)
    assert await _closed_with(live) == 4403
    # Deactivation ends the session too: the cookie no longer opens a socket.
    live = await _socket(spa)
    await sync_to_async(services.user_deactivate)(user=ws_user, operator=operator)
    assert await _closed_with(live) == 4401
    communicator = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"{ACCESS_COOKIE}={_cookie(spa)}".encode())],
    )
    await communicator.connect(timeout=5)
    assert await _closed_with(communicator) == 4401


@pytest.mark.django_db(transaction=True)
async def test_junk_frames_get_an_error_not_a_crash(ws_user, caplog):
    spa = await sync_to_async(_login)(ws_user.email)
    live = await _socket(spa)
    caplog.set_level(logging.WARNING)
    junk = [
        ({"bytes_data": b"\x00\x01binary"}, "binary_frame"),
        ({"text_data": "not json {"}, "invalid_json"),
        ({"text_data": "x" * 100_000}, "frame_too_large"),
        ({"text_data": "[" * 3000 + "]" * 3000}, "frame_too_large"),
        ({"text_data": "[" * 2000 + "]" * 2000}, "invalid_json"),  # too deep for the parser
        ({"text_data": "[1, 2]"}, "invalid"),
        ({"text_data": '"subscribe_bot"'}, "invalid"),
        ({"text_data": "null"}, "invalid"),
        ({"text_data": '{"action": ["ping"]}'}, "unknown_action"),
        ({"text_data": '{"action": "subscribe_bot", "bot_id": {"a": 1}}'}, "invalid"),
        ({"text_data": '{"action": "subscribe_bot", "bot_id": true}'}, "invalid"),
        ({"text_data": '{"action": "subscribe_bot", "bot_id": "\u00b2"}'}, "invalid"),
        ({"text_data": '{"action": "subscribe_bot", "bot_id": 99999999999999999999999}'}, "invalid"),
        ({"text_data": '{"action": "subscribe_bot", "bot_id": "' + "9" * 500 + '"}'}, "invalid"),
        ({"text_data": '{"action": "subscribe_bot", "bot_id": -1}'}, "invalid"),
        ({"text_data": '{"action": "subscribe_bot", "bot_id": 9223372036854775808}'}, "invalid"),
        ({"text_data": '{"action": "subscribe_bot", "bot_id": 9223372036854775807}'}, "not_found"),
    ]
    for frame, code in junk:
        await live.send_to(**frame)
        answer = await live.receive_json_from(timeout=5)
        assert answer["type"] == "error" and answer["code"] == code, (frame, answer)
    assert await _alive(live)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    # A client that only sends junk is closed with an application code (not 1011).
    for _ in range(30):
        await live.send_to(text_data="junk")
        message = await live.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            assert message["code"] == 4400
            break
    else:
        pytest.fail("the socket was never closed")
