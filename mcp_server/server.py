"""Setka's MCP server (official `mcp` SDK, MCPServer): curated tools over the product's own
services, Streamable HTTP at /mcp/, bearer tokens verified against the database.

Run it with `uvicorn mcp_server.asgi:app` (scripts/stack.py starts it): daphne does not run
the ASGI lifespan the SDK's session manager needs. In tests, `mcp.Client(build_server())`
talks to it in memory."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings

from mcp_server import tools
from mcp_server.services import Principal, ToolRefused, access_token_verify

INSTRUCTIONS = """Setka runs grid-trading bots for the signed-in user. Read tools need the read
scope; creating, starting and stopping a bot need the trade scope AND the user's explicit yes:
first call the matching preview_* tool, show the user what it returns (the launch report, the
position), and only after they agree call the action with the confirmation_token it returned
(valid two minutes, once, only for exactly those arguments). Before proposing a configuration
call get_launch_report (and run_backtest) and explain its warnings. When a bot is not trading,
call troubleshoot_bot first; open or answer a support ticket only when the user asks. Money
amounts are strings."""


class DatabaseTokenVerifier:
    """The SDK's TokenVerifier over Setka's personal access tokens (hashed in the database)."""

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = await sync_to_async(access_token_verify, thread_sensitive=True)(text=token)
        if principal is None:
            return None
        return AccessToken(
            token="pat",  # never keep the secret itself in the request context
            client_id=f"pat:{principal.token_id}" if principal.token_id else f"oauth:{principal.user_id}",
            scopes=list(principal.scopes),
            subject=str(principal.user_id),
            claims={"token_id": principal.token_id},
        )


def current_principal() -> Principal:
    access = get_access_token()
    if access is None or not access.subject:
        raise ToolError("[not_authenticated] Sign in with a Setka access token.")
    claims = access.claims or {}
    return Principal(user_id=int(access.subject), scopes=tuple(access.scopes), token_id=claims.get("token_id"))


async def _call(fn, /, **kwargs) -> Any:
    principal = current_principal()
    if "read" not in principal.scopes:
        raise ToolError("[scope_read_required] This token cannot read.")
    try:
        return await sync_to_async(fn, thread_sensitive=True)(principal, **kwargs)
    except ToolRefused as exc:
        raise ToolError(f"[{exc.code}] {exc.message}") from exc


def build_server() -> MCPServer:
    auth = AuthSettings(
        # pydantic validates these strings itself (without mypy's pydantic plugin the stub wants
        # AnyHttpUrl); AnyHttpUrl(...) would add a "/" to a bare origin and change the OAuth issuer.
        issuer_url=settings.MCP_ISSUER_URL,  # type: ignore[arg-type]
        resource_server_url=settings.MCP_RESOURCE_URL,  # type: ignore[arg-type]
        required_scopes=["read"],
        validate_token_resource=False,
    )
    mcp = MCPServer(
        name="Setka",
        instructions=INSTRUCTIONS,
        token_verifier=DatabaseTokenVerifier(),
        auth=auth,
    )

    @mcp.tool(description="Who the token belongs to: user, scopes (read / trade) and plan. Call first.")
    async def whoami() -> dict:
        return await _call(tools.whoami)

    @mcp.tool(description="The user's exchange accounts (ids for get_launch_report / create_bot).")
    async def list_exchange_accounts() -> dict:
        return {"accounts": await _call(tools.list_exchange_accounts)}

    @mcp.tool(description="The user's bots, newest first (status: draft, starting, running, stopping, stopped, error).")
    async def list_bots(status: str | None = None, symbol: str | None = None) -> dict:
        return {"bots": await _call(tools.list_bots, status=status, symbol=symbol)}

    @mcp.tool(description="One bot: configuration, status, profit figures.")
    async def get_bot(bot_id: int) -> dict:
        return await _call(tools.get_bot, bot_id=bot_id)

    @mcp.tool(description="A bot's orders, newest first (state: all, open, closed).")
    async def list_orders(bot_id: int, state: str = "all") -> dict:
        return {"orders": await _call(tools.list_orders, bot_id=bot_id, state=state)}

    @mcp.tool(description="The user's fills (trades), newest first; pass bot_id for one bot.")
    async def list_trades(bot_id: int | None = None) -> dict:
        return {"trades": await _call(tools.list_trades, bot_id=bot_id)}

    @mcp.tool(description="A bot's metrics: grid profit, realized/unrealized P/L, fees, cycles, APR.")
    async def get_metrics(bot_id: int) -> dict:
        return await _call(tools.get_metrics, bot_id=bot_id)

    @mcp.tool(description="A bot's position: side, size, entry, liquidation price, unrealized P/L.")
    async def get_position(bot_id: int) -> dict:
        return await _call(tools.get_position, bot_id=bot_id)

    @mcp.tool(description="A bot's event log (launch, fills, stops, errors), newest first.")
    async def list_events(bot_id: int) -> dict:
        return {"events": await _call(tools.list_events, bot_id=bot_id)}

    @mcp.tool(
        description="The pre-launch report of a grid configuration (profit per grid after fees, warnings, "
        "what blocks a launch). Nothing is created. Call this before preview_create_bot and explain its warnings."
    )
    async def get_launch_report(exchange_account_id: int, symbol: str, config: dict, category: str = "spot") -> dict:
        return await _call(
            tools.get_launch_report,
            exchange_account_id=exchange_account_id,
            symbol=symbol,
            category=category,
            config=config,
        )

    @mcp.tool(
        description="Step 1 of creating a bot (trade scope): the launch report and a confirmation_token bound to "
        "exactly these arguments. Show the report to the user; nothing is created."
    )
    async def preview_create_bot(
        exchange_account_id: int,
        symbol: str,
        config: dict,
        name: str,
        category: str = "spot",
        accept_warnings: bool = False,
    ) -> dict:
        return await _call(
            tools.preview_create_bot,
            exchange_account_id=exchange_account_id,
            symbol=symbol,
            category=category,
            config=config,
            name=name,
            accept_warnings=accept_warnings,
        )

    @mcp.tool(
        description="Step 2 of creating a bot (trade scope): creates a draft with the SAME arguments as "
        "preview_create_bot and its confirmation_token. Start it with preview_start_bot / start_bot."
    )
    async def create_bot(
        exchange_account_id: int,
        symbol: str,
        config: dict,
        name: str,
        confirmation_token: str,
        category: str = "spot",
        accept_warnings: bool = False,
    ) -> dict:
        return await _call(
            tools.create_bot,
            exchange_account_id=exchange_account_id,
            symbol=symbol,
            category=category,
            config=config,
            name=name,
            confirmation_token=confirmation_token,
            accept_warnings=accept_warnings,
        )

    @mcp.tool(description="Step 1 of starting a draft bot (trade scope): returns the bot and a confirmation_token.")
    async def preview_start_bot(bot_id: int) -> dict:
        return await _call(tools.preview_start_bot, bot_id=bot_id)

    @mcp.tool(
        description="Step 2: starts the bot; real orders are placed. Needs preview_start_bot's confirmation_token."
    )
    async def start_bot(bot_id: int, confirmation_token: str) -> dict:
        return await _call(tools.start_bot, bot_id=bot_id, confirmation_token=confirmation_token)

    @mcp.tool(
        description="Step 1 of stopping a bot (trade scope): its position and what happens to it "
        "(close_action: keep, sell_base, close_position; default the bot's own), and a confirmation_token."
    )
    async def preview_stop_bot(bot_id: int, close_action: str | None = None) -> dict:
        return await _call(tools.preview_stop_bot, bot_id=bot_id, close_action=close_action)

    @mcp.tool(
        description="Step 2: stops the bot (cancels its orders, then close_action). Needs preview_stop_bot's token."
    )
    async def stop_bot(bot_id: int, confirmation_token: str, close_action: str | None = None) -> dict:
        return await _call(
            tools.stop_bot, bot_id=bot_id, close_action=close_action, confirmation_token=confirmation_token
        )

    @mcp.tool(
        description="Suggest grid parameters for a pair, a USDT budget and a risk level (low, medium, high): "
        "range, grid count, spacing, stop loss and take profit chosen by walk-forward validation, with their "
        "out-of-sample result beside the naive 'best of the last 7 days'. Then check them with get_launch_report."
    )
    async def suggest_parameters(symbol: str, budget: str, risk: str = "medium") -> dict:
        return await _call(tools.suggest_parameters, symbol=symbol, budget=budget, risk=risk)

    @mcp.tool(
        description="Trade study of one bot: profit split into grid cycles, inventory, fees and funding; fills "
        "per hour and per level; cycle cadence; how often and how far the price left the range; plain facts."
    )
    async def get_bot_study(bot_id: int) -> dict:
        return await _call(tools.bot_study, bot_id=bot_id)

    @mcp.tool(description="Portfolio statistics across the user's bots: capital, profit, ROI, concentration by coin.")
    async def get_portfolio() -> dict:
        return await _call(tools.portfolio)

    @mcp.tool(
        description="Market regime of a pair over the last hours: range-bound (good for a grid) or trending "
        "(against a grid), with the efficiency ratio, choppiness index and variance ratio behind it."
    )
    async def get_market_regime(symbol: str, hours: int = 24) -> dict:
        return await _call(tools.market_regime, symbol=symbol, hours=hours)

    @mcp.tool(
        description="Run a backtest of a grid configuration on a stored market series (ids from get_screener) "
        "over [period_start, period_end) (ISO times; default the last 14 stored days), with a walk-forward "
        "in-sample / out-of-sample split. Counts against the plan's daily backtests. Returns the stored "
        "backtest's id; the worker runs it, read it with get_backtest."
    )
    async def run_backtest(
        series_id: int,
        config: dict,
        period_start: str | None = None,
        period_end: str | None = None,
        in_sample_percent: int = 70,
        name: str = "",
    ) -> dict:
        return await _call(
            tools.run_backtest,
            series_id=series_id,
            config=config,
            period_start=period_start,
            period_end=period_end,
            in_sample_percent=in_sample_percent,
            name=name,
        )

    @mcp.tool(
        description="A stored backtest of the user's (status queued, running, done, failed): profit split, "
        "drawdown, cycles, time in range, in-sample vs out-of-sample, buy and hold."
    )
    async def get_backtest(backtest_id: int) -> dict:
        return await _call(tools.get_backtest, backtest_id=backtest_id)

    @mcp.tool(
        description="The screener: stored markets ranked by how well they suit a grid, each with its factors "
        "(volume, ATR, efficiency ratio, choppiness, variance ratio, half-life) and a suggested grid; 'explain' "
        "says what each factor means. Filters: venue (bybit, okx, ...), category (spot, linear); sort: a field, "
        "'-' for descending."
    )
    async def get_screener(venue: str | None = None, category: str | None = None, sort: str = "-score") -> dict:
        return await _call(tools.screener, venue=venue, category=category, sort=sort)

    @mcp.tool(
        description="Why isn't my bot trading: every cause the troubleshooter finds (key, plan, balance, range, "
        "trigger, exchange errors), most blocking first, each with what to do, in the user's language."
    )
    async def troubleshoot_bot(bot_id: int) -> dict:
        return await _call(tools.troubleshoot_bot, bot_id=bot_id)

    @mcp.tool(description="The user's support tickets, newest first.")
    async def list_tickets() -> dict:
        return {"tickets": await _call(tools.list_tickets)}

    @mcp.tool(description="One of the user's support tickets with its whole thread.")
    async def get_ticket(ticket_id: int) -> dict:
        return await _call(tools.get_ticket, ticket_id=ticket_id)

    @mcp.tool(
        description="Open a support ticket for the user (subject, body; queue billing, exchange, bots or partners). "
        "With bot_id the ticket carries that bot's diagnostic snapshot (secrets removed). Ask the user first; "
        "at most 10 support messages an hour."
    )
    async def open_ticket(subject: str, body: str, queue: str | None = None, bot_id: int | None = None) -> dict:
        return await _call(tools.open_ticket, subject=subject, body=body, queue=queue, bot_id=bot_id)

    @mcp.tool(description="Add the user's reply to one of their open tickets.")
    async def reply_ticket(ticket_id: int, body: str) -> dict:
        return await _call(tools.reply_ticket, ticket_id=ticket_id, body=body)

    @mcp.tool(
        description="The audit log of trading actions and support messages taken through this server (done and refused)."
    )
    async def list_audit() -> dict:
        return {"entries": await _call(tools.list_audit)}

    return mcp


def transport_security() -> TransportSecuritySettings:
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(settings.MCP_ALLOWED_HOSTS),
        allowed_origins=list(settings.MCP_ALLOWED_ORIGINS),
    )
