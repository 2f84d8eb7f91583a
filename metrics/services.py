"""Metric bookkeeping: profit figures kept incrementally as fills arrive, checked against a full
recomputation, and snapshotted for charts. The arithmetic is the engine's profit book
(bots.engine.book, the one profit definition); this module folds stored trades into it and
keeps the book in BotMetrics (columns for the figures people read, `book` for the whole book)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from bots.engine.book import BookFill, ProfitBook, q18
from live import events
from metrics.models import BotMetrics, Cycle, MetricSnapshot
from metrics.selectors import ACTIVE_STATUSES, metrics_cycles_24h_by_bot, metrics_figures
from metrics.serializers import metrics_json
from trading.models import FundingPayment, Trade

logger = logging.getLogger(__name__)

KNOWN_QUOTES = ("USDT", "USDC", "USD", "EUR", "BTC", "ETH")

# Columns of BotMetrics that mirror ProfitBook attributes one to one.
_BOOK_COLUMNS = (
    "invested",
    "grid_profit",
    "realized_pnl",
    "fees_quote",
    "funding",
    "gross_profit",
    "gross_loss",
    "base_position",
    "quote_balance",
    "cost_basis",
    "trade_count",
    "last_trade_id",
)


def _coins(bot) -> tuple[str, str]:
    instrument = bot.instrument or {}
    base, quote = instrument.get("base_coin"), instrument.get("quote_coin")
    if base and quote:
        return base, quote
    for candidate in KNOWN_QUOTES:
        if bot.symbol.endswith(candidate) and len(bot.symbol) > len(candidate):
            return bot.symbol[: -len(candidate)], candidate
    return bot.symbol, "USDT"


def book_empty(*, bot) -> ProfitBook:
    """A new profit book of the bot (no fills yet)."""
    base, quote = _coins(bot)
    investment = Decimal(bot.investment)
    return ProfitBook(
        category=bot.category, base_coin=base, quote_coin=quote, invested=investment, quote_balance=investment
    )


def _book_from_row(bot, row: BotMetrics) -> ProfitBook:
    data = row.book or {}
    if "v" in data:
        return ProfitBook.from_json(data)
    # A row written before the book was persisted whole: figures in columns, lots in `book`.
    book = book_empty(bot=bot)
    for name in _BOOK_COLUMNS:
        setattr(book, name, getattr(row, name))
    book.lots = {k: [[Decimal(b), Decimal(c)] for b, c in v] for k, v in (data.get("lots") or {}).items() if v}
    book.entry_price = Decimal(data.get("entry_price", "0"))
    book.open_fees = Decimal(data.get("open_fees", "0"))
    return book


def _book_to_row(book: ProfitBook, row: BotMetrics) -> None:
    for name in _BOOK_COLUMNS:
        setattr(row, name, getattr(book, name))
    row.book = book.to_json()


def book_fill(trade) -> BookFill:
    """A stored Trade (with its order at hand) as the book reads it."""
    order = trade.order
    return BookFill(
        side=trade.side,
        price=Decimal(trade.price),
        qty=Decimal(trade.qty),
        fee=Decimal(trade.fee),
        fee_coin=trade.fee_coin or "",
        level=order.level,
        purpose=order.purpose,
        trade_id=trade.pk,
    )


def metrics_get_or_create(*, bot) -> BotMetrics:
    row, _ = BotMetrics.objects.get_or_create(
        bot=bot, defaults={"invested": bot.investment, "quote_balance": bot.investment}
    )
    return row


def _ordered(trades: Iterable) -> list:
    return sorted(trades, key=lambda t: (t.executed_at, t.pk))


@transaction.atomic
def metrics_apply_trades(*, bot, trades) -> BotMetrics:
    """Fold newly stored trades (in execution order) into the bot's BotMetrics incrementally.

    Called by the bot tick inside the transaction that stored the trades. Idempotent: trades up
    to BotMetrics.last_trade_id are skipped, so a retried tick never counts a fill twice. Sets
    Trade.realized_pnl on closing fills, records completed cycles and emits a "metrics" event."""
    metrics_get_or_create(bot=bot)
    row = BotMetrics.objects.select_for_update().get(bot=bot)
    trades = [t for t in _ordered(trades) if t.pk > row.last_trade_id]
    if not trades:
        return row
    # Make sure the order (level, purpose) is at hand without one query per trade.
    missing = [t for t in trades if "order" not in t._state.fields_cache]
    if missing:
        fresh = {t.pk: t for t in Trade.objects.select_related("order").filter(pk__in=[t.pk for t in missing])}
        trades = [fresh.get(t.pk, t) for t in trades]
    book = _book_from_row(bot, row)
    new_cycles = 0
    for trade in trades:
        result = book.apply(book_fill(trade))
        if trade.realized_pnl != result.realized_pnl:
            # One definition of realized PnL per fill, the one the metrics add up (an opening fill is 0).
            Trade.objects.filter(pk=trade.pk).update(realized_pnl=result.realized_pnl)
            trade.realized_pnl = result.realized_pnl
        if result.closes_cycle:
            cycle, created = Cycle.objects.get_or_create(
                bot=bot,
                order_id=trade.order_id,
                defaults={"level": trade.order.level, "profit": result.realized_pnl, "closed_at": trade.executed_at},
            )
            if created:
                new_cycles += 1
            else:
                Cycle.objects.filter(pk=cycle.pk).update(profit=cycle.profit + result.realized_pnl)
    _book_to_row(book, row)
    row.cycle_count += new_cycles
    if row.last_price is None:
        row.last_price = Decimal(trades[-1].price)
    row.unrealized_pnl = book.unrealized(row.last_price)
    row.save()
    _emit_metrics(bot, row)
    return row


@transaction.atomic
def metrics_apply_funding(*, bot, payments) -> BotMetrics:
    """Fold newly stored funding payments (trading.FundingPayment rows, the bot's share) into
    the bot's profit book: `funding` and total PnL, never grid profit. Called by
    trading.funding.funding_store inside the transaction that created the rows, so each row is
    counted exactly once (a retry finds the row stored and adds nothing)."""
    metrics_get_or_create(bot=bot)
    row = BotMetrics.objects.select_for_update().get(bot=bot)
    book = _book_from_row(bot, row)
    for payment in payments:
        book.apply_funding(Decimal(payment.amount))
    _book_to_row(book, row)
    row.save()
    _emit_metrics(bot, row)
    return row


def metrics_update_price(*, bot, price) -> BotMetrics:
    """Revalue inventory (unrealized PnL) at the latest price."""
    price = Decimal(price)
    metrics_get_or_create(bot=bot)
    with transaction.atomic():
        row = BotMetrics.objects.select_for_update().get(bot=bot)
        if row.last_price == price:
            return row
        book = _book_from_row(bot, row)
        row.last_price = price
        row.unrealized_pnl = book.unrealized(price)
        row.save(update_fields=["last_price", "unrealized_pnl", "updated_at"])
        _emit_metrics(bot, row)
    return row


def metrics_update_prices(*, bots, price) -> int:
    """Revalue many bots at one price (an account pass's bots of one symbol): one read of their
    rows under lock (in bot id order, so two passes never wait on each other in a cycle), one
    write and one count of the day's cycles for all of them, instead of five statements a bot.
    A bot whose figures already stand at `price` is left alone. Returns how many were revalued."""
    price = Decimal(price)
    by_id = {b.pk: b for b in bots}
    if not by_id:
        return 0
    have = set(BotMetrics.objects.filter(bot_id__in=list(by_id)).values_list("bot_id", flat=True))
    for bot_id in sorted(set(by_id) - have):
        metrics_get_or_create(bot=by_id[bot_id])
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            BotMetrics.objects.select_for_update()
            .filter(bot_id__in=list(by_id))
            .exclude(last_price=price)
            .order_by("bot_id")
        )
        if not rows:
            return 0
        for row in rows:
            row.unrealized_pnl = _book_from_row(by_id[row.bot_id], row).unrealized(price)
            row.last_price = price
            row.updated_at = now
        # one UPDATE; only the unrealized PnL differs by row (bulk_update would build a CASE for
        # each of the three columns: a third of the pass's time at ten bots)
        BotMetrics.objects.filter(pk__in=[r.pk for r in rows]).update(
            last_price=price,
            updated_at=now,
            unrealized_pnl=Case(
                *(When(pk=r.pk, then=Value(r.unrealized_pnl)) for r in rows),
                output_field=BotMetrics._meta.get_field("unrealized_pnl"),
            ),
        )
        cycles = metrics_cycles_24h_by_bot(bot_ids=[r.bot_id for r in rows], now=now)
        for row in rows:
            bot = by_id[row.bot_id]
            figures = metrics_figures(bot=bot, metrics=row, now=now, cycles_24h=cycles.get(row.bot_id, 0))
            events.emit(bot=bot, event="metrics", data=metrics_json(figures))
    return len(rows)


def metrics_total_pnl(*, bot, price) -> Decimal:
    """Revalue the bot at `price` and return its total PnL exactly as the bot page shows it:
    the profit book over every fill of every run (what take profit / stop loss compare)."""
    row = metrics_update_price(bot=bot, price=price)
    return metrics_figures(bot=bot, metrics=row, with_24h=False)["total_pnl"]


def _emit_metrics(bot, row: BotMetrics) -> None:
    # The same JSON as GET /api/bots/{id}/metrics/ (plain decimal strings).
    events.emit(bot=bot, event="metrics", data=metrics_json(metrics_figures(bot=bot, metrics=row)))


def metrics_recompute(*, bot, price: Decimal | None = None) -> dict:
    """Figures recomputed from every stored trade of the bot (the truth the incremental path
    must equal). Returns {column: value, "cycle_count": n, "book": {...}, "realized": {trade_id: pnl}}."""
    book = book_empty(bot=bot)
    cycle_orders: set[int] = set()
    realized: dict[int, Decimal] = {}
    qs = Trade.objects.filter(bot=bot).select_related("order").order_by("executed_at", "id")
    for trade in qs.iterator(chunk_size=2000):
        result = book.apply(book_fill(trade))
        realized[trade.pk] = result.realized_pnl
        if result.closes_cycle:
            cycle_orders.add(trade.order_id)
    for amount in FundingPayment.objects.filter(bot=bot).order_by("paid_at", "id").values_list("amount", flat=True):
        book.apply_funding(amount)
    figures = {name: getattr(book, name) for name in _BOOK_COLUMNS}
    figures["cycle_count"] = len(cycle_orders)
    figures["book"] = book.to_json()
    figures["unrealized_pnl"] = book.unrealized(price) if price is not None else None
    figures["realized"] = realized
    return figures


def metrics_reconcile(*, bot, now: datetime | None = None) -> str:
    """Recompute the bot's figures from all trades; on a difference, flag drift on BotMetrics
    (drift_detected_at/detail) and log it. Returns the drift detail ("" when none)."""
    now = now or timezone.now()
    with transaction.atomic():
        metrics_get_or_create(bot=bot)
        row = BotMetrics.objects.select_for_update().get(bot=bot)
        figures = metrics_recompute(bot=bot)
        diffs = []
        for name in (*_BOOK_COLUMNS, "cycle_count"):
            stored, truth = getattr(row, name), figures[name]
            if isinstance(truth, Decimal):
                stored, truth = q18(Decimal(stored)), q18(truth)
            if stored != truth:
                diffs.append(f"{name}: stored {stored} != recomputed {truth}")
        detail = "; ".join(diffs)
        if detail:
            logger.warning("metrics drift on bot %s: %s", bot.pk, detail)
            row.drift_detected_at = now
            row.drift_detail = detail[:4000]
            row.save(update_fields=["drift_detected_at", "drift_detail", "updated_at"])
        elif row.drift_detected_at is not None:
            row.drift_detected_at = None
            row.drift_detail = ""
            row.save(update_fields=["drift_detected_at", "drift_detail", "updated_at"])
    return detail


def metrics_snapshot(*, bot, now: datetime | None = None) -> MetricSnapshot | None:
    """Write one chart point (equity, grid profit, total PnL at the last price)."""
    now = (now or timezone.now()).replace(microsecond=0)
    row = BotMetrics.objects.filter(bot=bot).first()
    if row is None:
        return None
    total = row.realized_pnl + row.unrealized_pnl + row.funding
    snapshot, _ = MetricSnapshot.objects.update_or_create(
        bot=bot,
        taken_at=now,
        defaults={
            "price": row.last_price,
            "equity": row.invested + total,
            "grid_profit": row.grid_profit,
            "total_pnl": total,
        },
    )
    return snapshot


def metrics_snapshot_all(*, now: datetime | None = None) -> int:
    """One chart point for every active bot (called by the periodic snapshot task). A bot without
    figures yet (no fill) has no point to write."""
    now = now or timezone.now()
    count = 0
    rows = BotMetrics.objects.filter(bot__status__in=ACTIVE_STATUSES).select_related("bot").order_by("bot_id")
    for row in rows.iterator():
        if metrics_snapshot(bot=row.bot, now=now):
            count += 1
    return count


def metrics_reconcile_all(*, now: datetime | None = None) -> int:
    """Recompute every bot that has metrics and flag drift; returns how many drifted."""
    drifted = 0
    for row in BotMetrics.objects.select_related("bot").order_by("bot_id").iterator():
        if metrics_reconcile(bot=row.bot, now=now):
            drifted += 1
    return drifted
