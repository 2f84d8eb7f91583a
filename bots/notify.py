"""What bots tell their owners goes through the one notification service
(notifications.services.notify): a stop (once per run; take-profit and stop-loss stops are
their own events), a start, and errors. Queued after commit; the tasks are idempotent (the
dedupe key names the run or the log line)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from bots.models import Bot, BotEvent
from config.codes import EVENTS as EVENT_TEXTS
from config.codes import STOP_REASONS
from config.help import EXCHANGE_ERRORS_ARTICLE, error_article, line_article, stop_article

logger = logging.getLogger(__name__)

STOP_EVENTS = {"take_profit": "bot_take_profit", "stop_loss": "bot_stop_loss"}
ERROR_QUIET = timedelta(minutes=10)  # one error notice per bot per 10 minutes


def stop_notice_queue(*, bot: Bot) -> None:
    """Queue the stop notification of the bot's current run; the task runs after commit."""
    from bots.tasks import bot_stop_notify_task

    bot_id, generation = bot.pk, bot.generation
    transaction.on_commit(lambda: bot_stop_notify_task.delay(bot_id, generation))


def event_notice_queue(*, event: BotEvent) -> None:
    """Called for every bot log line: a start or an error is told to the owner after commit."""
    if event.kind != BotEvent.Kind.STARTED and event.level != BotEvent.Level.ERROR:
        return
    from bots.tasks import bot_event_notify_task

    event_id = event.pk
    transaction.on_commit(lambda: bot_event_notify_task.delay(event_id))


def stop_reason_text(*, code: str, language: str) -> str:
    """Why a bot stopped, in `language` (config.codes.STOP_REASONS; English if unknown)."""
    text = STOP_REASONS.get(code, "")
    if not text:
        return ""
    with translation.override(language):
        return gettext(text)


def _language(user) -> str:
    return user.language if user.language in ("ru", "en") else settings.LANGUAGE_CODE


def bot_stop_notify(*, bot_id: int, generation: int) -> bool:
    """Tell the owner that run `generation` of the bot stopped, and send it now (this runs in a
    worker). Idempotent by the dedupe key `bot_stopped:<bot>:<run>`: a retried or duplicated
    task tells nothing. Returns True when this call sent the email."""
    from notifications.services import delivery_send, notify

    bot = Bot.objects.select_related("user", "user__profile").filter(pk=bot_id).first()
    if bot is None or not bot.user.is_active:
        return False
    language = _language(bot.user)
    code = bot.stop_code if bot.generation == generation else ""
    price = bot.last_price
    notification = notify(
        user=bot.user,
        event=STOP_EVENTS.get(code, "bot_stopped"),
        params={
            "bot_id": bot.pk,
            "bot_name": bot.name,
            "symbol": bot.symbol,
            "run": generation,
            "code": code,
            "reason": stop_reason_text(code=code, language=language),
            "detail": bot.stop_reason if code in ("launch_failed", "errors", "auth_failed") else "",
            "stopped_at": f"{(bot.stopped_at or timezone.now()):%d.%m.%Y %H:%M}",
            "price": "" if price is None else f"{price.normalize():f}",
            # "How to fix" in the app, the email and the Telegram message (config.help)
            "help_article": stop_article(code),
        },
        dedupe_key=f"bot_stopped:{bot.pk}:{generation}",
        urgent=code in ("errors", "auth_failed", "liquidated", "stop_loss"),
    )
    if notification is None:
        return False
    sent = False
    for delivery_id, channel in notification.deliveries.values_list("pk", "channel"):
        status = delivery_send(delivery_id=delivery_id)
        sent = sent or (channel == "email" and status == "sent")
    logger.info("stop of bot %s run %s told (email sent: %s)", bot_id, generation, sent)
    return sent


def bot_event_notify(*, event_id: int) -> bool:
    """Tell the owner about a start or an error line of the bot's log (errors at most once per
    ERROR_QUIET per bot, so a failing exchange does not flood the chat)."""
    from notifications.models import Notification
    from notifications.services import notify

    event = BotEvent.objects.select_related("bot__user").filter(pk=event_id).first()
    if event is None:
        return False
    bot, user = event.bot, event.bot.user
    params = {"bot_id": bot.pk, "bot_name": bot.name, "symbol": bot.symbol}
    if event.kind == BotEvent.Kind.STARTED:
        return (
            notify(user=user, event="bot_started", params=params, dedupe_key=f"bot_started:{bot.pk}:{bot.generation}")
            is not None
        )
    recent = Notification.objects.filter(
        user=user, event="bot_error", params__bot_id=bot.pk, created_at__gte=timezone.now() - ERROR_QUIET
    ).exists()
    if recent:
        return False
    language = _language(user)
    data = event.data or {}
    text = EVENT_TEXTS.get(data.get("code") or "")
    words = event.message
    if text:
        with translation.override(language):
            try:
                words = gettext(text).format(**(data.get("params") or {}))
            except (KeyError, IndexError, ValueError):
                words = event.message
    params["error"] = words
    params["help_article"] = (
        line_article(data) or error_article(bot.last_error) or EXCHANGE_ERRORS_ARTICLE
    )
    return notify(user=user, event="bot_error", params=params, dedupe_key=f"bot_error:{event.pk}") is not None


def digests_send(*, now=None) -> int:
    """The daily digest for every active user with bots: bots running, trades and grid profit
    in the last 24 hours. Once per user per day (dedupe key names the date)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q, Sum

    from notifications.services import notify
    from trading.models import Trade

    now = now or timezone.now()
    since = now - timedelta(hours=24)
    users = get_user_model().objects.filter(is_active=True, bots__isnull=False).distinct()
    sent = 0
    for user in users.iterator():
        running = Bot.objects.filter(user=user, status=Bot.Status.RUNNING).count()
        trades = Trade.objects.filter(bot__user=user, executed_at__gte=since).aggregate(
            n=Count("id"), profit=Sum("realized_pnl", filter=Q(realized_pnl__isnull=False))
        )
        if not running and not trades["n"]:
            continue
        profit = trades["profit"] or 0
        params = {"running": running, "trades": trades["n"], "profit": f"{profit:.2f}"}
        if notify(user=user, event="daily_digest", params=params, dedupe_key=f"daily_digest:{now:%Y-%m-%d}", now=now):
            sent += 1
    return sent


def keys_expiring_notify(*, now=None, within: timedelta = timedelta(days=7)) -> int:
    """Owners of exchange accounts whose API key expires within `within` are told once per key
    expiry date."""
    from exchanges.models import ExchangeAccount
    from notifications.services import notify

    now = now or timezone.now()
    accounts = ExchangeAccount.objects.select_related("user").filter(
        status=ExchangeAccount.Status.ACTIVE, key_expires_at__gt=now, key_expires_at__lte=now + within
    )
    sent = 0
    for account in accounts:
        params = {"account": account.label, "account_id": account.pk, "expires": f"{account.key_expires_at:%d.%m.%Y}"}
        key = f"key_expiring:{account.pk}:{account.key_expires_at:%Y-%m-%d}"
        if notify(user=account.user, event="key_expiring", params=params, dedupe_key=key, now=now):
            sent += 1
    return sent
