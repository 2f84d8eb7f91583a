"""A standard MCP client connects with no manual setup: the SDK's own client-side OAuth
(OAuthClientProvider) meets a 401 at the MCP process, reads its protected-resource metadata
(RFC 9728), follows it to the web app's authorization-server metadata (RFC 8414), registers
itself (RFC 7591), sends the user to the consent page (here a test browser signed in as the
user presses "Allow"), exchanges the code with PKCE, and calls tools. The token it gets has the
read scope the resource asks for: it reads, and cannot trade."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlparse

import httpx2
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.test import Client as DjangoClient
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from oauth2_provider.models import get_access_token_model, get_application_model

from .conftest import mcp_process
from .test_http import _payload

pytestmark = pytest.mark.django_db(transaction=True)
CALLBACK = "http://127.0.0.1:33419/callback"


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, live_server, tmp_path_factory):
    """The web app (live server: /o/, the metadata, registration) and the MCP process told that
    the web app is its authorization server."""
    with mcp_process(
        django_db_blocker,
        tmp_path_factory.mktemp("mcp"),
        MCP_ISSUER_URL=live_server.url,
        MCP_RESOURCE_URL=lambda port: f"http://127.0.0.1:{port}/mcp/",
    ) as port:
        yield {"mcp": f"http://127.0.0.1:{port}/mcp/", "issuer": live_server.url}


class MemoryStorage:
    def __init__(self):
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, client_info):
        self.client = client_info


class SignedInBrowser:
    """The user's browser: signed in to the web app, opens the authorization URL the client
    gives, reads the consent page and presses "Allow"; the redirect's code is the callback."""

    def __init__(self, user, *, allow: bool = True):
        self.user, self.allow = user, allow
        self.consent_page = ""
        self.redirect: dict = {}

    async def open(self, authorization_url: str) -> None:
        def login():
            browser = DjangoClient()
            browser.force_login(self.user)
            return browser.cookies[settings.SESSION_COOKIE_NAME].value

        session = await sync_to_async(login)()
        async with httpx2.AsyncClient(cookies={settings.SESSION_COOKIE_NAME: session}, timeout=20) as http:
            page = await http.get(authorization_url)
            assert page.status_code == 200, page.text[:500]
            self.consent_page = page.text
            form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
            form = {k: html.unescape(v) for k, v in form.items()}
            if self.allow:
                form["allow"] = "Authorize"
            answer = await http.post(
                authorization_url.split("?")[0],
                data=form,
                headers={"X-CSRFToken": form["csrfmiddlewaretoken"], "Referer": authorization_url},
            )
        assert answer.status_code == 302, answer.text[:500]
        self.redirect = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["location"]).query).items()}

    async def callback(self) -> AuthorizationCodeResult:
        return AuthorizationCodeResult(
            code=self.redirect.get("code", ""), state=self.redirect.get("state"), iss=self.redirect.get("iss")
        )


@pytest.fixture(autouse=True)
def _issuer(settings, stack):
    settings.MCP_ISSUER_URL = stack["issuer"]  # the live server runs in this process


def _connect(stack, browser, calls):
    storage = MemoryStorage()

    async def run():
        auth = OAuthClientProvider(
            server_url=stack["mcp"],
            client_metadata=OAuthClientMetadata(
                client_name="A standard MCP client",
                redirect_uris=[CALLBACK],
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
                token_endpoint_auth_method="none",
            ),
            storage=storage,
            redirect_handler=browser.open,
            callback_handler=browser.callback,
        )
        async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
            async with Client(streamable_http_client(stack["mcp"], http_client=http)) as client:
                return await calls(client)

    return async_to_sync(run)(), storage


def test_a_standard_client_discovers_registers_authorizes_and_calls_tools(stack, pro_user, draft_bot, others_bot):
    # the protected-resource metadata of the MCP process names the web app as its issuer
    prm_url = stack["mcp"].replace("/mcp/", "/.well-known/oauth-protected-resource/mcp/")
    prm = httpx2.get(prm_url).json()
    assert [s.rstrip("/") for s in prm["authorization_servers"]] == [stack["issuer"]]
    assert prm["resource"] == stack["mcp"]

    browser = SignedInBrowser(pro_user)

    async def calls(c):
        return (
            await c.call_tool("whoami", {}),
            await c.call_tool("get_bot", {"bot_id": draft_bot.pk}),
            await c.call_tool("get_bot", {"bot_id": others_bot.pk}),
            await c.call_tool("preview_start_bot", {"bot_id": draft_bot.pk}),
            await c.call_tool("start_bot", {"bot_id": draft_bot.pk, "confirmation_token": "cfm_x"}),
        )

    (me, mine, theirs, preview, start), storage = _connect(stack, browser, calls)
    app = get_application_model().objects.get(client_id=storage.client.client_id)
    assert app.client_type == "public" and app.redirect_uris == CALLBACK and not storage.client.client_secret
    assert "Read your bots" in browser.consent_page or "Чтение ваших ботов" in browser.consent_page
    assert storage.tokens.scope == "read"
    assert get_access_token_model().objects.get(user=pro_user, application=app).scope == "read"
    assert _payload(me)["user_id"] == pro_user.pk and _payload(me)["scopes"] == ["read"]
    assert _payload(mine)["id"] == draft_bot.pk
    assert theirs.is_error and "[not_found]" in theirs.content[0].text
    assert preview.is_error and "[scope_trade_required]" in preview.content[0].text
    assert start.is_error and "[scope_trade_required]" in start.content[0].text
    draft_bot.refresh_from_db()
    assert draft_bot.status == "draft"


def test_a_user_who_denies_gets_the_client_no_token(stack, pro_user):
    from mcp.client.auth import OAuthFlowError

    browser = SignedInBrowser(pro_user, allow=False)
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the SDK wraps the flow's error in a task group
        _connect(stack, browser, lambda c: c.list_tools())
    assert browser.redirect.get("error") == "access_denied"
    assert "code" not in browser.redirect
    assert isinstance(raised.value, OAuthFlowError) or "authorization code" in repr(raised.value).lower()
    assert not get_access_token_model().objects.filter(user=pro_user).exists()
