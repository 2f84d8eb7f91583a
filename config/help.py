"""Which knowledge-base article (support.Article slug, seeded in Russian and English) tells a
person how to fix each error they can meet: why a bot stopped (Bot.stop_code), the error lines
of a bot's log (BotEvent code), the exchange's errors (the classes of exchanges.errors that a
bot's last_error names) and the troubleshooter's causes (support.causes, which name their own).
The app links "How to fix" to /help/<slug>. tests/support/test_help_links.py walks every code
and checks its article exists in both languages and the link reaches the API and notifications."""

from __future__ import annotations

EXCHANGE_ERRORS_ARTICLE = "exchange-errors"

# Why a bot stopped (config.codes.STOP_REASONS).
STOP_ARTICLES: dict[str, str] = {
    "user": "bot-stopped",
    "emergency": "bot-stopped",
    "operator": "trading-halt",
    "halt": "trading-halt",
    "access_revoked": "trading-access",
    "pool_paused": "pools-following",
    "pool_follow": "pools-following",
    "pool_left": "pools-following",
    "take_profit": "take-profit-stop-loss",
    "stop_loss": "take-profit-stop-loss",
    "launch_failed": "launch-failed",
    "auth_failed": "api-key-problems",
    "liquidated": "liquidation",
    "errors": "exchange-errors",
}

# The error and warning lines of a bot's log (config.codes.EVENTS).
EVENT_ARTICLES: dict[str, str] = {
    "launch_failed": "launch-failed",
    "order_refused": "exchange-errors",
    "order_missing": "exchange-errors",
    "stuck_levels": "exchange-errors",
    "close_failed": "exchange-errors",
    "exchange_slow": "exchange-errors",
    "stopped_fatal": "api-key-problems",
    "stop_retry": "exchange-errors",
    "gave_up": "exchange-errors",
    "error_restart": "exchange-errors",
}

# The exchange's errors by class (exchanges.errors); a bot's last_error starts with the name.
EXCHANGE_ARTICLES: dict[str, str] = {
    "ExchangeError": "exchange-errors",
    "TemporaryExchangeError": "exchange-errors",
    "RateLimited": "exchange-errors",
    "AmbiguousOutcome": "exchange-errors",
    "AuthenticationFailed": "api-key-problems",
    "PermissionDenied": "api-key-problems",
    "InvalidRequest": "exchange-errors",
    "NotSupported": "exchange-errors",
    "OrderRejected": "exchange-errors",
    "InsufficientBalance": "insufficient-balance",
    "InvalidOrder": "order-minimum",
    "TooManyOpenOrders": "too-many-orders",
    "DuplicateClientOrderId": "exchange-errors",
    "OrderNotFound": "exchange-errors",
    "OrderAlreadyClosed": "exchange-errors",
    "PositionLiquidated": "liquidation",
}


def stop_article(code: str) -> str | None:
    return STOP_ARTICLES.get(code or "")


def event_article(code: str) -> str | None:
    return EVENT_ARTICLES.get(code or "")


def line_article(data: dict) -> str | None:
    """The article for a bot log line (BotEvent.data): the exchange error it names (data["error"]
    is the class for errors the engine caught), else its code's."""
    if not isinstance(data, dict):
        return None
    named = data.get("error")
    if isinstance(named, str) and named in EXCHANGE_ARTICLES:
        return EXCHANGE_ARTICLES[named]
    return event_article(data.get("code") or "")


def error_article(last_error: str) -> str | None:
    """The article for a bot's last_error ("ClassName: detail"); any other error is an
    exchange error in plain words."""
    if not last_error:
        return None
    name = last_error.split(":", 1)[0].strip()
    return EXCHANGE_ARTICLES.get(name, EXCHANGE_ERRORS_ARTICLE)


def bot_article(*, status: str, stop_code: str, last_error: str) -> str | None:
    """What the bot page's error/status area links to: why it stopped, else its last error."""
    if status in ("stopped", "stopping") and stop_code:
        return stop_article(stop_code) or error_article(last_error)
    return error_article(last_error)


def help_path(slug: str | None) -> str:
    return f"/help/{slug}" if slug else ""
