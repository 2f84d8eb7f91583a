"""The troubleshooter ("why isn't my bot trading?") and the diagnostic snapshot a ticket opened
from a bot page carries. Both read only stored data (no call to the exchange): the bot's config
and state, its last events, its account's key check, the plan, the operators' switch.

Causes are checked in order of what blocks trading first; all that apply are returned, the
first is the answer shown."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone, translation
from django.utils.translation import gettext

from config.codes import EVENTS as EVENT_TEXTS
from config.codes import STOP_REASONS
from support.causes import CAUSES, cause_text

SECRET_WORDS = ("secret", "password", "token", "api_key", "apikey", "passphrase", "private")
RECENT = timedelta(hours=24)


def _d(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def redact(value):
    """Drop every value whose key looks like a secret, at any depth."""
    if isinstance(value, dict):
        return {
            k: ("[redacted]" if any(w in str(k).lower() for w in SECRET_WORDS) else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _event_words(event, language: str) -> str:
    """A bot log line in plain words in `language` (its code's text), else its stored message."""
    data = event.data or {}
    code, params = data.get("code"), data.get("params") or {}
    text = EVENT_TEXTS.get(code or "")
    if text:
        with translation.override(language):
            try:
                return gettext(text).format(**params)
            except (KeyError, IndexError, ValueError):
                pass
    return event.message


def _stop_words(code: str, language: str) -> str:
    text = STOP_REASONS.get(code or "", "")
    if not text:
        return ""
    with translation.override(language):
        return gettext(text)


def _finding(cause: str, language: str, **params) -> dict:
    title, fix = cause_text(cause=cause, params=params, language=language)
    return {
        "cause": cause,
        "title": title,
        "fix": fix,
        "article": CAUSES[cause]["article"],
        "params": {k: str(v) for k, v in params.items()},
    }


def _key_cause(account, now) -> str | None:
    from exchanges.models import ExchangeAccount

    status = account.status
    if status == ExchangeAccount.Status.EXPIRED or (account.key_expires_at and account.key_expires_at <= now):
        return "key_expired"
    if status in (ExchangeAccount.Status.REVOKED, ExchangeAccount.Status.INVALID):
        return "key_revoked"
    if status == ExchangeAccount.Status.UNDECRYPTABLE:
        return "key_undecryptable"
    if account.read_only:
        return "key_permissions"
    return None


def _plan_problem(bot) -> tuple[str, str] | None:
    from billing.selectors import bot_new_cycles_allowed
    from billing.services.entitlements import PlanLimitError, entitlement_check

    if bot.status in ("running", "starting") and not bot_new_cycles_allowed(bot_id=bot.pk):
        return "plan_hold", ""
    if bot.status in ("draft", "stopped"):
        try:
            entitlement_check(user=bot.user, action="bot_start", bot=bot)
        except PlanLimitError as exc:
            return "plan_limit", exc.message
    return None


def bot_troubleshoot(*, bot, language: str | None = None, now=None) -> list[dict]:
    """Every cause that keeps the bot from trading, most blocking first; [none] when all is well."""
    from bots.services.common import trading_halted

    now = now or timezone.now()
    language = language or (bot.user.language if bot.user.language in ("ru", "en") else "ru")
    account = bot.exchange_account
    config = bot.config or {}
    found: list[dict] = []
    if trading_halted():
        found.append(_finding("trading_halt", language))
    key = _key_cause(account, now)
    if key:
        found.append(_finding(key, language))
    plan = _plan_problem(bot)
    if plan:
        found.append(_finding(plan[0], language, detail=plan[1]))
    if bot.status == "stopped":
        reason = _stop_words(bot.stop_code, language) or bot.stop_reason or "?"
        found.append(_finding("bot_stopped", language, reason=reason))
    elif bot.status == "draft":
        found.append(_finding("not_started", language))
    if bot.awaiting_trigger:
        found.append(_finding("awaiting_trigger", language, trigger=config.get("trigger_price", "")))
    low, high, price = _d(config.get("lower_price")), _d(config.get("upper_price")), _d(bot.last_price)
    if low is not None and high is not None and price is not None and not (low <= price <= high):
        found.append(_finding("price_out_of_range", language, price=_fmt(price), low=_fmt(low), high=_fmt(high)))
    _balance_and_minimum(bot, config, language, found)
    errors = list(
        bot.events.filter(level="error", created_at__gte=now - RECENT).order_by("-created_at", "-id")[:5]
        if bot.pk
        else []
    )
    if errors and not any(f["cause"] in ("insufficient_balance", "key_revoked", "key_expired") for f in found):
        words = _event_words(errors[0], language)
        if "balance" in words.lower() or "insufficient" in words.lower() or "недостаточно" in words.lower():
            found.append(_finding("insufficient_balance", language, need="?", have="?", coin=_quote(bot)))
        else:
            found.append(_finding("exchange_errors", language, error=words))
    return found or [_finding("none", language)]


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _quote(bot) -> str:
    return ((bot.instrument or {}).get("quote_coin") or "USDT").upper()


def _balance_and_minimum(bot, config: dict, language: str, found: list[dict]) -> None:
    investment = _d(bot.investment) or _d(config.get("investment"))
    count = config.get("grid_count")
    coin = _quote(bot)
    minimum = _d((bot.instrument or {}).get("min_notional"))
    if investment and count:
        try:
            per_order = investment / Decimal(int(count))
        except (ValueError, ZeroDivisionError, InvalidOperation):
            per_order = None
        if per_order is not None and minimum and per_order < minimum:
            found.append(
                _finding(
                    "below_minimum",
                    language,
                    per_order=_fmt(per_order.quantize(Decimal("0.01"))),
                    minimum=_fmt(minimum),
                    coin=coin,
                )
            )
    if bot.status in ("draft", "stopped") and investment:
        balances = bot.exchange_account.balances or {}
        have = _d(balances.get(coin))
        if have is not None and have < investment:
            found.append(_finding("insufficient_balance", language, need=_fmt(investment), have=_fmt(have), coin=coin))


def bot_snapshot(*, bot, now=None) -> dict:
    """What staff need to see when a ticket comes from a bot page: config and state, last events
    and exchange errors in plain words, the key check, the venue and mode. Secrets redacted."""
    now = now or timezone.now()
    account = bot.exchange_account
    language = "en"  # staff read the snapshot in admin
    events = list(bot.events.order_by("-created_at", "-id")[:20])
    position = getattr(bot, "position", None) if hasattr(bot, "position") else None
    return {
        "taken_at": now.isoformat(),
        "bot": {
            "id": bot.pk,
            "name": bot.name,
            "symbol": bot.symbol,
            "category": bot.category,
            "status": bot.status,
            "run": bot.generation,
            "stop_code": bot.stop_code,
            "stop_reason": _stop_words(bot.stop_code, language) or bot.stop_reason,
            "stop_detail": bot.stop_reason,
            "last_error": bot.last_error[:500],
            "last_price": None if bot.last_price is None else _fmt(bot.last_price),
            "investment": _fmt(bot.investment),
            "started_at": bot.started_at.isoformat() if bot.started_at else None,
            "stopped_at": bot.stopped_at.isoformat() if bot.stopped_at else None,
            "last_tick_at": bot.last_tick_at.isoformat() if bot.last_tick_at else None,
            "restart_count": bot.restart_count,
            "awaiting_trigger": bot.awaiting_trigger,
            "config": redact(bot.config or {}),
            "instrument": bot.instrument or {},
            "position": None
            if position is None
            else {
                "side": position.side,
                "size": _fmt(position.size),
                "entry_price": None if position.entry_price is None else _fmt(position.entry_price),
            },
        },
        "venue": {
            "exchange": account.exchange.code,
            "mode": account.environment,
            "account": account.label,
        },
        "key_check": {
            "status": account.status,
            "status_reason": account.status_reason,
            "read_only": account.read_only,
            "permissions": redact(account.permissions or {}),
            "key_expires_at": account.key_expires_at.isoformat() if account.key_expires_at else None,
            "validated_at": account.validated_at.isoformat() if account.validated_at else None,
            "key": account.api_key_hint,
        },
        "events": [
            {"at": e.created_at.isoformat(), "level": e.level, "kind": e.kind, "text": _event_words(e, language)}
            for e in events
        ],
        "exchange_errors": [
            {"at": e.created_at.isoformat(), "text": _event_words(e, language)} for e in events if e.level == "error"
        ],
        "troubleshooter": bot_troubleshoot(bot=bot, language=language, now=now),
    }
