"""Bot reads for the services, tasks, streams and admin."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from bots.models import Bot, BotEvent
from exchanges.selectors import venue_annotations
from metrics.selectors import metrics_cycles_24h_by_bot, metrics_or_none, user_metrics_totals
from trading.selectors import trade_list

TICKED = (Bot.Status.STARTING, Bot.Status.RUNNING, Bot.Status.STOPPING)


def bot_ids_due_for_tick() -> list[tuple[int, int]]:
    """(bot id, exchange account id) of the active bots whose lease is free."""
    now = timezone.now()
    return list(
        Bot.objects.filter(status__in=TICKED)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("last_tick_at", "id")
        .values_list("id", "exchange_account_id")
    )


TARGET_KEYS = (
    "take_profit_price",
    "stop_loss_price",
    "take_profit_pnl",
    "stop_loss_pnl",
    "take_profit_roi",
    "stop_loss_roi",
)


def bot_ids_due_for_fallback_tick(*, now=None) -> list[tuple[int, int]]:
    """(bot id, account id) of the active bots with a free lease that need a tick of their own
    while account passes reconcile the running ones (bots.services.account_sync): starting or
    stopping; a price or profit target set (checked every beat, as before); neither a tick nor a
    pass for three safety intervals (the account's pass keeps failing); and, within a budget per
    beat, those without a full tick for SETKA_BOT_REFRESH_SECONDS (price, valuation, funding).

    The budget spreads the full ticks over the refresh period: twice the running bots' share of
    one beat (running x beat / refresh x 2, at least 3), the longest-waiting first. After a mass
    launch every bot falls due in the same few seconds; without it they all went to the queue at
    once and the fills' ticks waited behind them (the 1,000-bot benchmark's backlog)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=3 * settings.SETKA_SAFETY_SECONDS)
    refresh = now - timedelta(seconds=settings.SETKA_BOT_REFRESH_SECONDS)
    targets = Q()
    for key in TARGET_KEYS:
        targets |= Q(**{f"config__{key}__isnull": False}) & ~Q(**{f"config__{key}": None})
    free = (
        Bot.objects.filter(status__in=TICKED)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .annotate(in_line_at=Greatest("last_tick_at", "reconciled_at"))
    )
    needed = list(
        free.filter(~Q(status=Bot.Status.RUNNING) | Q(last_tick_at__isnull=True) | Q(in_line_at__lt=stale) | targets)
        .order_by("last_tick_at", "id")
        .values_list("id", "exchange_account_id")
    )
    running = Bot.objects.filter(status=Bot.Status.RUNNING).count()
    budget = max(3, math.ceil(running * settings.SETKA_BOT_TICK_SECONDS / settings.SETKA_BOT_REFRESH_SECONDS * 2))
    taken = {bot_id for bot_id, _ in needed}
    refreshing = [
        row
        for row in free.filter(status=Bot.Status.RUNNING, last_tick_at__lt=refresh)
        .order_by("last_tick_at", "id")
        .values_list("id", "exchange_account_id")[: budget + len(taken)]
        if row[0] not in taken
    ][:budget]
    return needed + refreshing


def bots_streamed() -> QuerySet[Bot]:
    """Bots whose exchange account's private stream must be held."""
    return Bot.objects.filter(status__in=TICKED).select_related("exchange_account__exchange")


def bot_list(*, user, status: str | None = None, symbol: str | None = None) -> QuerySet[Bot]:
    qs = Bot.objects.filter(user=user)
    if status:
        qs = qs.filter(status=status)
    if symbol:
        qs = qs.filter(symbol=symbol)
    return qs


def bot_get(*, user, bot_id: int) -> Bot | None:
    return Bot.objects.filter(user=user, pk=bot_id).select_related("exchange_account").first()


def bot_events(*, bot: Bot) -> QuerySet[BotEvent]:
    return BotEvent.objects.filter(bot=bot).order_by("-id")


