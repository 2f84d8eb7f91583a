"""The MCP tools' bodies: plain synchronous Django code over the same services and selectors as
the REST API, with the same ownership rule (another user's bot is "not found"). server.py
wraps each in an async MCP tool; nothing here knows about the MCP protocol.

Money-moving tools (create_bot, start_bot, stop_bot) need the trade scope and a confirmation
token from the matching preview_* tool, bound to the exact parameters; every call to them,
done or refused, is rate limited and written to the audit log."""

from __future__ import annotations

from datetime import UTC

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.serializers import BaseSerializer

from config.errors import DomainError
from mcp_server import services
from mcp_server.services import Principal, ToolRefused

PAGE = 50


def _user(principal: Principal):
    user = get_user_model().objects.filter(pk=principal.user_id, is_active=True).first()
    if user is None:
        raise ToolRefused("This account is not active.", code="not_authenticated")
    return user


def _bot(user, bot_id):
    from bots.selectors import user_bots

    try:
        bot_id = int(bot_id)
    except (TypeError, ValueError):
        bot_id = 0
    bot = user_bots(user=user).filter(pk=bot_id).first() if bot_id > 0 else None
    if bot is None:
        raise ToolRefused(f"No bot {bot_id} among your bots; call list_bots.", code="not_found")
    return bot


def _account(user, account_id):
    from exchanges.models import ExchangeAccount

    try:
        account_id = int(account_id)
    except (TypeError, ValueError):
        account_id = 0
    account = ExchangeAccount.objects.filter(pk=account_id, user=user).first() if account_id > 0 else None
    if account is None:
        raise ToolRefused(
            f"No exchange account {account_id} among yours; call list_exchange_accounts.", code="not_found"
        )
    return account


def _bot_json(bot) -> dict:
    from bots.serializers import BotSerializer

    return dict(BotSerializer(bot, context={"now": timezone.now()}).data)


def _report_json(report) -> dict:
    if report is None:
        return {}
    return report.to_json() if hasattr(report, "to_json") else dict(report)


def _translate(exc: Exception) -> ToolRefused:
    """A domain or validation error as a refusal the agent can read."""
    if isinstance(exc, ToolRefused):
        return exc
    if isinstance(exc, DomainError):
        return ToolRefused(str(exc), code=getattr(exc, "code", "invalid"))
    if isinstance(exc, ValidationError):
        return ToolRefused(f"Invalid input: {exc.detail}", code="invalid")
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict) and errors:
        return ToolRefused(
            "Invalid configuration: " + "; ".join(f"{k}: {v}" for k, v in errors.items()), code="invalid"
        )
    raise exc


# --- read tools --------------------------------------------------------------------------------
def whoami(principal: Principal) -> dict:
    from billing.selectors import plan_effective

    user = _user(principal)
    plan = plan_effective(user=user)
    return {"user_id": user.pk, "email": user.email, "scopes": list(principal.scopes), "plan": plan.code}


def list_exchange_accounts(principal: Principal) -> list[dict]:
    from exchanges.selectors import exchange_account_list

    user = _user(principal)
    return [
        {
            "id": a.pk,
            "exchange": a.exchange.code if a.exchange_id else None,
            "environment": a.environment,
            "status": a.status,
            "label": getattr(a, "label", "") or "",
        }
        for a in exchange_account_list(user=user)
    ]


def list_bots(principal: Principal, status: str | None = None, symbol: str | None = None) -> list[dict]:
    from bots.selectors import user_bots

    user = _user(principal)
    qs = user_bots(user=user).order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if symbol:
        qs = qs.filter(symbol=symbol.upper())
    return [_bot_json(b) for b in qs[:PAGE]]


def get_bot(principal: Principal, bot_id: int) -> dict:
    return _bot_json(_bot(_user(principal), bot_id))


def list_orders(principal: Principal, bot_id: int, state: str = "all") -> list[dict]:
    from bots.serializers import OrderSerializer
    from trading.selectors import order_list

    user = _user(principal)
    bot = _bot(user, bot_id)
    if state not in ("all", "open", "closed"):
        raise ToolRefused("state is all, open or closed.", code="invalid")
    orders = order_list(bot=bot, state=state).filter(user=user).order_by("-id")[:PAGE]
    return [dict(o) for o in OrderSerializer(orders, many=True).data]


