"""What the bot answers to each command, computed from the database (sync; handlers call these
through sync_to_async). Every answer is for the chat's linked user only: a stranger's chat, or a
bot number that belongs to someone else, gets the same answer as a bot that does not exist."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from apicommon.api import plain_decimal
from billing.selectors import subscription_of
from bots.models import Bot
from bots.selectors import bot_get, bot_list, user_bots
from bots.services.stop import STOPPABLE, bot_stop
from metrics.selectors import metrics_figures, user_metrics_totals
from telegram_bot import integration, stars
from telegram_bot.selectors import link_for_chat
from telegram_bot.services import LINK_PREFIX, link_redeem
from telegram_bot.texts import lang_of, status_name, t


@dataclass
class Reply:
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (label, callback data)


def _user_language(user) -> str:
    return lang_of(getattr(user, "language", None) or settings.LANGUAGE_CODE)


def _bot_number(args: str | None) -> int | None:
    try:
        value = int((args or "").strip().lstrip("#"))
    except ValueError:
        return None
    return value if 0 < value < 2**63 else None


def reply_start(*, chat_id: int, args: str | None, username: str, language_code: str | None) -> Reply:
    args = (args or "").strip()
    if args.startswith(LINK_PREFIX):
        link = link_redeem(token=args[len(LINK_PREFIX) :], chat_id=chat_id, username=username)
        if link is None:
            return Reply(t("link_failed", language_code))
        return Reply(t("linked", _user_language(link.user), email=link.user.email))
    link = link_for_chat(chat_id=chat_id)
    if link is None:
        return Reply(t("hello_stranger", language_code))
    return Reply(t("hello_linked", _user_language(link.user)))


def reply_command(*, chat_id: int, command: str, args: str | None, language_code: str | None) -> Reply:
    """/status, /bots, /bot N, /profit, /stop N, /support, /done for a linked chat."""
    link = link_for_chat(chat_id=chat_id)
    if link is None:
        return Reply(t("hello_stranger", language_code))
    user, lang = link.user, _user_language(link.user)
    if command == "status":
        totals = user_metrics_totals(bots=user_bots(user=user))
        return Reply(
            t(
                "status",
                lang,
                active=totals["active_bot_count"],
                total=totals["bot_count"],
                invested=plain_decimal(totals["invested"]),
                total_pnl=plain_decimal(totals["total_pnl"]),
            )
        )
    if command == "bots":
        bots = list(bot_list(user=user).exclude(status=Bot.Status.DRAFT).order_by("pk")[:50])
        if not bots:
            return Reply(t("no_bots", lang))
        lines = [t("bots_header", lang)] + [
            t("bot_line", lang, id=b.pk, name=b.name, symbol=b.symbol, status=status_name(b.status, lang)) for b in bots
        ]
        return Reply("\n".join(lines))
    if command == "bot":
        number = _bot_number(args)
        if number is None:
            return Reply(t("bot_usage", lang))
        bot = user_bots(user=user).filter(pk=number).first()
        if bot is None:
            return Reply(t("no_such_bot", lang, id=number))
        figures = metrics_figures(bot=bot, metrics=getattr(bot, "metrics", None))
        return Reply(
            t(
                "bot_detail",
                lang,
                id=bot.pk,
                name=bot.name,
                symbol=bot.symbol,
                status=status_name(bot.status, lang),
                invested=plain_decimal(figures["invested"]),
                grid_profit=plain_decimal(figures["grid_profit"]),
                total_pnl=plain_decimal(figures["total_pnl"]),
                cycles=figures["cycle_count"],
            )
        )
    if command == "profit":
        totals = user_metrics_totals(bots=user_bots(user=user))
        return Reply(
            t(
                "profit",
                lang,
                grid_profit=plain_decimal(totals["grid_profit"]),
                unrealized=plain_decimal(totals["unrealized_pnl"]),
                fees=plain_decimal(totals["fees"]),
                cycles_24h=totals["cycle_count_24h"],
            )
        )
    if command == "stop":
        number = _bot_number(args)
        if number is None:
            return Reply(t("stop_usage", lang))
        bot = bot_get(user=user, bot_id=number)
        if bot is None:
            return Reply(t("no_such_bot", lang, id=number))
        if bot.status not in STOPPABLE or bot.status == Bot.Status.STOPPING:
            return Reply(t("stop_not_running", lang, id=number))
        return Reply(
            t("stop_confirm", lang, id=bot.pk, name=bot.name, symbol=bot.symbol),
            buttons=[(t("stop_yes", lang), f"stop:{bot.pk}:yes"), (t("stop_no", lang), f"stop:{bot.pk}:no")],
        )
    if command == "plans":
        plans = stars.plans_for_stars()
        if not plans:
            return Reply(t("no_plans", lang))
        name = (lambda p: p.name_en) if lang == "en" else (lambda p: p.name_ru)
        return Reply(
            t("plans", lang),
            buttons=[
                (t("plan_button", lang, name=name(p), stars=stars.stars_price(plan=p)), f"buy:{p.code}") for p in plans
            ],
        )
    if command == "support":
        return Reply(integration.support_conversation_start(user=user, chat_id=chat_id, language=lang))
    if command == "done":
        return Reply(integration.support_conversation_end(user=user, chat_id=chat_id, language=lang))
    return Reply(t("unknown", lang))


def reply_stop_answer(*, chat_id: int, data: str) -> Reply | None:
    """The confirmation buttons of /stop N. Acts only for the chat's own user and own bot."""
    link = link_for_chat(chat_id=chat_id)
    if link is None:
        return None
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != "stop" or parts[2] not in ("yes", "no"):
        return None
    user, lang = link.user, _user_language(link.user)
    number = _bot_number(parts[1])
    bot = bot_get(user=user, bot_id=number) if number else None
    if bot is None:
        return Reply(t("no_such_bot", lang, id=parts[1]))
    if parts[2] == "no":
        return Reply(t("stop_cancelled", lang, id=bot.pk))
    if bot.status not in STOPPABLE or bot.status == Bot.Status.STOPPING:
        return Reply(t("stop_not_running", lang, id=bot.pk))
    bot_stop(bot=bot, user=user, reason="Stopped from Telegram", code="user")
    return Reply(t("stop_done", lang, id=bot.pk))


