"""Orders and trades of record: the order state machine and reconciliation with the exchange.

Rules this module enforces (see docs/architecture.md "The path of one fill"):
- an Order row is committed as PENDING with its deterministic client_order_id BEFORE it is sent;
  sending the same id twice is harmless (the exchange refuses the duplicate, we look it up);
- a timeout or lost connection (AmbiguousOutcome) never fails an order: it stays pending until a
  lookup by client order id, or the next reconciliation, settles it;
- each execution is stored once (Trade.exec_id is unique; inserted in a savepoint);
- terminal states never move back, filled_qty never decreases;
- an open order the exchange no longer knows becomes MISSING after a grace period, so that the
  planner re-places its level deterministically.
Nothing here holds a database transaction across an HTTP call."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from bots.engine.ids import parse_client_order_id
from exchanges.client import (
    BatchItemResult,
    CancelItemResult,
    Category,
    ExchangeClient,
    ExchangeOrder,
    ExchangeOrderStatus,
    Fill,
    OrderType,
    PlaceOrder,
    Side,
)
from exchanges.errors import (
    AmbiguousOutcome,
    BudgetWait,
    DuplicateClientOrderId,
    ExchangeError,
    OrderNotFound,
    OrderRejected,
    TemporaryExchangeError,
)
from live.events import emit
from trading.models import Order, Trade
from trading.signals import bot_log, trades_stored

if TYPE_CHECKING:
    from bots.models import Bot

logger = logging.getLogger(__name__)

S = Order.Status
TERMINAL = frozenset({S.FILLED, S.CANCELLED, S.REJECTED})
MISSING_GRACE = timedelta(seconds=30)
MAX_SEND_ATTEMPTS = 8
FILLS_OVERLAP = timedelta(minutes=2)

_EXCHANGE_TO_STATUS = {
    ExchangeOrderStatus.NEW: S.OPEN,
    ExchangeOrderStatus.PARTIALLY_FILLED: S.PARTIALLY_FILLED,
    ExchangeOrderStatus.FILLED: S.FILLED,
    ExchangeOrderStatus.CANCELLED: S.CANCELLED,
    ExchangeOrderStatus.PARTIALLY_FILLED_CANCELLED: S.CANCELLED,
    ExchangeOrderStatus.REJECTED: S.REJECTED,
}

# Allowed moves of the order state machine (from -> to). Terminal states have none.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED, S.MISSING, S.CANCELLING}),
    S.OPEN: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLING, S.CANCELLED, S.MISSING, S.REJECTED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLING, S.CANCELLED, S.MISSING}),
    S.CANCELLING: frozenset({S.CANCELLED, S.FILLED, S.PARTIALLY_FILLED, S.OPEN, S.MISSING}),
    S.MISSING: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}


class OrderPlacementFailed(ExchangeError):
    """The exchange refused one of the bot's orders for a reason retrying cannot fix now
    (insufficient balance, invalid order, too many open orders). The bot goes to `error`."""


def bot_owns_client_order_id(bot: Bot, client_order_id: str) -> bool:
    """True when the id was generated for this bot (any generation)."""
    key = parse_client_order_id(client_order_id)
    if key is not None:
        return key.bot_id == bot.pk
    return client_order_id.startswith((f"sk{bot.pk}g", f"sk{bot.pk}-"))


def _bot_log(
    bot: Bot,
    *,
    kind: str,
    message: str,
    level: str = "info",
    data: dict | None = None,
    code: str = "",
    params: dict | None = None,
) -> None:
    """A line for the bot's log (kind and level: values of BotEvent.Kind and .Level). bots writes
    it and tells the owner (bots.log, listening to trading.signals.bot_log), in this transaction."""
    bot_log.send(sender=Order, bot=bot, kind=kind, message=message, level=level, data=data, code=code, params=params)


def _log_fill(bot: Bot, order: Order) -> None:
    """The bot log's line for an order that filled completely (one wording everywhere)."""
    price = order.avg_price or order.price
    _bot_log(
        bot,
        kind="filled",
        message=f"{order.side} {order.qty} {order.symbol} filled at {price}"
        + (f" (line {order.level})" if order.level is not None else ""),
        data={"client_order_id": order.client_order_id, "level": order.level},
        code="filled_level" if order.level is not None else "filled",
        params={"side": order.side, "qty": order.qty, "symbol": order.symbol, "price": price, "level": order.level},
    )