def list_trades(principal: Principal, bot_id: int | None = None) -> list[dict]:
    from trading.selectors import trade_list
    from trading.serializers import TradeSerializer

    user = _user(principal)
    bot = _bot(user, bot_id) if bot_id is not None else None
    trades = trade_list(user=user, bot=bot).order_by("-executed_at", "-id")[:PAGE]
    return [dict(t) for t in TradeSerializer(trades, many=True).data]


def get_metrics(principal: Principal, bot_id: int) -> dict:
    from bots.serializers import MetricsSerializer
    from metrics.models import BotMetrics
    from metrics.selectors import metrics_figures

    bot = _bot(_user(principal), bot_id)
    metrics = BotMetrics.objects.filter(bot_id=bot.pk).first()
    return dict(MetricsSerializer(metrics_figures(bot=bot, metrics=metrics)).data)


def get_position(principal: Principal, bot_id: int) -> dict:
    from bots.selectors import bot_position

    return bot_position(bot=_bot(_user(principal), bot_id))


def list_events(principal: Principal, bot_id: int) -> list[dict]:
    from bots.selectors import bot_events
    from bots.serializers import BotEventSerializer

    bot = _bot(_user(principal), bot_id)
    # many=True builds a ListSerializer; typed as the base so .data is not the declared "data" field
    events: BaseSerializer = BotEventSerializer(bot_events(bot=bot)[:PAGE], many=True)
    return [dict(e) for e in events.data]


def get_launch_report(principal: Principal, exchange_account_id: int, symbol: str, category: str, config: dict) -> dict:
    """The pre-launch report for a configuration; nothing is created."""
    from bots.services import bot_preview

    user = _user(principal)
    account = _account(user, exchange_account_id)
    try:
        report = bot_preview(
            user=user, exchange_account=account, symbol=symbol.upper(), category=category, config=config
        )
    except Exception as exc:  # noqa: BLE001 - domain errors become refusals, the rest re-raises
        raise _translate(exc) from exc
    return _report_json(report)


# --- money-moving tools: preview (issues a confirmation) then act (spends it) --------------------
def _create_params(exchange_account_id, symbol, category, config, name, accept_warnings) -> dict:
    return {
        "exchange_account_id": int(exchange_account_id),
        "symbol": str(symbol).upper(),
        "category": category,
        "config": config,
        "name": name,
        "accept_warnings": bool(accept_warnings),
    }


def _require_trade(principal: Principal, tool: str, params: dict) -> None:
    if not principal.can_trade:
        services.audit_record(
            principal=principal, tool=tool, params=params, outcome="refused", code="scope_trade_required"
        )
        raise ToolRefused(
            "This token has the read scope; trading needs a token with the trade scope.", code="scope_trade_required"
        )


def preview_create_bot(
    principal: Principal,
    exchange_account_id: int,
    symbol: str,
    category: str,
    config: dict,
    name: str,
    accept_warnings: bool = False,
) -> dict:
    params = _create_params(exchange_account_id, symbol, category, config, name, accept_warnings)
    _require_trade(principal, "preview_create_bot", params)
    report = get_launch_report(principal, exchange_account_id, symbol, category, config)
    token, ttl = services.confirmation_issue(user_id=principal.user_id, action="create_bot", params=params)
    return {
        "report": report,
        "confirmation_token": token,
        "expires_in_seconds": ttl,
        "next": "Show the report to the user; on their yes call create_bot with the same arguments and this token.",
    }


def preview_start_bot(principal: Principal, bot_id: int) -> dict:
    params = {"bot_id": int(bot_id)}
    _require_trade(principal, "preview_start_bot", params)
    bot = _bot(_user(principal), bot_id)
    token, ttl = services.confirmation_issue(user_id=principal.user_id, action="start_bot", params=params)
    return {
        "bot": _bot_json(bot),
        "confirmation_token": token,
        "expires_in_seconds": ttl,
        "next": "On the user's yes call start_bot with this bot_id and token.",
    }