def _plain(value) -> str | None:
    """A Decimal as the API writes it: no exponent, no trailing zeros."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text if value else "0"


def bot_position(*, bot: Bot, metrics=None) -> dict:
    """The futures panel of one bot: direction and leverage (its configuration), the position
    as the exchange last reported it (size, side, entry, liquidation price), and the unrealized
    P/L re-valued at the latest price the tick saw. Before the exchange has reported anything
    the bot's own ledger gives size and entry (liquidation price then unknown). Spot bots have
    no such panel: direction/leverage are null and the size is the coins held."""
    from decimal import Decimal

    zero = Decimal(0)
    config = bot.config or {}
    linear = bot.category == Bot.Category.LINEAR
    if metrics is None:
        from metrics.models import BotMetrics

        metrics = BotMetrics.objects.filter(bot_id=bot.pk).first()
    last_price = metrics.last_price if metrics is not None else None
    from bots.models import BotPosition

    snapshot = BotPosition.objects.filter(bot_id=bot.pk).first() if linear else None
    out = {
        "category": bot.category,
        "direction": config.get("direction", "neutral") if linear else None,
        "leverage": None,
        "side": None,
        "size": "0",
        "entry_price": None,
        "mark_price": None,
        "unrealized_pnl": None,
        "liquidation_price": None,
        "source": "none",
        "updated_at": None,
    }
    if linear:
        out["leverage"] = str(config.get("leverage", "1"))
    signed = zero
    entry = None
    if snapshot is not None:
        size = snapshot.size
        side = snapshot.side
        signed = size if side == "Buy" else -size if side == "Sell" else zero
        entry = snapshot.entry_price if size else None
        if size and snapshot.leverage:
            out["leverage"] = _plain(snapshot.leverage)
        out.update(
            liquidation_price=_plain(snapshot.liquidation_price) if size else None,
            mark_price=_plain(snapshot.mark_price),
            unrealized_pnl=_plain(snapshot.unrealized_pnl) if size else "0",
            source="exchange",
            updated_at=snapshot.reported_at.isoformat(),
        )
    elif metrics is not None and metrics.base_position:
        signed = Decimal(metrics.base_position)
        entry = (metrics.cost_basis / abs(signed)) if metrics.cost_basis else None
        out.update(unrealized_pnl=str(metrics.unrealized_pnl), source="ledger")
    out["size"] = format(abs(signed).normalize(), "f") if signed else "0"
    out["side"] = None if not signed else ("long" if signed > 0 else "short")
    if entry is not None:
        out["entry_price"] = format(entry.quantize(Decimal("1e-8")).normalize(), "f")
    if linear and signed and entry is not None and last_price:
        # Kept live: every tick stores the last price; the exchange pushes only on changes.
        out["mark_price"] = format(Decimal(last_price).normalize(), "f")
        out["unrealized_pnl"] = format(
            ((Decimal(last_price) - entry) * signed).quantize(Decimal("0.0001")).normalize(), "f"
        )
    return out


def user_bots(*, user) -> QuerySet[Bot]:
    """The user's bots with their figures (BotMetrics) joined: what the API and the dashboard list."""
    # Not exchange_account: loading it decrypts the API keys (about 1 ms a row, and secrets in memory).
    # The venue comes along as two annotated columns of the same query.
    return Bot.objects.filter(user=user).select_related("metrics").annotate(**venue_annotations("exchange_account"))


def dashboard_data(*, user, now: datetime, latest: int = 10) -> dict:
    """Active bots with figures, the latest fills, open positions and totals (a few queries,
    whatever the number of trades)."""
    bots = list(user_bots(user=user).order_by("-created_at", "-id"))
    active = [b for b in bots if b.status in Bot.ACTIVE_STATUSES]
    cycles = metrics_cycles_24h_by_bot(bot_ids=[b.pk for b in active], now=now)
    positions = []
    for bot in active:
        m = metrics_or_none(bot)
        if m is None or not m.base_position:
            continue
        average = None
        if m.base_position:
            average = (m.cost_basis / abs(m.base_position)).quantize(Decimal("1e-12"))
        positions.append(
            {
                "bot_id": bot.pk,
                "bot_name": bot.name,
                "symbol": bot.symbol,
                "category": bot.category,
                "base_position": m.base_position,
                "cost_basis": m.cost_basis,
                "average_price": average,
                "last_price": m.last_price,
                "unrealized_pnl": m.unrealized_pnl,
            }
        )
    latest_trades = list(trade_list(user=user)[:latest])
    totals = user_metrics_totals(bots=bots, now=now)
    return {
        "bots": active,
        "latest_trades": latest_trades,
        "positions": positions,
        "totals": totals,
        "cycles_24h": cycles,
    }