def order_data(order: Order) -> dict:
    return {
        "id": order.pk,
        "client_order_id": order.client_order_id,
        "side": order.side,
        "order_type": order.order_type,
        "price": None if order.price is None else str(order.price),
        "qty": str(order.qty),
        "filled_qty": str(order.filled_qty),
        "avg_price": None if order.avg_price is None else str(order.avg_price),
        "status": order.status,
        "level": order.level,
        "purpose": order.purpose,
    }


def trade_data(trade: Trade) -> dict:
    return {
        "id": trade.pk,
        "bot": trade.bot_id,
        "symbol": trade.symbol,
        "side": trade.side,
        "price": str(trade.price),
        "qty": str(trade.qty),
        "fee": str(trade.fee),
        "fee_coin": trade.fee_coin,
        "realized_pnl": str(trade.realized_pnl),
        "executed_at": trade.executed_at.isoformat(),
    }


# --- writing and sending orders -------------------------------------------------------------


def order_write_pending(*, bot: Bot, planned) -> tuple[Order, bool]:
    """Commit the PENDING row of a planned order (engine PlannedOrder). Idempotent by id."""
    side = Side(planned.side).value
    order_type = OrderType(planned.order_type).value
    order, created = Order.objects.get_or_create(
        client_order_id=planned.client_order_id,
        defaults={
            "bot": bot,
            "user_id": bot.user_id,
            "symbol": bot.symbol,
            "purpose": str(getattr(planned.purpose, "value", planned.purpose)),
            "level": planned.level,
            "side": side,
            "order_type": order_type,
            "price": planned.price if order_type == Order.Type.LIMIT else None,
            "qty": planned.qty,
            "status": S.PENDING,
        },
    )
    if created:
        emit(bot=bot, event="order.created", data=order_data(order))
    return order, created


def _place_request(bot: Bot, order: Order) -> PlaceOrder:
    return PlaceOrder(
        category=Category(bot.category),
        symbol=order.symbol,
        side=Side(order.side),
        order_type=OrderType(order.order_type),
        qty=order.qty,
        client_order_id=order.client_order_id,
        price=order.price if order.order_type == Order.Type.LIMIT else None,
        reduce_only=order.purpose == Order.Purpose.CLOSE and bot.category == Category.LINEAR,
    )


def order_send(*, bot: Bot, client: ExchangeClient, order: Order) -> Order:
    """Send one PENDING order. Ambiguity leaves it pending; a refusal records it and raises
    OrderPlacementFailed; a temporary error leaves it pending and re-raises."""
    Order.objects.filter(pk=order.pk).update(send_attempts=order.send_attempts + 1, sent_at=timezone.now())
    order.send_attempts += 1
    try:
        placed = client.place_order(_place_request(bot, order))
    except BudgetWait:
        _not_sent([order])
        raise
    except DuplicateClientOrderId:
        return order_lookup(bot=bot, client=client, order=order)
    except AmbiguousOutcome as exc:
        logger.warning(
            "bot %s order %s: ambiguous outcome (%s); settling by lookup", bot.pk, order.client_order_id, exc
        )
        try:
            return order_lookup(bot=bot, client=client, order=order)
        except (TemporaryExchangeError, AmbiguousOutcome):
            return order  # still pending: the next reconciliation settles it
    except OrderRejected as exc:
        raise _order_refused(bot=bot, order=order, exc=exc) from exc
    return _order_placed(bot=bot, client=client, order=order, placed=placed)


def _order_refused(*, bot: Bot, order: Order, exc: OrderRejected) -> OrderPlacementFailed:
    order_transition(bot=bot, order=order, status=S.REJECTED, reject_reason=str(exc.message or exc)[:300])
    _bot_log(
        bot,
        kind="error",
        level="error",
        message=f"The exchange refused the {order.side.lower()} order at {order.price or 'market'}: {exc.message or exc}",
        data={"client_order_id": order.client_order_id, "error": type(exc).__name__},
        code="order_refused",
        params={"side": order.side, "price": order.price or "market", "error": exc.message or exc},
    )
    failed = OrderPlacementFailed(f"{type(exc).__name__}: {exc.message or exc}", code=exc.code)
    failed.__cause__ = exc
    return failed


def _order_placed(*, bot: Bot, client: ExchangeClient, order: Order, placed) -> Order:
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status == S.PENDING:
            locked.exchange_order_id = placed.order_id
            order_transition(bot=bot, order=locked, status=S.OPEN, save=False)
            locked.save(update_fields=["exchange_order_id", "status", "updated_at"])
        elif not locked.exchange_order_id:
            locked.exchange_order_id = placed.order_id
            locked.save(update_fields=["exchange_order_id", "updated_at"])
    if locked.order_type == Order.Type.MARKET:
        try:  # a market order settles at once: record it now rather than on the next tick
            locked = order_lookup(bot=bot, client=client, order=locked)
        except (TemporaryExchangeError, AmbiguousOutcome):
            pass
    return locked


