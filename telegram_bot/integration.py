"""Where the Telegram bot meets the help desk (`support`) and the notification service
(`notifications`), built at the same time on another branch. Everything that depends on their
interfaces is in this one module, so it can be adjusted at merge.

- `TelegramSender`: the Telegram channel of the notification service (`notify()` picks the
  channel, renders the message, and the outbox calls `send`). Registered in the service's
  channel registry by TelegramBotConfig.ready() when that app is installed.
- Until `notifications` is merged, `bot_event_text` + the bridge in
  `management/commands/run_telegram_bot.py` deliver bot errors to the linked chat straight from
  the live-event groups (the same events the browser gets).
- /support: the conversation becomes a ticket thread through the help desk's ticket services
  (`support.services.ticket_create` / `ticket_message_add`, via="telegram"); staff replies
  reach the chat through `TelegramSender` (the help desk notifies "ticket_reply")."""

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
from telegram_bot.sending import SendFailed, send_to_chat
from telegram_bot.services import chat_blocked
from telegram_bot.texts import lang_of, t

logger = logging.getLogger(__name__)

SUPPORT_TTL_SECONDS = 3600


def _installed(app: str) -> bool:
    return app in settings.INSTALLED_APPS and importlib.util.find_spec(app) is not None


def _support_services():
    return importlib.import_module("support.services") if _installed("support") else None


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
    message in its thread (only the user's own ticket). None when no conversation is open."""
    services = _support_services()
    key = _conversation_key(chat_id)
    state = _redis().get(key)
    if services is None or state is None:
        return None
    if state == b"new":
        ticket = services.ticket_create(user=user, subject=text[:120], body=text, via="telegram")
        _redis().set(key, str(ticket.pk), ex=SUPPORT_TTL_SECONDS)
        return t("support_created", language, id=ticket.pk)
    ticket = importlib.import_module("support.models").Ticket.objects.filter(pk=int(state), user=user).first()
    if ticket is None:
        _redis().delete(key)
        return None
    services.ticket_message_add(ticket=ticket, author=user, body=text, via="telegram")
    _redis().expire(key, SUPPORT_TTL_SECONDS)
    return t("support_added", language, id=ticket.pk)


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
    """The notification service's Telegram channel (notifications/channels.py): the address is
    the user's linked chat; a message is its title, body and app link, already in the user's
    language. Telegram's 429 and network/server errors are retried by the outbox; a blocked or
    missing chat is final (and the chat is marked blocked)."""

    name = "telegram"

    def address(self, user) -> str | None:
        chat_id = chat_for_user(user_id=user.pk)
        return str(chat_id) if chat_id is not None else None

    def send(self, message) -> str:
        channels = importlib.import_module("notifications.channels")
        params = message.params or {}
        help_line = t("how_to_fix", message.language, url=message.help_url) if message.help_url else ""
        if message.event == "bot_error" and params.get("bot_id"):
            # one line a phone shows whole in the notification, as the bot's own messages read
            lead = t(
                "bot_error",
                message.language,
                id=params["bot_id"],
                name=params.get("bot_name", ""),
                message=params.get("error", ""),
            )
            text = "\n".join(part for part in (lead, help_line, message.url) if part)
        else:
            text = "\n\n".join(part for part in (message.title, message.body, help_line, message.url) if part)
        try:
            return str(send_to_chat(chat_id=int(message.address), text=text[:4096]))
        except SendFailed as exc:
            if exc.blocked:
                chat_blocked(chat_id=int(message.address))
            if exc.final:
                raise channels.FinalSendError(str(exc)) from exc
            raise channels.RetryableSendError(str(exc)) from exc


def register_sender() -> bool:
    """Plug TelegramSender into the notification service's channel registry, when installed."""
    if not _installed("notifications"):
        return False
    importlib.import_module("notifications.channels").channel_register(TelegramSender())
    return True


def errors_bridge_needed() -> bool:
    """The bot process forwards bot errors itself only while the notification service (which
    sends `bot_error` through TelegramSender) is not installed."""
    return not _installed("notifications")
