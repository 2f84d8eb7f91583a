"""OAuth 2.1 for MCP clients: authorization code with PKCE at /o/ (django-oauth-toolkit), the
access token then verified by the MCP server's TokenVerifier; scopes map to read / trade."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client as DjangoClient
from oauth2_provider.models import get_access_token_model, get_application_model

from bots.models import Bot

from .test_tools import _error, _payload, _session

pytestmark = pytest.mark.django_db
REDIRECT = "http://127.0.0.1:33418/callback"


@pytest.fixture
def app():
    return get_application_model().objects.create(
        name="An MCP client",
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris=REDIRECT,
        skip_authorization=False,
        algorithm="",
    )


def _authorize(user, app, scope: str, *, pkce: bool = True):
    browser = DjangoClient()
    browser.force_login(user)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    form = {
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": scope,
        "state": "s1",
        "allow": "Authorize",
    }
    if pkce:
        form.update(code_challenge=challenge, code_challenge_method="S256")
    answer = browser.post("/o/authorize/", form)
    assert answer.status_code == 302, answer.content[:500]
    query = parse_qs(urlparse(answer["Location"]).query)
    if "code" not in query:
        return None, query
    token = DjangoClient().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "client_id": app.client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.content
    return token.json(), query


def test_pkce_flow_token_works_on_the_mcp_server(pro_user, app, draft_bot):
    issued, _ = _authorize(pro_user, app, "read")
    assert issued["scope"] == "read"
    stored = get_access_token_model().objects.get(user=pro_user)
    assert issued["access_token"] not in (stored.token,)  # kept as its SHA-256 only

    async def calls(c):
        return await c.call_tool("get_bot", {"bot_id": draft_bot.pk}), await c.call_tool(
            "preview_start_bot", {"bot_id": draft_bot.pk}
        )

    bot, preview = _session(issued["access_token"], calls)
    assert _payload(bot)["id"] == draft_bot.pk
    assert "[scope_trade_required]" in _error(preview)


def test_trade_scope_can_trade_with_confirmation(pro_user, app, draft_bot):
    issued, _ = _authorize(pro_user, app, "read trade")

    async def calls(c):
        token = _payload(await c.call_tool("preview_start_bot", {"bot_id": draft_bot.pk}))["confirmation_token"]
        return await c.call_tool("start_bot", {"bot_id": draft_bot.pk, "confirmation_token": token})

    assert _payload(_session(issued["access_token"], calls))["status"] == Bot.Status.STARTING


def test_without_pkce_no_code(pro_user, app):
    issued, query = _authorize(pro_user, app, "read", pkce=False)
    assert issued is None and query["error"] == ["invalid_request"]