def orders_send_batch(*, bot: Bot, client: ExchangeClient, orders: list[Order]) -> list[Order]:
    """Send PENDING limit orders in one call of the port's batch placement (one request per
    venue batch; venues without a batch endpoint place them one by one inside the adapter).
    Each item is settled as order_send settles one order: placed -> open; duplicate or
    ambiguous -> looked up by its client order id (still pending if that is not known yet);
    refused -> rejected with its event. One refused item does not stop the others; after all
    of them are recorded, the first refusal (OrderPlacementFailed) or error is raised."""
    if not orders:
        return []
    now = timezone.now()
    for order in orders:
        Order.objects.filter(pk=order.pk).update(send_attempts=order.send_attempts + 1, sent_at=now)
        order.send_attempts += 1
    try:
        results = client.place_orders([_place_request(bot, o) for o in orders])
    except BudgetWait:
        _not_sent(orders)
        raise
    except AmbiguousOutcome:
        results = [BatchItemResult(client_order_id=o.client_order_id, error=AmbiguousOutcome("batch")) for o in orders]
    by_id = {r.client_order_id: r for r in results}
    out: list[Order] = []
    first: Exception | None = None
    waiting: BudgetWait | None = None
    for order in orders:
        result = by_id.get(order.client_order_id)
        error = result.error if result is not None else AmbiguousOutcome("no result for this item")
        if result is not None and result.placed is not None:
            out.append(_order_placed(bot=bot, client=client, order=order, placed=result.placed))
            continue
        if isinstance(error, BudgetWait):  # the batches before went; this one was never sent
            _not_sent([order])
            waiting = waiting or error
            out.append(order)
            continue
        if isinstance(error, DuplicateClientOrderId | AmbiguousOutcome):
            try:
                out.append(order_lookup(bot=bot, client=client, order=order))
            except (TemporaryExchangeError, AmbiguousOutcome):
                out.append(order)  # still pending: the next reconciliation settles it
            continue
        if isinstance(error, OrderRejected):
            failed = _order_refused(bot=bot, order=order, exc=error)
            first = first or failed
        else:
            first = first or error  # a temporary error leaves it pending, as order_send does
        out.append(order)
    if first is not None:
        raise first
    if waiting is not None:
        raise waiting
    return out


def _not_sent(orders: list[Order]) -> None:
    """Orders our own rate budget held back (BudgetWait): the attempt counted before the send
    is given back, so waiting for room never makes an order give up (MAX_SEND_ATTEMPTS)."""
    for order in orders:
        Order.objects.filter(pk=order.pk).update(send_attempts=F("send_attempts") - 1)
        order.send_attempts -= 1


def order_lookup(*, bot: Bot, client: ExchangeClient, order: Order) -> Order:
    """Settle an order by asking the exchange for its client order id."""
    found = client.order_by_client_id(
        category=Category(bot.category), symbol=order.symbol, client_order_id=order.client_order_id
    )
    if found is None:
        return order
    return order_apply_exchange_state(bot=bot, order=order, remote=found)


def order_transition(*, bot: Bot, order: Order, status: str, save: bool = True, reject_reason: str = "") -> bool:
    """Move `order` along the state machine; refuse moves that would go backwards."""
    if status == order.status:
        return False
    if status not in TRANSITIONS[order.status]:
        logger.info("order %s: ignoring %s -> %s", order.client_order_id, order.status, status)
        return False
    order.status = status
    if status in TERMINAL:
        order.closed_at = timezone.now()
    if reject_reason:
        order.reject_reason = reject_reason
    if save:
        order.save(update_fields=["status", "closed_at", "reject_reason", "updated_at"])
    event = {str(S.FILLED): "order.filled", str(S.CANCELLED): "order.cancelled"}.get(status, "order.updated")
    emit(bot=bot, event=event, data=order_data(order))
    return True


