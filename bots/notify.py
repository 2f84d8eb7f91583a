"""Telling a bot's owner that it stopped: one email per stop (per run of the bot), in the
owner's language, sent by a Celery task after the stop is committed. A later `notifications`
app takes this over (more channels, preferences per kind)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.mail import send_templated_email
from bots.models import Bot, StopNotice
from config.codes import STOP_REASONS

logger = logging.getLogger(__name__)


def stop_notice_queue(*, bot: Bot) -> None:
    """Queue the stop email of the bot's current run; the task runs after commit."""
    from bots.tasks import bot_stop_notify_task

    bot_id, generation = bot.pk, bot.generation
    transaction.on_commit(lambda: bot_stop_notify_task.delay(bot_id, generation))


def stop_reason_text(*, code: str, language: str) -> str:
    """Why a bot stopped, in `language` (config.codes.STOP_REASONS; English if unknown)."""
    text = STOP_REASONS.get(code, "")
    if not text:
        return ""
    with translation.override(language):
        return gettext(text)


def bot_stop_notify(*, bot_id: int, generation: int) -> bool:
    """Email the owner that run `generation` of the bot stopped. Idempotent: the StopNotice row
    is claimed under a lock and marked sent in the same transaction as the send (the outbox
    backend writes in it too), so a retried or duplicated task sends nothing. Returns True when
    this call sent the email."""
    bot = Bot.objects.select_related("user", "user__profile").filter(pk=bot_id).first()
    if bot is None:
        return False
    user = bot.user
    profile = getattr(user, "profile", None)
    if not user.email or not user.is_active or (profile is not None and not profile.notify_email):
        return False
    StopNotice.objects.get_or_create(bot=bot, generation=generation, defaults={"stop_code": bot.stop_code})
    with transaction.atomic():
        notice = StopNotice.objects.select_for_update().get(bot=bot, generation=generation)
        if notice.sent_at is not None:
            return False
        language = user.language or settings.LANGUAGE_CODE
        code = notice.stop_code or bot.stop_code
        send_templated_email(
            to=user.email,
            name="bot_stopped",
            language=language,
            context={
                "bot": bot,
                "reason": stop_reason_text(code=code, language=language),
                "detail": bot.stop_reason if code in ("launch_failed", "errors", "auth_failed") else "",
                "stopped_at": bot.stopped_at or timezone.now(),
                "url": f"{settings.SETKA_PUBLIC_URL.rstrip('/')}/bots/{bot.pk}",
            },
        )
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    logger.info("stop email for bot %s run %s sent", bot_id, generation)
    return True
