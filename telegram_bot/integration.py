"""Where the Telegram bot meets the help desk (`support`) and the notification service
(`notifications`), built at the same time on another branch. Everything that depends on their
interfaces is in this one module, so it can be adjusted at merge.

- `TelegramSender`: the Telegram channel of the notification service. `notify()` picks the
  channel; the sender renders and sends one message to the user's linked chat. It is registered
  in the service's channel registry when that app is installed (`register_sender`).
- Until `notifications` is merged, `bot_event_text` + the bridge in
  `management/commands/run_telegram_bot.py` deliver bot errors to the linked chat straight from
  the live-event groups (the same events the browser gets).
- /support: the conversation becomes a ticket thread through the help desk's ticket services
  (`support.services.ticket_create` / `ticket_message_add`, source "telegram"); staff replies
  reach the chat through `TelegramSender` (event "ticket.reply")."""

from __future__ import annotations

import importlib
import importlib.util
import logging

import redis
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from config.codes import EVENTS
from telegram_bot.selectors import chat_for_user
from telegram_bot.sending import send_text
from telegram_bot.texts import lang_of, t

logger = logging.getLogger(__name__)

SUPPORT_TTL_SECONDS = 3600


def _support_services():
    if importlib.util.find_spec("support") is None or "support" not in settings.INSTALLED_APPS:
        return None
    return importlib.import_module("support.services")


def _conversation_key(chat_id: int) -> str:
    return f"{settings.SETKA_TELEGRAM_LIMIT_PREFIX}:support:{chat_id}"


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL)


def support_conversation_start(*, user, chat_id: int, language: str) -> str:
    if _support_services() is None:
        return t("support_unavailable", language)
    _redis().set(_conversation_key(chat_id), "new", ex=SUPPORT_TTL_SECONDS)
    return t("support_start", language)


def support_conversation_end(*, user, chat_id: int, language: str) -> str:
    _redis().delete(_conversation_key(chat_id))
    return t("support_done", language)


def support_conversation_message(*, user, chat_id: int, text: str, language: str) -> str | None:
    """A message inside an open /support conversation becomes the ticket's first message or a
    reply in its thread. None when no conversation is open."""
    services = _support_services()
    key = _conversation_key(chat_id)
    state = _redis().get(key)
    if services is None or state is None:
        return None
    if state == b"new":
        ticket = services.ticket_create(user=user, subject=text[:120], body=text, source="telegram")
        _redis().set(key, str(ticket.pk), ex=SUPPORT_TTL_SECONDS)
        return t("support_created", language, id=ticket.pk)
    ticket_id = int(state)
    services.ticket_message_add(user=user, ticket_id=ticket_id, body=text, source="telegram")
    _redis().expire(key, SUPPORT_TTL_SECONDS)
    return t("support_added", language, id=ticket_id)


def bot_event_text(*, bot_id: int, bot_name: str, data: dict, language: str) -> str:
    """A bot's log line (a live `bot.event`) as the owner reads it, in their language."""
    code = (data.get("data") or {}).get("code", "")
    params = (data.get("data") or {}).get("params") or {}
    message = data.get("message", "")
    if code in EVENTS:
        with translation.override(lang_of(language)):
            try:
                message = gettext(EVENTS[code]).format(**params)
            except (KeyError, IndexError, ValueError):
                pass
    return t("bot_error", language, id=bot_id, name=bot_name, message=message)


class TelegramSender:
    """The notification service's Telegram channel: one message to the user's linked chat."""

    channel = "telegram"

    def available(self, *, user) -> bool:
        return chat_for_user(user_id=user.pk) is not None

    def send(self, *, user, text: str, **_) -> bool:
        """Send `text` (already rendered in the user's language). False when the user has no
        linked chat (or blocked the bot); Telegram errors other than 403 raise, so the outbox
        retries them."""
        return send_text(user_id=user.pk, text=text)


def register_sender() -> bool:
    """Plug TelegramSender into the notification service's channel registry, when installed."""
    if "notifications" not in settings.INSTALLED_APPS:
        return False
    registry = importlib.import_module("notifications.channels")
    registry.register(TelegramSender())
    return True