def order_apply_exchange_state(*, bot: Bot, order: Order, remote: ExchangeOrder) -> Order:
    """Fold the exchange's view of an order into our row (in its own short transaction)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        status = _EXCHANGE_TO_STATUS[remote.status]
        if status == S.OPEN and remote.filled_qty > 0:
            status = S.PARTIALLY_FILLED
        changed = []
        if remote.order_id and order.exchange_order_id != remote.order_id:
            order.exchange_order_id = remote.order_id
            changed.append("exchange_order_id")
        if remote.filled_qty > order.filled_qty:
            order.filled_qty = remote.filled_qty
            changed.append("filled_qty")
        if remote.avg_price and remote.avg_price != order.avg_price:
            order.avg_price = remote.avg_price
            changed.append("avg_price")
        moved = order_transition(
            bot=bot, order=order, status=status, save=False, reject_reason=(remote.reject_reason or "")[:300]
        )
        if moved:
            changed += ["status", "closed_at", "reject_reason"]
            if status == S.FILLED:
                _log_fill(bot, order)
        elif changed:
            emit(bot=bot, event="order.updated", data=order_data(order))
        if changed:
            order.save(update_fields=sorted(set(changed)) + ["updated_at"])
    return order


def order_mark_filled(*, bot: Bot, order: Order, filled_qty: Decimal, avg_price: Decimal) -> Order:
    """Close an order whose executions (stored) add up to its whole quantity."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        order.filled_qty = max(order.filled_qty, filled_qty)
        order.avg_price = order.avg_price or avg_price
        if order_transition(bot=bot, order=order, status=S.FILLED, save=False):
            order.save(update_fields=["filled_qty", "avg_price", "status", "closed_at", "reject_reason", "updated_at"])
            _log_fill(bot, order)
    return order


def _differs(order: Order, remote: ExchangeOrder) -> bool:
    status = _EXCHANGE_TO_STATUS[remote.status]
    if status == S.OPEN and remote.filled_qty > 0:
        status = S.PARTIALLY_FILLED
    return (
        status != order.status
        or remote.filled_qty > order.filled_qty
        or bool(remote.order_id and remote.order_id != order.exchange_order_id)
    )


def _batch_size(bot: Bot) -> int:
    """Orders per batch request on the bot's venue in the bot's category (the registry's
    capability, per category where the venue's limit differs; 0 = one by one)."""
    from exchanges.venues import VENUES

    spec = VENUES.get(bot.exchange_account.exchange.code)
    return spec.batch_size(bot.category) if spec is not None else 0


def orders_send_pending(*, bot: Bot, client: ExchangeClient, still_running=None, batch: bool = False) -> list[Order]:
    """Send every PENDING order of the bot, oldest first (the initial market order before the
    ladder). `still_running()` is checked between sends so that a stop interrupts a long ladder.

    `batch` (the launch's ladder, a running grid's counter orders): runs of limit orders go
    through the venue's batch endpoint. Items that fill on arrival execute in one millisecond;
    their fills are folded in the venue's trade sequence (fill_fold_key).

    Inside ratelimit.budget_wait_at_most (a worker's tick) a send our own budget has no room for
    stops the loop: what went is logged, the rest stay PENDING, and BudgetWait is raised."""
    sent: list[Order] = []
    pending = list(Order.objects.filter(bot=bot, status=S.PENDING).order_by("id"))
    batch_size = _batch_size(bot) if batch else 0
    waiting: BudgetWait | None = None
    i = 0
    while i < len(pending) and waiting is None:
        if still_running is not None and not still_running():
            break
        order = pending[i]
        if order.send_attempts >= MAX_SEND_ATTEMPTS:
            order_transition(
                bot=bot, order=order, status=S.REJECTED, reject_reason="gave up after repeated send failures"
            )
            i += 1
            continue
        run = [order]
        if batch_size > 1 and order.order_type == Order.Type.LIMIT:  # a run of limit orders goes as one batch
            while (
                i + len(run) < len(pending)
                and len(run) < batch_size
                and pending[i + len(run)].order_type == Order.Type.LIMIT
                and pending[i + len(run)].send_attempts < MAX_SEND_ATTEMPTS
            ):
                run.append(pending[i + len(run)])
        try:
            if len(run) > 1:
                sent.extend(orders_send_batch(bot=bot, client=client, orders=run))
            else:
                sent.append(order_send(bot=bot, client=client, order=order))
        except BudgetWait as exc:  # the rest stay PENDING for the tick that comes after the wait
            waiting = exc
            sent.extend(o for o in run if o.status != S.PENDING and o not in sent)
        i += len(run)
    placed = [o for o in sent if o.status != S.PENDING]
    if placed:
        grid = [o for o in placed if o.purpose == Order.Purpose.GRID]
        if grid:
            _bot_log(
                bot,
                kind="placed",
                message=f"Placed {len(grid)} grid order(s): "
                + ", ".join(f"{o.side.lower()} {o.qty} at {o.price}" for o in grid[:5])
                + ("…" if len(grid) > 5 else ""),
                data={"client_order_ids": [o.client_order_id for o in grid[:50]]},
                code="placed",
                params={"count": len(grid)},
            )
    if waiting is not None:
        raise waiting
    return sent