def preview_stop_bot(principal: Principal, bot_id: int, close_action: str | None = None) -> dict:
    params = {"bot_id": int(bot_id), "close_action": close_action}
    _require_trade(principal, "preview_stop_bot", params)
    bot = _bot(_user(principal), bot_id)
    from bots.selectors import bot_position

    token, ttl = services.confirmation_issue(user_id=principal.user_id, action="stop_bot", params=params)
    return {
        "bot": _bot_json(bot),
        "position": bot_position(bot=bot),
        "close_action": close_action or (bot.config or {}).get("on_stop", "keep"),
        "confirmation_token": token,
        "expires_in_seconds": ttl,
        "next": "On the user's yes call stop_bot with the same bot_id, close_action and this token.",
    }


def _money_action(principal: Principal, action: str, params: dict, confirmation_token: str, do) -> dict:
    bot_id = params.get("bot_id")
    try:
        _require_trade(principal, action, params)
        services.rate_limit_check(user_id=principal.user_id)
        services.confirmation_spend(user_id=principal.user_id, text=confirmation_token, action=action, params=params)
        result = do()
    except ToolRefused as exc:
        if exc.code != "scope_trade_required":  # already audited
            services.audit_record(
                principal=principal,
                tool=action,
                params=params,
                outcome="refused",
                code=exc.code,
                message=exc.message,
                bot_id=bot_id,
            )
        raise
    except Exception as exc:  # noqa: BLE001
        refusal = _translate(exc)
        services.audit_record(
            principal=principal,
            tool=action,
            params=params,
            outcome="refused",
            code=refusal.code,
            message=refusal.message,
            bot_id=bot_id,
        )
        raise refusal from exc
    services.audit_record(principal=principal, tool=action, params=params, outcome="ok", bot_id=result.get("id"))
    return result


def create_bot(
    principal: Principal,
    exchange_account_id: int,
    symbol: str,
    category: str,
    config: dict,
    name: str,
    confirmation_token: str = "",
    accept_warnings: bool = False,
) -> dict:
    params = _create_params(exchange_account_id, symbol, category, config, name, accept_warnings)

    def do():
        from bots.services import bot_create

        user = _user(principal)
        bot = bot_create(
            user=user,
            name=name,
            exchange_account=_account(user, exchange_account_id),
            symbol=params["symbol"],
            category=category,
            config=config,
            accept_warnings=bool(accept_warnings),
        )
        return _bot_json(_bot(user, bot.pk))

    return _money_action(principal, "create_bot", params, confirmation_token, do)


def start_bot(principal: Principal, bot_id: int, confirmation_token: str = "") -> dict:
    params = {"bot_id": int(bot_id)}

    def do():
        from bots.models import Bot
        from bots.services import bot_start

        user = _user(principal)
        bot = _bot(user, bot_id)
        if bot.status == Bot.Status.STOPPED:
            raise ToolRefused(
                "A stopped bot restarts only from the app after a fresh report.", code="restart_needs_confirmation"
            )
        bot_start(bot=bot, user=user)
        return _bot_json(_bot(user, bot_id))

    return _money_action(principal, "start_bot", params, confirmation_token, do)


def stop_bot(principal: Principal, bot_id: int, close_action: str | None = None, confirmation_token: str = "") -> dict:
    params = {"bot_id": int(bot_id), "close_action": close_action}

    def do():
        from bots.services import bot_stop

        if close_action not in (None, "keep", "sell_base", "close_position"):
            raise ToolRefused("close_action is keep, sell_base or close_position.", code="invalid")
        user = _user(principal)
        bot = _bot(user, bot_id)
        bot_stop(bot=bot, user=user, close_action=close_action, reason="Stopped through the MCP server")
        return _bot_json(_bot(user, bot_id))

    return _money_action(principal, "stop_bot", params, confirmation_token, do)


