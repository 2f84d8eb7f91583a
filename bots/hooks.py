"""Who else must know that a bot's lifecycle changed (started, stopping, stopped, new range).

Other apps (pools: followers follow their manager's bot) are named in the setting
SETKA_BOT_CHANGE_LISTENERS as dotted paths of functions `listener(bot_id)`. They are called
after the transaction that changed the bot commits (a rolled-back change tells nobody), so a
listener only ever sees committed state. bots never imports the listeners' apps."""

from __future__ import annotations

import logging
from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@cache
def _listener(path: str):
    return import_string(path)


def bot_changed(*, bot_id: int) -> None:
    """Tell every listener, after commit, that bot `bot_id` changed."""
    paths = tuple(getattr(settings, "SETKA_BOT_CHANGE_LISTENERS", ()))
    if not paths:
        return

    def _tell() -> None:
        for path in paths:
            try:
                _listener(path)(bot_id)
            except Exception:  # a listener must never break the bot's own flow; it has a safety net
                logger.exception("bot change listener %s failed for bot %s", path, bot_id)

    transaction.on_commit(_tell)