# --- fills ---------------------------------------------------------------------------------


def fill_fold_key(fill: Fill) -> tuple:
    """Execution order: the time, then the venue's execution sequence (Fill.seq), then exec_id.
    Trades are stored (ids given) in this order and the profit book folds them by (time, id):
    fills of the same millisecond must keep the venue's order, never an exec_id's string order
    (Bybit's are random UUIDs; "…-100" sorts before "…-99")."""
    return (fill.executed_at, fill.seq is None, fill.seq or 0, fill.exec_id)


def fills_store(*, bot: Bot, fills: list[Fill], cursor: bool = True) -> list[Trade]:
    """Store the bot's new executions exactly once and move the bot's fetch cursor
    (Bot.fills_seen_until) to the latest of them stored now or before. Returns the new Trade rows.
    The grid state picks them up after its own cursor (bots.services.grid_state). Runs in one
    transaction with the bot row locked. Profit is not computed here: metrics_apply_trades (told
    through trading.signals.trades_stored, in this transaction) is the one definition of cycles
    and grid profit (it sets Trade.realized_pnl), so every figure a user sees agrees.

    `cursor=False`: the fills are not a complete read since the cursor (executions the stream
    pushed; an earlier one may have been dropped), so the cursor stays for the next read to find
    what is missing. The next complete read moves it past the pushed ones as well (they are
    already stored), so a bot whose fills all come pushed does not read a growing history."""
    if not fills:
        return []
    ordered = sorted(fills, key=fill_fold_key)
    new: list[Trade] = []
    with transaction.atomic():
        bots = type(bot).objects  # the Bot model (trading sits below bots and does not import it)
        locked = bots.select_for_update().get(pk=bot.pk)
        known = set(Trade.objects.filter(exec_id__in=[f.exec_id for f in ordered]).values_list("exec_id", flat=True))
        orders = {
            o.client_order_id: o
            for o in Order.objects.filter(client_order_id__in={f.client_order_id for f in ordered})
            if o.bot_id == locked.pk  # by the unique id's index, never a scan of the bot's history
        }
        for fill in ordered:
            if fill.exec_id in known:
                continue
            order = orders.get(fill.client_order_id)
            if order is None:
                logger.error("bot %s: execution %s of unknown order %s", bot.pk, fill.exec_id, fill.client_order_id)
                continue
            try:
                with transaction.atomic():
                    trade = Trade.objects.create(
                        bot=locked,
                        order=order,
                        user_id=locked.user_id,
                        symbol=fill.symbol,
                        exec_id=fill.exec_id,
                        side=fill.side.value,
                        price=fill.price,
                        qty=fill.qty,
                        fee=fill.fee,
                        fee_coin=fill.fee_coin,
                        is_maker=fill.is_maker,
                        executed_at=fill.executed_at,
                    )
            except IntegrityError:  # stored meanwhile by someone else: exactly once still holds
                continue
            known.add(fill.exec_id)
            new.append(trade)
        stored = [f.executed_at for f in ordered if f.exec_id in known]
        if cursor and stored:
            latest = max(stored)
            if locked.fills_seen_until is None or latest > locked.fills_seen_until:
                bots.filter(pk=locked.pk).update(fills_seen_until=latest)
                locked.fills_seen_until = bot.fills_seen_until = latest
        if new:
            # Keep filled_qty at least what the stored executions add up to.
            for order in {t.order_id: t.order for t in new}.values():
                total = sum(Trade.objects.filter(order=order).values_list("qty", flat=True), Decimal(0))
                if total > order.filled_qty:
                    Order.objects.filter(pk=order.pk).update(filled_qty=total, updated_at=timezone.now())
            # metrics folds them into the profit book and sets each trade's realized_pnl
            trades_stored.send(sender=Trade, bot=locked, trades=new)
            for trade in new:
                emit(bot=locked, event="trade", data=trade_data(trade))
    return new


FILL_PAGES = 50


def _fills_since(bot: Bot):
    cursor = bot.fills_seen_until or bot.started_at
    return cursor - FILLS_OVERLAP if cursor else None


