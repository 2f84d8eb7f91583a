"""The MCP server through the SDK's own in-memory client: tools listed and called as a token's
owner; read tokens cannot trade; another user's bot is unreachable; money-moving actions need a
confirmation token bound to the exact change, spent once, and are audited."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from mcp import Client
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser

from bots.models import Bot
from mcp_server.models import AuditEntry, PersonalAccessToken
from mcp_server.server import DatabaseTokenVerifier, build_server
from mcp_server.services import access_token_create, access_token_revoke
from tests.factories import grid_config

pytestmark = pytest.mark.django_db


def _session(token_text: str, calls):
    """Run `calls(client)` against the in-memory server as the owner of `token_text` (verified
    by the same TokenVerifier the HTTP process uses)."""

    async def run():
        access = await DatabaseTokenVerifier().verify_token(token_text)
        assert access is not None, "the token was refused"
        reset = auth_context_var.set(AuthenticatedUser(access))
        try:
            async with Client(build_server()) as client:
                return await calls(client)
        finally:
            auth_context_var.reset(reset)

    return async_to_sync(run)()


def _payload(result) -> dict:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def _error(result) -> str:
    assert result.is_error, result
    return result.content[0].text


def test_tools_listed_with_guidance(pro_user):
    _, token = access_token_create(user=pro_user, name="agent", scope="read", days=30)
    tools = _session(token, lambda c: c.list_tools()).tools
    names = {t.name for t in tools}
    assert {
        "list_bots",
        "get_bot",
        "list_orders",
        "list_trades",
        "get_metrics",
        "get_launch_report",
        "preview_create_bot",
        "create_bot",
        "preview_start_bot",
        "start_bot",
        "preview_stop_bot",
        "stop_bot",
        "list_audit",
    } <= names
    start = next(t for t in tools if t.name == "start_bot")
    assert "preview_start_bot" in start.description


def test_read_tools_show_own_bots_only(pro_user, draft_bot, others_bot):
    _, token = access_token_create(user=pro_user, name="agent", scope="read", days=30)

    async def calls(c):
        return (
            await c.call_tool("list_bots", {}),
            await c.call_tool("get_bot", {"bot_id": draft_bot.pk}),
            await c.call_tool("get_bot", {"bot_id": others_bot.pk}),
            await c.call_tool("list_orders", {"bot_id": others_bot.pk}),
            await c.call_tool("get_metrics", {"bot_id": draft_bot.pk}),
        )

    listed, mine, theirs, their_orders, metrics = _session(token, calls)
    assert [b["id"] for b in _payload(listed)["bots"]] == [draft_bot.pk]
    assert _payload(mine)["name"] == draft_bot.name
    assert "[not_found]" in _error(theirs)
    assert "[not_found]" in _error(their_orders)
    assert "grid_profit" in _payload(metrics)


def test_read_token_cannot_trade(pro_user, draft_bot):
    _, token = access_token_create(user=pro_user, name="agent", scope="read", days=30)

    async def calls(c):
        return (
            await c.call_tool("preview_start_bot", {"bot_id": draft_bot.pk}),
            await c.call_tool("start_bot", {"bot_id": draft_bot.pk, "confirmation_token": "cfm_whatever"}),
        )

    preview, start = _session(token, calls)
    assert "[scope_trade_required]" in _error(preview)
    assert "[scope_trade_required]" in _error(start)
    draft_bot.refresh_from_db()
    assert draft_bot.status == Bot.Status.DRAFT
    assert set(AuditEntry.objects.filter(user=pro_user).values_list("outcome", "code")) == {
        ("refused", "scope_trade_required")
    }


def test_start_needs_a_confirmation_for_this_exact_change(pro_user, account, draft_bot):
    second = Bot.objects.create(
        user=pro_user,
        exchange_account=account,
        name="second",
        symbol="BTCUSDT",
        category="spot",
        config=grid_config(),
        investment=draft_bot.investment,
    )
    _, token = access_token_create(user=pro_user, name="agent", scope="trade", days=30)

    async def calls(c):
        missing = await c.call_tool("start_bot", {"bot_id": draft_bot.pk, "confirmation_token": ""})
        made_up = await c.call_tool("start_bot", {"bot_id": draft_bot.pk, "confirmation_token": "cfm_made_up"})
        other = _payload(await c.call_tool("preview_start_bot", {"bot_id": second.pk}))["confirmation_token"]
        wrong_bot = await c.call_tool("start_bot", {"bot_id": draft_bot.pk, "confirmation_token": other})
        good = _payload(await c.call_tool("preview_start_bot", {"bot_id": draft_bot.pk}))["confirmation_token"]
        started = await c.call_tool("start_bot", {"bot_id": draft_bot.pk, "confirmation_token": good})
        reused = await c.call_tool("start_bot", {"bot_id": draft_bot.pk, "confirmation_token": good})
        return missing, made_up, wrong_bot, started, reused

    missing, made_up, wrong_bot, started, reused = _session(token, calls)
    assert "[confirmation_required]" in _error(missing)
    assert "[confirmation_invalid]" in _error(made_up)
    assert "[confirmation_mismatch]" in _error(wrong_bot)
    assert _payload(started)["status"] == Bot.Status.STARTING
    assert "[confirmation_used]" in _error(reused)
    second.refresh_from_db()
    assert second.status == Bot.Status.DRAFT
    outcomes = list(
        AuditEntry.objects.filter(user=pro_user, tool="start_bot").order_by("id").values_list("outcome", "code")
    )
    assert outcomes == [
        ("refused", "confirmation_required"),
        ("refused", "confirmation_invalid"),
        ("refused", "confirmation_mismatch"),
        ("ok", ""),
        ("refused", "confirmation_used"),
    ]


def test_stop_confirmation_is_bound_to_the_close_action(pro_user, draft_bot):
    Bot.objects.filter(pk=draft_bot.pk).update(status=Bot.Status.RUNNING)
    _, token = access_token_create(user=pro_user, name="agent", scope="trade", days=30)

    async def calls(c):
        keep = _payload(await c.call_tool("preview_stop_bot", {"bot_id": draft_bot.pk, "close_action": "keep"}))
        sell = await c.call_tool(
            "stop_bot",
            {"bot_id": draft_bot.pk, "close_action": "sell_base", "confirmation_token": keep["confirmation_token"]},
        )
        stop = await c.call_tool(
            "stop_bot",
            {"bot_id": draft_bot.pk, "close_action": "keep", "confirmation_token": keep["confirmation_token"]},
        )
        return sell, stop

    sell, stop = _session(token, calls)
    assert "[confirmation_mismatch]" in _error(sell)
    assert _payload(stop)["status"] == Bot.Status.STOPPING


def test_another_users_bot_cannot_be_stopped_even_with_a_token(pro_user, others_bot):
    Bot.objects.filter(pk=others_bot.pk).update(status=Bot.Status.RUNNING)
    _, token = access_token_create(user=pro_user, name="agent", scope="trade", days=30)

    async def calls(c):
        return await c.call_tool("preview_stop_bot", {"bot_id": others_bot.pk})

    assert "[not_found]" in _error(_session(token, calls))
    others_bot.refresh_from_db()
    assert others_bot.status == Bot.Status.RUNNING


def test_money_actions_are_rate_limited(pro_user, draft_bot, settings):
    settings.MCP_MONEY_ACTIONS_PER_MINUTE = 3
    _, token = access_token_create(user=pro_user, name="agent", scope="trade", days=30)

    async def calls(c):
        return [await c.call_tool("start_bot", {"bot_id": draft_bot.pk, "confirmation_token": "x"}) for _ in range(4)]

    results = _session(token, calls)
    assert "[rate_limited]" in _error(results[-1])
    assert all("[confirmation_invalid]" in _error(r) for r in results[:3])


def test_token_lifecycle(pro_user, user):
    row, text = access_token_create(user=pro_user, name="agent", scope="read", days=1)
    assert text.startswith("stk_") and text not in row.token_hash and len(row.token_hash) == 64
    assert async_to_sync(DatabaseTokenVerifier().verify_token)(text) is not None
    access_token_revoke(user=pro_user, token_id=row.pk)
    assert async_to_sync(DatabaseTokenVerifier().verify_token)(text) is None
    row2, text2 = access_token_create(user=pro_user, name="old", scope="read", days=1)
    PersonalAccessToken.objects.filter(pk=row2.pk).update(expires_at="2000-01-01T00:00:00Z")
    assert async_to_sync(DatabaseTokenVerifier().verify_token)(text2) is None
    assert async_to_sync(DatabaseTokenVerifier().verify_token)("stk_not-a-token") is None


def test_free_plan_gets_no_token(user):
    from billing.services import PlanLimitError

    with pytest.raises(PlanLimitError):
        access_token_create(user=user, name="agent", scope="read", days=30)
