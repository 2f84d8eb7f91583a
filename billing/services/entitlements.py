"""Entitlements: the one check every service calls before it lets a user do something a plan
limits (create or start a live bot, run a backtest, join a pool, use the API/MCP).

Paper trading is free on every venue. Refusals are DomainErrors with a `code` the app renders
from its locale (frontend/i18n/locales/*.json, keys billing.errors.<code>) and an upgrade path."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import status

from billing import selectors
from config.errors import DomainError

UPGRADE_URL = "/pricing"


class PlanLimitError(DomainError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    code = "plan_limit"

    def __init__(self, message: str, *, code: str, plan, limit=None):
        fields = {"plan": [plan.code], "upgrade_url": [UPGRADE_URL]}
        if limit is not None:
            fields["limit"] = [str(limit)]
        super().__init__(message, code=code, fields=fields)
        self.plan_code = plan.code
        self.limit = limit


def _bot_check(*, user, exchange_account, investment: Decimal | None, bot_id: int | None) -> None:
    from exchanges.models import ExchangeAccount

    if exchange_account.environment == ExchangeAccount.Environment.PAPER:
        return  # paper trading is free on every plan and every venue
    plan = selectors.plan_effective(user=user)
    others = selectors.live_bots(user=user, exclude_bot_id=bot_id)
    if plan.max_live_bots is not None and others.count() >= plan.max_live_bots:
        raise PlanLimitError(
            f"Your plan ({plan.name_en}) allows {plan.max_live_bots} live bot(s). "
            "Stop one or upgrade your plan to run more.",
            code="plan_limit_live_bots",
            plan=plan,
            limit=plan.max_live_bots,
        )
    if plan.max_live_investment is not None and investment is not None:
        running = sum((b.investment for b in others), Decimal(0))
        if running + investment > plan.max_live_investment:
            raise PlanLimitError(
                f"Your plan ({plan.name_en}) allows up to {plan.max_live_investment} USDT invested in live bots "
                f"(already {running.normalize():f}). Lower the investment or upgrade your plan.",
                code="plan_limit_investment",
                plan=plan,
                limit=plan.max_live_investment,
            )
    if plan.max_exchanges is not None:
        venues = set(others.values_list("exchange_account__exchange_id", flat=True))
        venues.add(exchange_account.exchange_id)
        if len(venues) > plan.max_exchanges:
            raise PlanLimitError(
                f"Your plan ({plan.name_en}) allows live bots on {plan.max_exchanges} exchange(s). Upgrade to add more.",
                code="plan_limit_exchanges",
                plan=plan,
                limit=plan.max_exchanges,
            )


def entitlement_check(
    *,
    user,
    action: str,
    bot=None,
    exchange_account=None,
    investment: Decimal | None = None,
    used_today: int = 0,
    pools_joined: int = 0,
) -> None:
    """Raise PlanLimitError when the user's plan does not allow `action`.

    action: "bot_create" / "bot_start" (pass bot, or exchange_account + investment),
    "backtest_run" (used_today = backtests already run today), "pool_join" (pools_joined),
    "api_access"."""
    if action in ("bot_create", "bot_start"):
        account = exchange_account if exchange_account is not None else bot.exchange_account
        amount = investment if investment is not None else (bot.investment if bot is not None else None)
        _bot_check(user=user, exchange_account=account, investment=amount, bot_id=bot.pk if bot is not None else None)
        return
    plan = selectors.plan_effective(user=user)
    if action == "backtest_run":
        if plan.backtests_per_day is not None and used_today >= plan.backtests_per_day:
            raise PlanLimitError(
                f"Your plan ({plan.name_en}) allows {plan.backtests_per_day} backtest(s) a day.",
                code="plan_limit_backtests",
                plan=plan,
                limit=plan.backtests_per_day,
            )
        return
    if action == "pool_join":
        if plan.max_pools is not None and pools_joined >= plan.max_pools:
            raise PlanLimitError(
                f"Your plan ({plan.name_en}) allows joining {plan.max_pools} pool(s).",
                code="plan_limit_pools",
                plan=plan,
                limit=plan.max_pools,
            )
        return
    if action == "api_access":
        if not plan.api_access:
            raise PlanLimitError(
                f"API and MCP access is not part of your plan ({plan.name_en}).", code="plan_limit_api", plan=plan
            )
        return
    raise ValueError(f"unknown billing action {action!r}")