def fills_fetch(*, bot: Bot, client: ExchangeClient) -> list[Fill]:
    """Executions of this bot since the stored cursor (with an overlap; duplicates are dropped
    by exec_id on insert)."""
    result: list[Fill] = []
    cursor = None
    for _ in range(FILL_PAGES):
        page = client.fills(category=Category(bot.category), symbol=bot.symbol, since=_fills_since(bot), cursor=cursor)
        result.extend(f for f in page.fills if bot_owns_client_order_id(bot, f.client_order_id))
        cursor = page.next_cursor
        if not cursor:
            break
    return result


def fills_fetch_many(*, bots: list[Bot], client: ExchangeClient) -> dict[int, list[Fill]] | None:
    """fills_fetch for several bots of one exchange account: one executions read (and its pages)
    per category and symbol, from the earliest of their cursors, split by the bot each client
    order id names. None when a read did not reach its end (more than FILL_PAGES pages): the
    bots then read their own."""
    out: dict[int, list[Fill]] = {bot.pk: [] for bot in bots}
    groups: dict[tuple[str, str], list[Bot]] = defaultdict(list)
    for bot in bots:
        groups[(bot.category, bot.symbol)].append(bot)
    for (category, symbol), group in groups.items():
        starts = [_fills_since(bot) for bot in group]
        since = None if None in starts else min(starts)
        cursor = None
        for _ in range(FILL_PAGES):
            page = client.fills(category=Category(category), symbol=symbol, since=since, cursor=cursor)
            for fill in page.fills:
                owner = next((bot for bot in group if bot_owns_client_order_id(bot, fill.client_order_id)), None)
                if owner is not None:
                    out[owner.pk].append(fill)
            cursor = page.next_cursor
            if not cursor:
                break
        else:
            return None
    return out


# --- reconciliation ------------------------------------------------------------------------


@dataclass
class ReconcileResult:
    new_trades: list[Trade] = field(default_factory=list)
    changed_orders: int = 0
    missing: list[str] = field(default_factory=list)
    orphans_cancelled: list[str] = field(default_factory=list)


def orders_reconcile(*, bot: Bot, client: ExchangeClient, now=None) -> ReconcileResult:
    """Bring our orders and trades in line with the exchange: new executions, open orders, and
    a lookup by client order id for every active order the exchange no longer lists."""
    now = now or timezone.now()
    result = ReconcileResult()
    result.new_trades = fills_store(bot=bot, fills=fills_fetch(bot=bot, client=client))
    remote_open = {
        o.client_order_id: o
        for o in client.open_orders(category=Category(bot.category), symbol=bot.symbol)
        if bot_owns_client_order_id(bot, o.client_order_id)
    }
    ours = list(Order.objects.filter(bot=bot, status__in=[*Order.OPEN_STATUSES, S.MISSING]).order_by("id"))
    # Rows we consider closed (cancelled or rejected) but the exchange lists as open: a request
    # that arrived after we gave up on it. Treated like orphans below: cancelled.
    known_ids = set(
        Order.objects.filter(client_order_id__in=list(remote_open))
        .exclude(status__in=[S.CANCELLED, S.REJECTED])
        .values_list("client_order_id", flat=True)
    )
    executed: dict[int, tuple[Decimal, Decimal]] = {}
    for order_id, qty, price in Trade.objects.filter(order__in=ours).values_list("order_id", "qty", "price"):
        total, value = executed.get(order_id, (Decimal(0), Decimal(0)))
        executed[order_id] = (total + qty, value + qty * price)
    for order in ours:
        remote = remote_open.get(order.client_order_id)
        done_qty, done_value = executed.get(order.pk, (Decimal(0), Decimal(0)))
        if remote is None and order.status != S.PENDING and done_qty >= order.qty:
            # Every unit is accounted for by stored executions: filled, no need to ask.
            order_mark_filled(bot=bot, order=order, filled_qty=done_qty, avg_price=done_value / done_qty)
            result.changed_orders += 1
            continue
        if remote is None and order.status == S.PENDING and order.send_attempts == 0:
            continue  # never sent (attempts are counted before the request): nothing to ask
        if remote is None:
            remote = client.order_by_client_id(
                category=Category(bot.category), symbol=bot.symbol, client_order_id=order.client_order_id
            )
        if remote is not None:
            if not _differs(order, remote):
                continue  # the common case: nothing changed since the last tick, no write
            before = (order.status, order.filled_qty)
            order = order_apply_exchange_state(bot=bot, order=order, remote=remote)
            result.changed_orders += before != (order.status, order.filled_qty)
            continue
        if order.status == S.PENDING:
            continue  # never reached the exchange: orders_send_pending sends it (same id)
        if order.status == S.CANCELLING:
            order_transition(bot=bot, order=order, status=S.CANCELLED)
            continue
        if order.status in (S.OPEN, S.PARTIALLY_FILLED) and order.updated_at < now - MISSING_GRACE:
            order_transition(bot=bot, order=order, status=S.MISSING)
            result.missing.append(order.client_order_id)
            _bot_log(
                bot,
                kind="warning",
                level="warning",
                message=f"The exchange no longer knows the {order.side.lower()} order at {order.price}; it will be placed again.",
                data={"client_order_id": order.client_order_id},
                code="order_missing",
                params={"side": order.side, "price": order.price},
            )
    # Open orders carrying this bot's ids with no row of record: never ours to keep.
    orphans = sorted(set(remote_open) - known_ids)
    orders_cancel_ids(client=client, category=Category(bot.category), symbol=bot.symbol, client_order_ids=orphans)
    for cid in orphans:
        result.orphans_cancelled.append(cid)
        logger.warning("bot %s: cancelled orphan order %s", bot.pk, cid)
    return result