def list_audit(principal: Principal) -> list[dict]:
    from mcp_server.selectors import audit_list

    return [
        {
            "at": a.created_at.isoformat(),
            "tool": a.tool,
            "outcome": a.outcome,
            "code": a.code,
            "bot_id": a.bot_id,
            "params": a.params,
        }
        for a in audit_list(user=_user(principal))[:PAGE]
    ]


# --- analytics ---------------------------------------------------------------------------------
def suggest_parameters(
    principal: Principal,
    symbol: str,
    budget: str,
    risk: str = "medium",
    price: str | None = None,
    tick: str | None = None,
) -> dict:
    """Walk-forward suggestion (search.suggest) on the candles the adapter has for `symbol`."""
    from decimal import Decimal, InvalidOperation

    from mcp_server import search
    from mcp_server.adapters import candles

    _user(principal)
    symbol = str(symbol).upper()
    if symbol not in candles.symbols():
        raise ToolRefused(f"No candle history for {symbol}; available: {', '.join(candles.symbols())}.", code="invalid")
    if risk not in search.RISK_WIDTH:
        raise ToolRefused("risk is low, medium or high.", code="invalid")
    try:
        amount = Decimal(str(budget))
    except InvalidOperation:
        amount = Decimal(0)
    if not amount.is_finite() or not Decimal(50) <= amount <= Decimal(10_000_000):
        raise ToolRefused("budget is a USDT amount from 50 to 10000000.", code="invalid")
    at_price = at_tick = None
    try:
        at_price = Decimal(str(price)) if price not in (None, "") else None
        at_tick = Decimal(str(tick)) if tick not in (None, "") else None
    except InvalidOperation:
        raise ToolRefused("price and tick are decimal numbers.", code="invalid") from None
    for value in (at_price, at_tick):
        if value is not None and (not value.is_finite() or value <= 0):
            raise ToolRefused("price and tick are positive numbers.", code="invalid")
    return search.suggest(
        candles.price_path(symbol),
        rules=candles.spot_rules(symbol),
        fees=candles.SPOT_FEES,
        budget=amount,
        risk=risk,
        at_price=at_price,
        tick=at_tick,
    )


def bot_study(principal: Principal, bot_id: int) -> dict:
    from mcp_server.insights.study import bot_study as study

    return study(bot=_bot(_user(principal), bot_id))


def portfolio(principal: Principal) -> dict:
    from mcp_server.insights.study import portfolio_study

    return portfolio_study(user=_user(principal))


def market_regime(principal: Principal, symbol: str, hours: int = 24) -> dict:
    """Range-bound or trending over the last `hours` of the candles the adapter has."""
    from mcp_server.adapters import candles
    from mcp_server.insights.regime import against_grid, detect

    _user(principal)
    symbol = str(symbol).upper()
    if symbol not in candles.symbols():
        raise ToolRefused(f"No candle history for {symbol}; available: {', '.join(candles.symbols())}.", code="invalid")
    if not 2 <= int(hours) <= 24 * 14:
        raise ToolRefused("hours is from 2 to 336.", code="invalid")
    path = candles.price_path(symbol)
    n = int(hours) * 60
    points = path.ticks[-4 * n :].reshape(-1, 4).astype(float) * float(path.tick)
    regime = detect(points.max(axis=1), points.min(axis=1), points[:, 3])
    return {"symbol": symbol, "hours": int(hours), **regime.to_json(), "against_grid": against_grid(regime)}


# --- backtests and the screener (analytics) ------------------------------------------------------
def _iso(value, field: str):
    from django.utils.dateparse import parse_datetime

    parsed = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise ToolRefused(f"{field} is an ISO date and time, e.g. 2026-05-01T00:00:00Z.", code="invalid")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def _backtest_json(bt, *, full: bool) -> dict:
    from analytics.selectors import series_json
    from analytics.services import backtest_launch_query

    data = {
        "id": bt.pk,
        "name": bt.name,
        "series": series_json(bt.series),
        "config": bt.config,
        "period_start": bt.period_start.isoformat(),
        "period_end": bt.period_end.isoformat(),
        "in_sample_percent": bt.in_sample_percent,
        "status": bt.status,
        "progress": bt.progress,
        "summary": bt.summary,
        "error_code": bt.error_code,
        "error": bt.error,
        "created_at": bt.created_at.isoformat(),
        "finished_at": bt.finished_at.isoformat() if bt.finished_at else None,
        "launch": backtest_launch_query(backtest=bt),
    }
    if full:
        result = dict(bt.result or {})
        result.pop("fills", None)  # thousands of rows: the app's result page shows them
        data["result"] = result
    return json_safe(data)


