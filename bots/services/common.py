"""Shared helpers of the bot services: the exchange client of a bot, the trading switch, the
tick lease and the instrument rules captured at start."""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from bots.models import Bot, TradingSwitch
from config.errors import DomainError
from exchanges.client import Category, ExchangeClient, InstrumentRules


def client_for_account(account) -> ExchangeClient:
    """The exchange client of an account (exchanges.factory). Tests replace this function."""
    from exchanges.factory import client_for_account as factory

    return factory(account)


def client_for_bot(bot: Bot) -> ExchangeClient:
    return client_for_account(bot.exchange_account)


def bot_refresh(bot: Bot) -> None:
    """Reload the bot's row in a tick, keeping the exchange account (and its exchange) and the
    owner it loaded: the tick never changes those rows, and refresh_from_db() drops them (two
    more queries the next time the tick names the account)."""
    state = bot._state.fields_cache
    kept = {name: state[name] for name in ("exchange_account", "user") if name in state}
    bot.refresh_from_db()
    state.update(kept)


# --- the last price, shared ----------------------------------------------------------------

PRICE_KEY = "setka:last-price:{}:{}:{}:{}"  # venue, environment, category, symbol
PRICE_TTL = 5  # seconds


def last_price(*, client: ExchangeClient, account, category: Category, symbol: str, fresh: bool = False) -> Decimal:
    """The symbol's last price, read at most once per PRICE_TTL per venue and environment (paper,
    testnet and live prices differ) and shared by every process through the cache; `fresh`:
    read it now (and share it)."""
    venue = getattr(account.exchange, "code", "") or "unknown"
    key = PRICE_KEY.format(venue, account.environment, category, symbol)
    cached = None if fresh else cache.get(key)
    if cached is not None:
        return Decimal(cached)
    price = client.ticker(category=category, symbol=symbol).last_price
    cache.set(key, str(price), PRICE_TTL)
    return price


# --- the operators' switch -----------------------------------------------------------------


def trading_switch() -> TradingSwitch:
    switch, _ = TradingSwitch.objects.get_or_create(pk=1)
    return switch


def halt_switched():
    """The admin's switch row while it halts trading (empty otherwise): a queryset, so a check
    can fold it into its own query (bots.services.tick_context.still_running)."""
    return TradingSwitch.objects.filter(pk=1, halted=True)


def trading_halted() -> bool:
    """True when operators stopped all trading (setting or the admin switch)."""
    if settings.SETKA_TRADING_HALTED:
        return True
    return halt_switched().exists()


def require_trading_allowed(*, user=None) -> None:
    if trading_halted():
        raise DomainError(
            "Trading is halted by the operators; bots cannot start right now.", code="trading_halted", status_code=409
        )
    if user is not None and not user.has_trading_access:
        raise DomainError(
            "Your account has no trading access yet. Redeem an access code or contact support.",
            code="no_access",
            status_code=403,
        )


# --- the tick lease ------------------------------------------------------------------------


def lease_owner_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{threading.get_ident() % 10**8}"


def lease_acquire(*, bot_id: int, owner: str, seconds: int | None = None) -> bool:
    """Take the bot's lease with one conditional UPDATE (free, expired, or already ours)."""
    now = timezone.now()
    seconds = seconds or settings.SETKA_BOT_LEASE_SECONDS
    taken = (
        Bot.objects.filter(pk=bot_id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner))
        .update(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
    )
    return taken == 1


def lease_release(*, bot_id: int, owner: str) -> None:
    Bot.objects.filter(pk=bot_id, lease_owner=owner).update(lease_owner="", lease_until=None)


# --- instrument rules captured at start ----------------------------------------------------


def rules_to_json(rules: InstrumentRules) -> dict:
    return {
        "symbol": rules.symbol,
        "category": str(rules.category),
        "base_coin": rules.base_coin,
        "quote_coin": rules.quote_coin,
        "tick_size": str(rules.tick_size),
        "qty_step": str(rules.qty_step),
        "min_qty": str(rules.min_qty),
        "max_qty": str(rules.max_qty),
        "min_notional": str(rules.min_notional),
        "max_leverage": None if rules.max_leverage is None else str(rules.max_leverage),
        "status": rules.status,
    }


def rules_from_json(data: dict) -> InstrumentRules:
    return InstrumentRules(
        symbol=data["symbol"],
        category=Category(data["category"]),
        base_coin=data["base_coin"],
        quote_coin=data["quote_coin"],
        tick_size=Decimal(data["tick_size"]),
        qty_step=Decimal(data["qty_step"]),
        min_qty=Decimal(data["min_qty"]),
        max_qty=Decimal(data["max_qty"]),
        min_notional=Decimal(data["min_notional"]),
        max_leverage=None if data.get("max_leverage") is None else Decimal(data["max_leverage"]),
        status=data.get("status", "Trading"),
    )


def grid_config(bot: Bot):
    from bots.engine.config import GridConfig

    return GridConfig.from_json(bot.config)