def orders_reconcile_pushed(*, bot: Bot, fills: list[Fill]) -> ReconcileResult | None:
    """A fill's tick without asking the exchange: store the executions the stream pushed (once,
    by exec_id; the fetch cursor stays, fills_store) and close the orders they fill completely.
    The common case of a grid: a resting order filled, whose counter order is then placed with no
    executions or open-orders read before it (two requests, and the venue's answer time, on the
    fill -> counter path).

    None, with nothing stored, when the push does not settle every order it names: a partial fill,
    an order not sent yet by our books (its answer not back), an order of another run or of
    another bot, or a value that is not a positive number. The caller then reconciles by reading
    the exchange, as it always did; the bot's periodic tick and the account pass read it anyway."""
    ids = {f.client_order_id for f in fills}
    keys = [parse_client_order_id(cid) for cid in ids]
    if (
        not fills
        or any(k is None or (k.bot_id, k.generation) != (bot.pk, bot.generation) for k in keys)
        or any(
            not (f.qty.is_finite() and f.qty > 0 and f.price.is_finite() and f.price > 0 and f.fee.is_finite())
            for f in fills
        )
    ):
        return None
    orders = [o for o in Order.objects.filter(client_order_id__in=ids) if o.bot_id == bot.pk]
    if len(orders) != len(ids) or any(o.status not in (S.OPEN, S.PARTIALLY_FILLED, S.FILLED) for o in orders):
        return None
    by_id = {o.pk: o for o in orders}
    executed: dict[int, tuple[Decimal, Decimal]] = {}
    stored: set[str] = set()
    for exec_id, order_id, qty, price in Trade.objects.filter(order__in=orders).values_list(
        "exec_id", "order_id", "qty", "price"
    ):
        stored.add(exec_id)
        total, value = executed.get(order_id, (Decimal(0), Decimal(0)))
        executed[order_id] = (total + qty, value + qty * price)
    for fill in fills:
        if fill.exec_id in stored:
            continue
        stored.add(fill.exec_id)
        order_id = next(o.pk for o in orders if o.client_order_id == fill.client_order_id)
        total, value = executed.get(order_id, (Decimal(0), Decimal(0)))
        executed[order_id] = (total + fill.qty, value + fill.qty * fill.price)
    if any(executed.get(pk, (Decimal(0),))[0] != order.qty for pk, order in by_id.items()):
        return None  # partly filled (or more than the order: the exchange's read says which)
    result = ReconcileResult(new_trades=fills_store(bot=bot, fills=fills, cursor=False))
    for pk, order in by_id.items():
        if order.status == S.FILLED:
            continue
        qty, value = executed[pk]
        order_mark_filled(bot=bot, order=order, filled_qty=qty, avg_price=value / qty)
        result.changed_orders += 1
    return result


def orders_cancel_ids(
    *, client: ExchangeClient, category: Category, symbol: str, client_order_ids: list[str]
) -> list[CancelItemResult]:
    """Cancel these orders on the exchange through the port's batch cancel (one request per
    venue batch; one by one where the venue has no batch endpoint). An order already gone is
    fine. Items whose outcome is unknown (a lost batch) or that met the quota are left for the
    caller to settle by asking the order's state, which makes a retry harmless. Any other
    refusal is raised (the first), as a single cancel raised it."""
    if not client_order_ids:
        return []
    results = client.cancel_orders(category=category, symbol=symbol, client_order_ids=client_order_ids)
    for item in results:
        if not item.gone and not isinstance(item.error, AmbiguousOutcome | TemporaryExchangeError):
            assert item.error is not None
            raise item.error
    return results


