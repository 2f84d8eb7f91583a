"""The live position of a running futures bot, as the exchange reports it.

The account's private WebSocket pushes a `position` message whenever a position changes; the
streams process hands each one (parsed into the port's Position) to `bot_positions_record`,
which keeps it in the bot's BotPosition row and tells the browser. The same happens once when
a stream (re)opens, from one REST read per symbol (`bot_positions_refresh`), so a missed push
is healed without any per-bot polling. The P/L is re-valued at every tick's price by the
selector (bots.selectors.bot_position)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bots.events import emit
from bots.models import Bot, BotPosition
from exchanges.client import Category, Position

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
# Stopped bots too: the close of a position at stop is often reported after the bot stopped.
POSITION_STATUSES = (Bot.Status.STARTING, Bot.Status.RUNNING, Bot.Status.STOPPING, Bot.Status.ERROR, Bot.Status.STOPPED)
REFRESHED_STATUSES = (Bot.Status.STARTING, Bot.Status.RUNNING, Bot.Status.STOPPING, Bot.Status.ERROR)


def _position_fields(position: Position, *, now) -> dict:
    flat = not position.size
    return {
        "side": position.side.value if position.side is not None and not flat else "",
        "size": position.size,
        "entry_price": None if flat else position.avg_price,
        "leverage": position.leverage or None,
        "mark_price": position.mark_price or None,
        "unrealized_pnl": ZERO if flat else position.unrealized_pnl,
        "liquidation_price": None if flat else position.liq_price,
        "reported_at": now,
    }


def bot_positions_record(*, account_id: int, positions: Iterable[Position], now=None) -> int:
    """Keep each reported position on the account's linear bots of that symbol. Returns how
    many bots were updated."""
    updated = 0
    now = now or timezone.now()
    for position in positions:
        fields = _position_fields(position, now=now)
        bot_ids = list(
            Bot.objects.filter(
                exchange_account_id=account_id,
                category=Bot.Category.LINEAR,
                symbol=position.symbol,
                status__in=POSITION_STATUSES,
            ).values_list("pk", flat=True)
        )
        for bot_id in bot_ids:
            with transaction.atomic():
                locked = Bot.objects.select_for_update().filter(pk=bot_id).first()
                if locked is None:
                    continue
                BotPosition.objects.update_or_create(bot=locked, defaults=fields)
                from bots.selectors import bot_position

                emit(bot=locked, event="position", data=bot_position(bot=locked))
            updated += 1
    return updated


def bot_positions_refresh(*, account, client=None) -> int:
    """One REST read per symbol of the account's active linear bots (called when its stream
    opens or reconnects, never per tick)."""
    from bots.services.common import client_for_account

    symbols = sorted(
        set(
            Bot.objects.filter(
                exchange_account=account, category=Bot.Category.LINEAR, status__in=REFRESHED_STATUSES
            ).values_list("symbol", flat=True)
        )
    )
    if not symbols:
        return 0
    client = client or client_for_account(account)
    updated = 0
    for symbol in symbols:
        positions = client.positions(category=Category.LINEAR, symbol=symbol)
        if not positions:  # flat: the exchange lists nothing
            positions = [
                Position(
                    symbol=symbol,
                    side=None,
                    size=ZERO,
                    avg_price=ZERO,
                    leverage=Decimal(1),
                    mark_price=ZERO,
                    unrealized_pnl=ZERO,
                    liq_price=None,
                )
            ]
        updated += bot_positions_record(account_id=account.pk, positions=positions)
    return updated
