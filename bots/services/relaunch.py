"""Restarting a stopped bot by its user: it re-enters the market at today's price, so it is
never one tap. The user is shown a fresh pre-launch report (current price, balances, fees) and
must confirm it, naming the warnings they read; the report is built again here and compared,
so a warning that appeared since the user looked refuses the restart instead of slipping by."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bots.models import Bot
from bots.services.create import bot_preview
from bots.services.start import bot_start
from config.errors import ConflictError, DomainError

RESTARTABLE = (Bot.Status.STOPPED,)


def _require_restartable(bot: Bot) -> None:
    if bot.status not in RESTARTABLE:
        raise ConflictError("Only a stopped bot can be restarted.", code="bot_not_stopped")


def bot_restart_preview(*, bot: Bot, user):
    """The launch report of this bot's configuration at the current price (nothing is stored)."""
    if bot.user_id != user.pk:
        raise DomainError("No such bot.", code="not_found", status_code=404)
    _require_restartable(bot)
    return bot_preview(
        user=user, exchange_account=bot.exchange_account, symbol=bot.symbol, category=bot.category, config=bot.config
    )


def confirmable_warnings(report) -> list:
    """The warnings a user must confirm (information notes need no confirmation)."""
    return [w for w in report.warnings if w.severity != "info"]


def bot_relaunch(*, bot: Bot, user, confirm: bool = False, warnings_seen: list[str] | None = None) -> Bot:
    """Start a stopped bot again after the user confirmed the fresh report. Refuses (400) when
    not confirmed, when the report blocks, or when it has a warning the user did not see."""
    report = bot_restart_preview(bot=bot, user=user)
    if report.blocking:
        blocking = [w.message for w in report.warnings if w.blocking] or ["The grid cannot run as set."]
        raise DomainError(blocking[0], code="report_blocking", fields={"config": blocking})
    warnings = confirmable_warnings(report)
    if not confirm:
        raise DomainError(
            "Restarting re-enters the market at the current price: read the fresh report and confirm it.",
            code="restart_not_confirmed",
            fields={"confirm": [w.message for w in warnings] or ["Confirm the restart."]},
        )
    unseen = [w for w in warnings if w.code not in set(warnings_seen or ())]
    if unseen:
        raise DomainError(
            "The report changed since you read it: " + unseen[0].message,
            code="warnings_not_accepted",
            fields={"warnings_seen": [w.message for w in unseen]},
        )
    with transaction.atomic():
        updated = Bot.objects.filter(pk=bot.pk, status__in=RESTARTABLE).update(
            report=report.to_json(), warnings_accepted_at=timezone.now() if warnings else None
        )
        if not updated:
            raise ConflictError("Only a stopped bot can be restarted.", code="bot_not_stopped")
        bot.refresh_from_db()
        return bot_start(bot=bot, user=user)
