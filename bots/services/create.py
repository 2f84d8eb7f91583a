"""Creating a bot: validate the configuration, build the pre-launch report with the engine from
the exchange's rules, price, fees, balances and the last 24 hours, refuse what must be refused."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from billing.services import entitlement_check
from bots.events import emit
from bots.log import bot_event
from bots.models import Bot, BotEvent
from bots.services.common import client_for_account, require_trading_allowed
from config.errors import ConflictError, DomainError
from exchanges.client import Category
from exchanges.errors import AuthenticationFailed, ExchangeError, InvalidRequest, TemporaryExchangeError

_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+\s*$")


def _decimal_commas(config: dict) -> dict:
    """A decimal comma ("54000,5", as typed in Russian) reads as the point it means."""
    return {
        key: value.replace(",", ".") if isinstance(value, str) and _DECIMAL_COMMA.match(value) else value
        for key, value in config.items()
    }


def _config(config: dict):
    from bots.engine.config import ConfigError, GridConfig

    config = _decimal_commas(config) if isinstance(config, dict) else config

    try:
        try:
            from bots.schemas import validate_grid_config
        except ImportError:  # schemas not written yet: the engine's own parser
            validate_grid_config = GridConfig.from_json
        return validate_grid_config(config)
    except ConfigError as exc:
        errors = getattr(exc, "errors", None) or {}
        message = next(iter(errors.values()), None) or str(exc) or "The grid configuration is invalid."
        raise DomainError(message, code="invalid_config", fields={k: [v] for k, v in errors.items()}) from exc


def bot_preview(*, user, exchange_account, symbol: str, category: str, config: dict):
    """Return the engine's LaunchReport for this configuration (nothing is stored)."""
    from bots.engine.candles import Candle
    from bots.engine.config import ConfigError
    from bots.engine.report import build_report

    if exchange_account.user_id != user.pk:
        raise DomainError("No such exchange account.", code="not_found", status_code=404)
    grid = _config(config)
    expected = "linear_grid" if category == Bot.Category.LINEAR else "spot_grid"
    if str(getattr(grid.strategy, "value", grid.strategy)) != expected:
        raise DomainError(
            f"A {category} bot needs the {expected} strategy.",
            code="invalid_config",
            fields={"strategy": [f"Use {expected} for {category}."]},
        )
    client = client_for_account(exchange_account)
    cat = Category(category)
    try:
        rules = client.instrument_rules(category=cat, symbol=symbol)
        ticker = client.ticker(category=cat, symbol=symbol)
        fees = client.fee_rates(category=cat, symbol=symbol)
        balances = {coin: b.free for coin, b in client.balances().items()}
        klines = client.klines(category=cat, symbol=symbol, interval="60", limit=24)
    except AuthenticationFailed as exc:
        raise DomainError(
            "The exchange refused this account's API key; bind the keys again.", code="exchange_auth"
        ) from exc
    except InvalidRequest as exc:
        raise DomainError(
            f"The exchange does not offer {symbol} ({category}).",
            code="invalid_symbol",
            fields={"symbol": ["Unknown symbol."]},
        ) from exc
    except (TemporaryExchangeError, ExchangeError) as exc:
        raise DomainError(
            "The exchange is not answering right now; try again in a minute.",
            code="exchange_unavailable",
            status_code=503,
        ) from exc
    candles = [
        Candle(time=int(k.start.timestamp()), open=k.open, high=k.high, low=k.low, close=k.close, volume=k.volume)
        for k in klines
    ]
    try:
        return build_report(grid, rules, price=ticker.last_price, fees=fees, balances=balances, candles=candles)
    except ConfigError as exc:
        errors = getattr(exc, "errors", None) or {}
        raise DomainError(
            next(iter(errors.values()), None) or str(exc),
            code="invalid_config",
            fields={k: [v] for k, v in errors.items()},
        ) from exc


