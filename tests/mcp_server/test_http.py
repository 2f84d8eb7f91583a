"""The MCP server as it runs: its own uvicorn process (mcp_server.asgi), Streamable HTTP at
/mcp/, the SDK's own HTTP client with a bearer token. One process for the module."""

from __future__ import annotations

import json

import httpx2
import pytest
from asgiref.sync import async_to_sync
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bots.models import Bot
from mcp_server.services import access_token_create, access_token_revoke

from .conftest import mcp_process

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def mcp_url(django_db_setup, django_db_blocker, tmp_path_factory):
    with mcp_process(django_db_blocker, tmp_path_factory.mktemp("mcp")) as port:
        yield f"http://127.0.0.1:{port}/mcp/"


def _payload(result) -> dict:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def _over_http(url: str, token: str | None, calls, *, host: str | None = None):
    async def run():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if host:
            headers["Host"] = host
        async with httpx2.AsyncClient(headers=headers, timeout=20) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                return await calls(client)

    return async_to_sync(run)()


def test_tools_over_http_with_a_token(mcp_url, pro_user, draft_bot, others_bot):
    _, token = access_token_create(user=pro_user, name="agent", scope="trade", days=30)

    async def calls(c):
        tools = await c.list_tools()
        listed = await c.call_tool("list_bots", {})
        theirs = await c.call_tool("get_bot", {"bot_id": others_bot.pk})
        refused = await c.call_tool("start_bot", {"bot_id": draft_bot.pk, "confirmation_token": "cfm_x"})
        preview = await c.call_tool("preview_start_bot", {"bot_id": draft_bot.pk})
        started = await c.call_tool(
            "start_bot", {"bot_id": draft_bot.pk, "confirmation_token": _payload(preview)["confirmation_token"]}
        )
        return tools, listed, theirs, refused, started

    tools, listed, theirs, refused, started = _over_http(mcp_url, token, calls)
    assert "start_bot" in {t.name for t in tools.tools}
    assert [b["id"] for b in _payload(listed)["bots"]] == [draft_bot.pk]
    assert theirs.is_error and "[not_found]" in theirs.content[0].text
    assert refused.is_error and "[confirmation_invalid]" in refused.content[0].text
    assert not started.is_error, started.content
    draft_bot.refresh_from_db()
    assert draft_bot.status == Bot.Status.STARTING


def _status(url: str, headers: dict) -> int:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    return httpx2.post(url, json=body, headers={"Accept": "application/json, text/event-stream", **headers}).status_code


def test_without_a_valid_token_nothing_answers(mcp_url, pro_user):
    row, token = access_token_create(user=pro_user, name="agent", scope="read", days=30)
    assert _status(mcp_url, {}) == 401
    assert _status(mcp_url, {"Authorization": "Bearer stk_made-up"}) == 401
    access_token_revoke(user=pro_user, token_id=row.pk)
    assert _status(mcp_url, {"Authorization": f"Bearer {token}"}) == 401


def test_foreign_host_refused(mcp_url, pro_user):
    """DNS-rebinding protection: a page on another origin cannot drive the local server."""
    _, token = access_token_create(user=pro_user, name="agent", scope="read", days=30)
    auth = {"Authorization": f"Bearer {token}"}
    assert _status(mcp_url, {**auth, "Origin": "http://evil.example"}) in (400, 403)
    assert _status(mcp_url, {**auth, "Host": "evil.example"}) in (400, 403, 421)


def test_support_tools_over_http_with_a_token(mcp_url, pro_user, draft_bot, others_bot):
    from support.models import Ticket

    _, token = access_token_create(user=pro_user, name="agent", scope="read", days=30)

    async def calls(c):
        why = await c.call_tool("troubleshoot_bot", {"bot_id": draft_bot.pk})
        opened = await c.call_tool("open_ticket", {"subject": "Idle", "body": "Why?", "bot_id": draft_bot.pk})
        theirs = await c.call_tool("troubleshoot_bot", {"bot_id": others_bot.pk})
        return why, opened, theirs

    why, opened, theirs = _over_http(mcp_url, token, calls)
    assert "not_started" in [c["cause"] for c in _payload(why)["causes"]]
    assert Ticket.objects.get(pk=_payload(opened)["id"]).bot_id == draft_bot.pk
    assert theirs.is_error and "[not_found]" in theirs.content[0].text