def reply_text(*, chat_id: int, text: str, language_code: str | None) -> Reply | None:
    """A plain message: part of an open /support conversation, or a hint."""
    link = link_for_chat(chat_id=chat_id)
    if link is None:
        return Reply(t("hello_stranger", language_code))
    lang = _user_language(link.user)
    answer = integration.support_conversation_message(user=link.user, chat_id=chat_id, text=text, language=lang)
    return Reply(answer if answer is not None else t("unknown", lang))


def invoice_for(*, chat_id: int, data: str) -> dict | Reply | None:
    """The "buy:<plan>" button: the invoice to send, a refusal to show, or None (a stranger)."""
    invoice = stars.stars_invoice_create(chat_id=chat_id, plan_code=data.split(":", 1)[1])
    if invoice is not None and "refused" in invoice:
        link = link_for_chat(chat_id=chat_id)
        assert link is not None  # only a linked chat is refused (a stranger gets None)
        return Reply(t(invoice["refused"], _user_language(link.user)))
    return invoice


def reply_paid(*, chat_id: int, payment: dict, update: dict) -> Reply | None:
    outcome = stars.stars_payment_received(chat_id=chat_id, payment=payment, update=update)
    link = link_for_chat(chat_id=chat_id)
    if link is None or outcome == "duplicate":
        return None
    lang = _user_language(link.user)
    sub = subscription_of(user=link.user)
    if outcome == "applied" and sub is not None and sub.period_end:
        plan = sub.plan.name_en if lang == "en" else sub.plan.name_ru
        return Reply(t("paid", lang, plan=plan, until=f"{sub.period_end:%Y-%m-%d}"))
    return Reply(t("paid_pending", lang))