def bot_create(
    *, user, exchange_account, name: str, symbol: str, category: str, config: dict, accept_warnings: bool = False
) -> Bot:
    """Create a draft bot after the pre-launch report. Blocking reports are refused; warnings
    must be accepted explicitly."""
    require_trading_allowed(user=user)
    if exchange_account.status != exchange_account.Status.ACTIVE:
        raise ConflictError("This exchange account's keys are not usable; bind them again.", code="account_inactive")
    grid = _config(config)
    entitlement_check(user=user, action="bot_create", exchange_account=exchange_account, investment=grid.investment)
    report = bot_preview(user=user, exchange_account=exchange_account, symbol=symbol, category=category, config=config)
    report_json = report.to_json()
    if report.blocking:
        blocking = [w.message for w in report.warnings if getattr(w, "blocking", w.severity == "danger")]
        blocking = blocking or ["The grid cannot run as set."]
        raise DomainError(blocking[0], code="report_blocking", fields={"config": blocking})
    warnings = [w for w in report.warnings if w.severity != "info"]
    if warnings and not accept_warnings:
        raise DomainError(
            "Please read and accept the warnings before creating the bot: " + warnings[0].message,
            code="warnings_not_accepted",
            fields={"accept_warnings": [w.message for w in warnings]},
        )
    with transaction.atomic():
        bot = Bot.objects.create(
            user=user,
            exchange_account=exchange_account,
            name=name,
            symbol=symbol,
            category=category,
            config=grid.to_json(),
            report=report_json,
            warnings_accepted_at=timezone.now() if warnings else None,
            investment=grid.investment,
        )
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.CREATED,
            message=f"Bot created: {symbol} grid, investment {grid.investment}",
            data={"warnings": [w.code for w in warnings]},
            code="created",
            params={"symbol": symbol, "investment": grid.investment},
        )
    return bot


def bot_delete(*, bot: Bot, user=None) -> None:
    """Delete a draft or stopped bot (its orders and trades go with it)."""
    if user is not None and bot.user_id != user.pk:
        raise DomainError("No such bot.", code="not_found", status_code=404)
    if bot.status not in (Bot.Status.DRAFT, Bot.Status.STOPPED):
        raise ConflictError("Stop the bot before deleting it.", code="bot_active")
    bot.delete()


def bot_reconfigure(*, bot: Bot, user, config: dict, accept_warnings: bool = False) -> Bot:
    """Give a stopped (or draft) bot a new configuration (a new range, grid count, investment)
    after a fresh pre-launch report; the next start runs it. Same refusals as creating a bot.
    The profit book of the bot continues (it knows no runs)."""
    if bot.user_id != user.pk:
        raise DomainError("No such bot.", code="not_found", status_code=404)
    if bot.status not in (Bot.Status.DRAFT, Bot.Status.STOPPED):
        raise ConflictError("Stop the bot before changing its range.", code="bot_active")
    grid = _config(config)
    report = bot_preview(
        user=user, exchange_account=bot.exchange_account, symbol=bot.symbol, category=bot.category, config=config
    )
    if report.blocking:
        blocking = [w.message for w in report.warnings if w.blocking] or ["The grid cannot run as set."]
        raise DomainError(blocking[0], code="report_blocking", fields={"config": blocking})
    warnings = [w for w in report.warnings if w.severity != "info"]
    if warnings and not accept_warnings:
        raise DomainError(
            "Please read and accept the warnings before creating the bot: " + warnings[0].message,
            code="warnings_not_accepted",
            fields={"accept_warnings": [w.message for w in warnings]},
        )
    with transaction.atomic():
        updated = Bot.objects.filter(pk=bot.pk, status__in=[Bot.Status.DRAFT, Bot.Status.STOPPED]).update(
            config=grid.to_json(),
            investment=grid.investment,
            report=report.to_json(),
            warnings_accepted_at=timezone.now() if warnings else None,
            updated_at=timezone.now(),
        )
        if not updated:
            raise ConflictError("Stop the bot before changing its range.", code="bot_active")
        bot.refresh_from_db()
        bot_event(
            bot=bot,
            kind=BotEvent.Kind.INFO,
            message=f"New range {grid.lower_price}–{grid.upper_price}, {grid.grid_count} grids",
            data={},
            code="reconfigured",
            params={"lower": grid.lower_price, "upper": grid.upper_price, "grids": grid.grid_count},
        )
        emit(bot=bot, event="bot.status", data={"status": bot.status})
    return bot
