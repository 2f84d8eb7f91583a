"""What the three rooms of a running bot's tick pass along: one typed context.

    reconcile (bots/services/reconcile.py)  exchange -> rows of record -> grid state events
    decide    (bots/services/decide.py)     state + price + profit -> Decision (pure)
    place     (bots/services/place.py)      Decision -> PENDING rows + state -> exchange

Plus the two small helpers the rooms and the tick share (status changes, the send guard)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists

from bots.engine.config import GridConfig
from bots.engine.planner import TickPlan
from bots.engine.state import GridState
from bots.engine.targets import TargetHit
from bots.events import emit
from bots.models import Bot
from bots.services.common import halt_switched, lease_acquire
from bots.services.stop import bot_stopped
from exchanges.client import ExchangeClient, Fill, InstrumentRules, Side

logger = logging.getLogger(__name__)


@dataclass
class TickResult:
    ran: bool
    status: str = ""
    new_trades: int = 0
    placed: int = 0
    reason: str = ""
    # Set when the account's (or IP's) rate budget had no room for a request for this long and
    # the tick stopped rather than wait (inside ratelimit.budget_wait_at_most): run it again then.
    retry_after: float | None = None


@dataclass
class TickContext:
    bot: Bot
    client: ExchangeClient
    config: GridConfig
    rules: InstrumentRules
    result: TickResult
    price: Decimal | None = None  # the last price, read once per tick
    total_pnl: Decimal | None = None  # the bot page's total PnL at `price` (every run)
    state: GridState | None = None  # this run's grid, up to date with the rows of record
    version: int = 0  # the snapshot version `state` was read at
    # False while billing holds the bot (its plan lapsed): only orders that close what the bot
    # holds are placed; protective orders already open stay.
    new_cycles_allowed: bool = True
    # A fill's tick (the stream saw an execution): the counter order first; the funding read
    # waits for the bot's next full tick (SETKA_BOT_REFRESH_SECONDS, a target's beat or the stop).
    urgent: bool = False
    # The executions the stream pushed with a fill's tick (bots.streams): stored and settled
    # without reading the exchange first when they fill their orders completely
    # (trading.services.orders_reconcile_pushed); None: read the exchange.
    pushed: list[Fill] | None = None

    @property
    def venue(self) -> str:
        """The venue's code (a label of the runtime's metrics)."""
        return getattr(getattr(self.bot.exchange_account, "exchange", None), "code", "") or "unknown"


@dataclass(frozen=True)
class Decision:
    hit: TargetHit | None = None  # a target reached: stop instead of planning
    plan: TickPlan | None = None
    newly_stuck: list[tuple[int, Side]] = field(default_factory=list)  # to tell the user once


def set_status(bot: Bot, status: str, **fields) -> None:
    bot.status = status
    for key, value in fields.items():
        setattr(bot, key, value)
    bot.save(update_fields=["status", *fields.keys(), "updated_at"])
    if status == Bot.Status.STOPPED:
        bot_stopped(bot=bot)
    emit(
        bot=bot, event="bot.status", data={"status": status, **{k: str(v) for k, v in fields.items() if v is not None}}
    )


def still_running(bot: Bot):
    """Checked before each send: the bot is still running, trading is not halted, and this tick
    still holds the lease (renewed every few seconds, so a long ladder never outlives it). The
    halt is what operators switch at once ("stop all"): the bots are marked stopping a few seconds
    later by the stop run, and a tick already sending (a backlog of pending rows after an
    exchange fault) sent five grid orders in between at stop all of 1,000 bots."""
    renewed = [time.monotonic()]

    def check() -> bool:
        owner = getattr(bot, "_lease_owner", None)
        if owner and time.monotonic() - renewed[0] > 5:
            if not lease_acquire(bot_id=bot.pk, owner=owner):
                logger.warning("bot %s: lease lost during a long send; stopping this tick", bot.pk)
                return False
            renewed[0] = time.monotonic()
        if settings.SETKA_TRADING_HALTED:
            return False
        return Bot.objects.filter(pk=bot.pk, status=Bot.Status.RUNNING).exclude(Exists(halt_switched())).exists()

    return check