def json_safe(value):
    """Dates as ISO strings, Decimals as strings: what a tool may return."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def run_backtest(
    principal: Principal,
    series_id: int,
    config: dict,
    period_start: str | None = None,
    period_end: str | None = None,
    in_sample_percent: int = 70,
    name: str = "",
) -> dict:
    """Queue a backtest through the analytics service (the plan's daily quota applies); the
    worker runs it, get_backtest reads it. Without dates: the last 14 stored days."""
    from datetime import timedelta

    from analytics.models import CandleSeries
    from analytics.services import backtest_create

    user = _user(principal)
    try:
        series_id = int(series_id)
    except (TypeError, ValueError):
        series_id = 0
    series = CandleSeries.objects.filter(pk=series_id).first() if 0 < series_id <= 2**31 - 1 else None
    if series is None or series.cursor is None:
        raise ToolRefused(f"No market data series {series_id}; call get_screener for series ids.", code="not_found")
    if not isinstance(config, dict):
        raise ToolRefused("config is a grid configuration object.", code="invalid")
    try:
        percent = int(in_sample_percent)
    except (TypeError, ValueError):
        percent = 0
    end = _iso(period_end, "period_end") if period_end else series.cursor + timedelta(minutes=1)
    start = _iso(period_start, "period_start") if period_start else end - timedelta(days=14)
    try:
        bt = backtest_create(
            user=user,
            series_id=series.pk,
            config=config,
            period_start=start,
            period_end=end,
            in_sample_percent=percent,
            name=str(name or "")[:80],
        )
    except Exception as exc:  # noqa: BLE001 - domain errors (quota, bad config) become refusals
        raise _translate(exc) from exc
    return {
        **_backtest_json(bt, full=False),
        "next": "The worker runs it in seconds to a minute; read it with get_backtest(backtest_id).",
    }


def get_backtest(principal: Principal, backtest_id: int) -> dict:
    from analytics.models import Backtest
    from analytics.selectors import backtest_of

    user = _user(principal)
    try:
        backtest_id = int(backtest_id)
    except (TypeError, ValueError):
        backtest_id = 0
    try:
        bt = backtest_of(user=user, backtest_id=backtest_id) if 0 < backtest_id <= 2**63 - 1 else None
    except Backtest.DoesNotExist:
        bt = None
    if bt is None:
        raise ToolRefused(f"No backtest {backtest_id} among yours.", code="not_found")
    return _backtest_json(bt, full=True)


def screener(principal: Principal, venue: str | None = None, category: str | None = None, sort: str = "-score") -> dict:
    from analytics.explain import FACTORS
    from analytics.selectors import SCREENER_SORTS, screener_list, series_json

    user = _user(principal)
    if sort.lstrip("-") not in SCREENER_SORTS:
        raise ToolRefused(f"sort is one of {', '.join(sorted(SCREENER_SORTS))}, '-' for descending.", code="invalid")
    if category not in (None, "", "spot", "linear"):
        raise ToolRefused("category is spot or linear.", code="invalid")
    language = user.language if getattr(user, "language", "") in ("ru", "en") else "ru"
    rows = screener_list(venue=(venue or "").lower()[:16], category=category or "", sort=sort, series_json=series_json)[
        :PAGE
    ]
    return json_safe(
        {
            "rows": rows,
            "explain": {name: words.get(language, words.get("en")) for name, words in FACTORS.items()},
        }
    )


# --- support: the troubleshooter and tickets -----------------------------------------------------
TICKET_WRITES_PER_HOUR = 10


def _language(user) -> str:
    return user.language if getattr(user, "language", "") in ("ru", "en") else "ru"


def troubleshoot_bot(principal: Principal, bot_id: int) -> dict:
    """Why isn't my bot trading: every cause found, most blocking first, in the user's language."""
    from support.services.diagnostics import bot_troubleshoot

    user = _user(principal)
    bot = _bot(user, bot_id)
    return json_safe(
        {"bot_id": bot.pk, "status": bot.status, "causes": bot_troubleshoot(bot=bot, language=_language(user))}
    )


def _ticket(user, ticket_id):
    from support.selectors import ticket_of

    try:
        ticket_id = int(ticket_id)
    except (TypeError, ValueError):
        ticket_id = 0
    ticket = ticket_of(user=user, ticket_id=ticket_id) if 0 < ticket_id <= 2**63 - 1 else None
    if ticket is None:
        raise ToolRefused(f"No ticket {ticket_id} among yours; call list_tickets.", code="not_found")
    return ticket


def _ticket_json(ticket) -> dict:
    from support.serializers import TicketDetailSerializer

    return json_safe(dict(TicketDetailSerializer(ticket).data))


def list_tickets(principal: Principal) -> list[dict]:
    from support.selectors import tickets_of
    from support.serializers import TicketSerializer

    user = _user(principal)
    listed: BaseSerializer = TicketSerializer(tickets_of(user=user)[:PAGE], many=True)
    return json_safe([dict(t) for t in listed.data])


def get_ticket(principal: Principal, ticket_id: int) -> dict:
    return _ticket_json(_ticket(_user(principal), ticket_id))


def _ticket_write(principal: Principal, tool: str, params: dict, do) -> dict:
    """Writing to support moves no money, so the read scope may (an assistant filing the user's
    question is the point); it is still rate limited and written to the audit log."""
    from datetime import timedelta

    from mcp_server.models import AuditEntry

    since = timezone.now() - timedelta(hours=1)
    written = AuditEntry.objects.filter(
        user_id=principal.user_id, tool__in=("open_ticket", "reply_ticket"), outcome="ok", created_at__gte=since
    ).count()
    if written >= TICKET_WRITES_PER_HOUR:
        raise ToolRefused(f"At most {TICKET_WRITES_PER_HOUR} support messages an hour.", code="rate_limited")
    try:
        result = do()
    except Exception as exc:  # noqa: BLE001
        refusal = _translate(exc)
        services.audit_record(
            principal=principal, tool=tool, params=params, outcome="refused", code=refusal.code, message=refusal.message
        )
        raise refusal from exc
    services.audit_record(principal=principal, tool=tool, params=params, outcome="ok", bot_id=params.get("bot_id"))
    return result


def open_ticket(
    principal: Principal, subject: str, body: str, queue: str | None = None, bot_id: int | None = None
) -> dict:
    """Open a support ticket; with bot_id (the user's own bot) it carries the bot's diagnostic
    snapshot, secrets redacted, as a ticket opened from the bot page does."""
    from support.models import TicketMessage
    from support.services import ticket_create

    if queue not in (None, "", "billing", "exchange", "bots", "partners"):
        raise ToolRefused("queue is billing, exchange, bots or partners.", code="invalid")
    params = {"subject": str(subject)[:200], "queue": queue or "", "bot_id": bot_id}

    def do():
        user = _user(principal)
        bot = _bot(user, bot_id) if bot_id is not None else None
        ticket = ticket_create(
            user=user, subject=str(subject), body=str(body), queue=queue or "", bot=bot, via=TicketMessage.Via.APP
        )
        return _ticket_json(ticket)

    return _ticket_write(principal, "open_ticket", params, do)


def reply_ticket(principal: Principal, ticket_id: int, body: str) -> dict:
    from support.services import ticket_message_add

    params = {"ticket_id": ticket_id}

    def do():
        user = _user(principal)
        ticket = _ticket(user, ticket_id)
        ticket_message_add(ticket=ticket, author=user, body=str(body))
        ticket.refresh_from_db()
        return _ticket_json(ticket)

    return _ticket_write(principal, "reply_ticket", params, do)