def orders_cancel_all(*, bot: Bot, client: ExchangeClient, swept: bool = False) -> int:
    """Cancel every open order of the bot on the exchange, then record the outcome. Returns
    how many were cancelled. Orders of other bots on the same symbol are left alone.
    `swept`: a stop run has just read the account's open orders, cancelled the bot's, marked
    those rows cancelled and stored the bot's executions up to then (bots.services.stop_run): the
    open orders and executions are not read again (two requests a bot, 2,000 at stop all of 1,000
    bots against the IP's 600 per 5 s); a row it did not settle is still asked by its id below."""
    category = Category(bot.category)
    active = list(Order.objects.filter(bot=bot, status__in=[*Order.OPEN_STATUSES, S.MISSING]))
    if swept and any(o.filled_qty < o.qty and (o.status != S.PENDING or o.send_attempts) for o in active):
        # a row the run did not settle (sent after its read: a tick already running, or this stop
        # tick's own close before a retry): its executions are read before it is asked about
        swept = False
    for order in active:
        if order.status in (S.OPEN, S.PARTIALLY_FILLED):
            order_transition(bot=bot, order=order, status=S.CANCELLING)
    remote = (
        []
        if swept
        else [
            o.client_order_id
            for o in client.open_orders(category=category, symbol=bot.symbol)
            if bot_owns_client_order_id(bot, o.client_order_id)
        ]
    )
    results = orders_cancel_ids(client=client, category=category, symbol=bot.symbol, client_order_ids=remote)
    # The venue said it cancelled these (they were open a moment ago): nothing to ask once the
    # executions up to now are stored. A 25-order stop asked 25 lookups here; at "stop all" of
    # 1,000 bots that was 25,000 requests against the IP's 600 per 5 s.
    cancelled_now = {r.client_order_id for r in results if r.error is None}
    if not swept:
        fills_store(bot=bot, fills=fills_fetch(bot=bot, client=client))
    executed: dict[int, Decimal] = defaultdict(Decimal)
    for order_id, qty in Trade.objects.filter(bot=bot, order__status__in=[*Order.OPEN_STATUSES, S.MISSING]).values_list(
        "order_id", "qty"
    ):
        executed[order_id] += qty
    # Final state of each other: filled (its executions say so), or asked by its client order id:
    # filled meanwhile, cancelled, or (a lost or refused batch item) still open, then cancelled again.
    cancelled = 0
    for order in Order.objects.filter(bot=bot, status__in=[*Order.OPEN_STATUSES, S.MISSING]):
        if order.status == S.PENDING and order.send_attempts == 0:
            order_transition(bot=bot, order=order, status=S.CANCELLED, reject_reason="bot stopped before sending")
            cancelled += 1
            continue
        if order.client_order_id in cancelled_now:
            cancelled += order_transition(bot=bot, order=order, status=S.CANCELLED)
            continue
        if order.status != S.PENDING and executed[order.pk] >= order.qty:
            fills = Trade.objects.filter(order=order).values_list("qty", "price")
            value = sum((q * p for q, p in fills), Decimal(0))
            order_mark_filled(bot=bot, order=order, filled_qty=executed[order.pk], avg_price=value / executed[order.pk])
            continue
        found = client.order_by_client_id(category=category, symbol=bot.symbol, client_order_id=order.client_order_id)
        if found is None:
            if order.status == S.PENDING:
                order_transition(bot=bot, order=order, status=S.CANCELLED, reject_reason="bot stopped before sending")
            else:
                order_transition(bot=bot, order=order, status=S.CANCELLED)
            cancelled += 1
            continue
        if found.status.is_open:  # raced with a late arrival: cancel again
            try:
                client.cancel_order(category=category, symbol=bot.symbol, client_order_id=order.client_order_id)
            except OrderNotFound:
                pass
            found = (
                client.order_by_client_id(category=category, symbol=bot.symbol, client_order_id=order.client_order_id)
                or found
            )
        order = order_apply_exchange_state(bot=bot, order=order, remote=found)
        cancelled += order.status == S.CANCELLED
    if cancelled:
        _bot_log(
            bot,
            kind="cancelled",
            message=f"Cancelled {cancelled} open order(s) on the exchange.",
            data={"count": cancelled},
            code="orders_cancelled",
            params={"count": cancelled},
        )
    return cancelled
