"""'Why isn't my bot trading?': for each common cause, the troubleshooter names it first,
in the user's language, with the fix and the knowledge-base article (which exists)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bots.models import Bot, BotEvent, TradingSwitch
from exchanges.models import ExchangeAccount
from support.models import Article
from support.services.diagnostics import bot_snapshot, bot_troubleshoot
from tests.factories import BotEventFactory, BotFactory, ExchangeAccountFactory, UserFactory, grid_config

pytestmark = pytest.mark.django_db

RULES = {"quote_coin": "USDT", "base_coin": "BTC", "min_notional": "5", "min_qty": "0.000001"}


def running(**extra) -> dict:
    return {"status": Bot.Status.RUNNING, "last_price": Decimal("55000"), "instrument": RULES, **extra}


def halt(bot):
    TradingSwitch.objects.update_or_create(pk=1, defaults={"halted": True, "reason": "exchange incident"})


def account(**fields):
    def apply(bot):
        ExchangeAccount.objects.filter(pk=bot.exchange_account_id).update(**fields)

    return apply


def error_event(message, code="order_refused", params=None):
    def apply(bot):
        BotEventFactory(bot=bot, kind=BotEvent.Kind.ERROR, level=BotEvent.Level.ERROR, message=message,
                        data={"code": code, "params": params or {}})  # fmt: skip

    return apply


def other_live_bot(bot):
    """The free plan allows one live bot: another one already runs."""
    BotFactory(user=bot.user, exchange_account=bot.exchange_account, status=Bot.Status.RUNNING)


LIVE = ExchangeAccount.Environment.MAINNET

# (case, bot fields, account environment, setup, expected cause, words in the Russian title)
CASES = [
    ("price above the range", running(last_price=Decimal("61000")), None, None, "price_out_of_range", "вне диапазона"),
    ("price below the range", running(last_price=Decimal("49000")), None, None, "price_out_of_range", "вне диапазона"),
    ("balance too small to start", {"status": Bot.Status.STOPPED, "stop_code": "user", "instrument": RULES}, None,
     account(balances={"USDT": "120"}), "bot_stopped", "остановлен"),
    ("insufficient balance in the last errors", running(), None,
     error_event("The exchange refused the Buy order at 54000: insufficient balance",
                 params={"side": "Buy", "price": "54000", "error": "insufficient balance"}),
     "insufficient_balance", "Недостаточно средств"),
    ("key expired", running(), None, account(status=ExchangeAccount.Status.EXPIRED), "key_expired", "истёк"),
    ("key expiry date passed", running(), None, account(key_expires_at=timezone.now() - timedelta(hours=1)),
     "key_expired", "истёк"),
    ("key revoked", running(), None, account(status=ExchangeAccount.Status.REVOKED), "key_revoked", "не принимает"),
    ("keys undecryptable", running(), None, account(status=ExchangeAccount.Status.UNDECRYPTABLE),
     "key_undecryptable", "нельзя использовать"),
    ("read-only key", running(), None, account(read_only=True), "key_permissions", "нет права торговли"),
    ("plan limit", {"status": Bot.Status.DRAFT, "instrument": RULES}, LIVE, other_live_bot, "plan_limit", "лимит тарифа"),
    ("exchange errors", running(), None,
     error_event("Could not close at market: timeout", code="close_failed", params={"error": "timeout"}),
     "exchange_errors", "отклоняет"),
    ("trading halt", running(), None, halt, "trading_halt", "приостановлена"),
    ("stopped by take-profit", {"status": Bot.Status.STOPPED, "stop_code": "take_profit"}, None, None,
     "bot_stopped", "тейк-профит"),
    ("orders below the venue minimum", running(instrument={**RULES, "min_notional": "150"}), None, None,
     "below_minimum", "меньше минимума"),
    ("waiting for the trigger", running(awaiting_trigger=True), None, None, "awaiting_trigger", "ждёт"),
    ("never started", {"status": Bot.Status.DRAFT}, None, None, "not_started", "не запущен"),
    ("all is well", running(), None, None, "none", "не найдено"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "fields", "environment", "setup", "cause", "words"), CASES, ids=[c[0] for c in CASES])
def test_the_troubleshooter_names_the_cause(case, fields, environment, setup, cause, words):
    user = UserFactory(language="ru")
    acc = ExchangeAccountFactory(user=user, **({"environment": environment} if environment else {}))
    bot = BotFactory(user=user, exchange_account=acc, config=grid_config(), **fields)
    if setup:
        setup(bot)
    bot = Bot.objects.select_related("user", "exchange_account__exchange").get(pk=bot.pk)
    findings = bot_troubleshoot(bot=bot)
    first = findings[0]
    assert first["cause"] == cause, findings
    assert words in first["title"], first
    assert first["fix"] and "{" not in first["fix"]  # every parameter of the text was filled in
    assert Article.objects.filter(slug=first["article"], language="ru").exists()


def test_the_answer_is_in_english_for_an_english_user():
    user = UserFactory(language="en")
    bot = BotFactory(user=user, config=grid_config(), **running(last_price=Decimal("61000")))
    first = bot_troubleshoot(bot=bot)[0]
    assert first["title"] == "The price is outside the grid's range"
    assert "61000" in first["fix"] and "50000" in first["fix"] and "60000" in first["fix"]


def test_a_stopped_bot_with_too_little_money_is_told_both():
    user = UserFactory(language="en")
    acc = ExchangeAccountFactory(user=user, balances={"USDT": "120"})
    bot = BotFactory(user=user, exchange_account=acc, config=grid_config(), status=Bot.Status.STOPPED, stop_code="user",
                     instrument=RULES)  # fmt: skip
    causes = [f["cause"] for f in bot_troubleshoot(bot=bot)]
    assert causes[0] == "bot_stopped" and "insufficient_balance" in causes
    balance = next(f for f in bot_troubleshoot(bot=bot) if f["cause"] == "insufficient_balance")
    assert "1000 USDT" in balance["fix"] and "120 USDT" in balance["fix"]


def test_the_snapshot_redacts_secrets_and_says_errors_in_plain_words():
    user = UserFactory(language="ru")
    acc = ExchangeAccountFactory(user=user, environment=LIVE, permissions={"spot": ["Trade"], "api_secret": "x"})
    bot = BotFactory(user=user, exchange_account=acc, config=grid_config(webhook_token="tok-123"), instrument=RULES,
                     status=Bot.Status.STOPPED, stop_code="auth_failed", stop_reason="API key invalid (10003)")  # fmt: skip
    error_event("Stopped at once: API key invalid", code="stopped_fatal", params={"error": "API key invalid"})(bot)
    snap = bot_snapshot(bot=bot)
    text = str(snap)
    assert acc.api_secret not in text and acc.api_key not in text and "tok-123" not in text
    assert snap["bot"]["config"]["webhook_token"] == "[redacted]"
    assert snap["venue"] == {"exchange": "bybit", "mode": "mainnet", "account": acc.label}
    assert snap["key_check"]["permissions"]["spot"] == ["Trade"]
    assert snap["bot"]["stop_reason"] == "The exchange no longer accepts the API key"
    assert snap["exchange_errors"][0]["text"].startswith("Stopped at once: API key invalid")
    # a restart would also meet the free plan's investment limit (500 USDT): both are told
    assert {"bot_stopped", "plan_limit"} <= {f["cause"] for f in snap["troubleshooter"]}
