"""The one owner of a bot's typed grid state (bots.engine.state.GridState) in the database: the
GridSnapshot row, its versioned conditional write, and the events that bring it up to date with
the order and trade rows of record.

Cost per tick is O(orders the state watches + new executions): the watched orders are the ones
on the book (about one per grid interval) and the new executions come after a cursor, so a bot
with 100,000 past orders ticks as fast as a new one. The per-order history is read once only,
to build the first snapshot of a run that has none (a bot running before this module existed).

Crash safety: the PENDING rows of a plan and the state that knows them are written in ONE
transaction (grid_state_save inside the caller's atomic block), before anything is sent; the
write is conditional on the version read, so a second writer fails instead of overwriting."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Sum

from bots.engine import ids
from bots.engine.ids import parse_client_order_id
from bots.engine.planner import LevelOrder
from bots.engine.state import GridState
from bots.models import Bot, GridSnapshot
from exchanges.client import FeeRates, Side
from trading.models import Order, Trade

ZERO = Decimal(0)
TERMINAL = (Order.Status.FILLED, Order.Status.CANCELLED, Order.Status.REJECTED)


class StaleGridState(Exception):
    """Someone else wrote the bot's grid state since it was read: nothing of this write stays."""


def generation_prefix(bot: Bot) -> str:
    """What the client ids of the bot's current run start with (bots.engine.ids)."""
    return ids.generation_prefix(bot.pk, bot.generation)


def generation_prefixes(bot: Bot) -> tuple[str, str]:
    """The run's prefix in the current and in the earlier id format (orders placed before the
    change of format are still this run's)."""
    return generation_prefix(bot), ids.legacy_generation_prefix(bot.pk, bot.generation)


def generation_filter(bot: Bot, field: str = "client_order_id") -> Q:
    current, legacy = generation_prefixes(bot)
    return Q(**{f"{field}__startswith": current}) | Q(**{f"{field}__startswith": legacy})


def grid_state_exists(*, bot: Bot) -> bool:
    """True when the current run has launched (its grid state was written) — or, for a run that
    launched before typed snapshots existed, when it has orders."""
    if GridSnapshot.objects.filter(bot=bot, generation=bot.generation).exists():
        return True
    return Order.objects.filter(generation_filter(bot), bot=bot).exists()


def grid_state_new(*, bot: Bot, levels, fees: FeeRates | None, launch_price=None, qty_per_grid=None) -> GridState:
    """The state of a run about to launch: no order yet; executions before now are not its own."""
    cursor = Trade.objects.filter(bot=bot).aggregate(m=Max("pk"))["m"] or 0
    return GridState.new(
        bot_id=bot.pk,
        generation=bot.generation,
        spot=bot.category == Bot.Category.SPOT,
        levels=levels,
        fees=fees,
        trade_cursor=cursor,
        launch_price=launch_price,
        qty_per_grid=qty_per_grid,
    )


def grid_state_load(
    *, bot: Bot, levels, fees: Callable[[], FeeRates | None] | FeeRates | None = None
) -> tuple[GridState, int]:
    """(state of the current run, version read). A run without a snapshot (launched before
    snapshots existed) is rebuilt once from its orders and executions; `fees` (or a callable
    giving them) then sets the estimated base-fee rate. Version 0 means no row yet."""
    row = GridSnapshot.objects.filter(bot=bot).first()
    if row is not None and row.generation == bot.generation:
        return GridState.from_json(row.data), row.version
    rates = fees() if callable(fees) else fees
    return _rebuild(bot, levels, rates), (row.version if row is not None else 0)


def grid_state_version(*, bot: Bot) -> int:
    """The version of the bot's snapshot row (0: none yet), whatever run it belongs to."""
    return GridSnapshot.objects.filter(bot=bot).values_list("version", flat=True).first() or 0


def grid_state_save(*, bot: Bot, state: GridState, version: int) -> int:
    """Write the snapshot if it is still at `version`; returns the new version. Call inside the
    transaction that writes the PENDING rows the state now knows."""
    data = state.to_json()
    if version == 0:
        try:
            with transaction.atomic():
                GridSnapshot.objects.create(bot=bot, generation=state.generation, version=1, data=data)
        except IntegrityError as exc:
            raise StaleGridState(f"bot {bot.pk}: grid state created meanwhile") from exc
        return 1
    written = GridSnapshot.objects.filter(bot=bot, version=version).update(
        generation=state.generation, version=version + 1, data=data
    )
    if written != 1:
        raise StaleGridState(f"bot {bot.pk}: grid state moved past version {version}")
    return version + 1


def _base_coin(bot: Bot) -> str:
    return ((bot.instrument or {}).get("base_coin") or "").upper()


def _quote_coin(bot: Bot) -> str:
    return ((bot.instrument or {}).get("quote_coin") or "USDT").upper()


def _fee_in(bot: Bot, coin: str) -> str:
    coin = (coin or "").upper()
    if bot.category != Bot.Category.SPOT or not coin or coin == _quote_coin(bot):
        return "quote"
    return "base" if coin == _base_coin(bot) else "other"


def grid_state_sync(*, bot: Bot, state: GridState) -> bool:
    """Fold into `state` what changed in the rows of record since it was written: each watched
    order's status and filled quantity (fill / cancel / reject / missing / reopened), executions
    of orders it no longer watches (late fills), and this run's inventory and cash. Idempotent;
    returns True when the state changed."""
    spot = bot.category == Bot.Category.SPOT
    base_coin = _base_coin(bot)
    watched = set(state.watched)
    changed = False
    if watched:
        # By the unique client id alone (its index whatever the table's statistics say); the
        # ids carry the bot's id, the check below keeps another bot's row out all the same.
        rows = [
            row
            for row in Order.objects.filter(client_order_id__in=watched).only(
                "id", "bot_id", "client_order_id", "side", "status", "filled_qty"
            )
            if row.bot_id == bot.pk
        ]
        executed: dict[int, tuple[Decimal, Decimal]] = {
            r["order_id"]: (r["qty"] or ZERO, r["base_fee"] or ZERO)
            for r in Trade.objects.filter(order__in=rows)
            .values("order_id")
            .annotate(
                qty=Sum("qty"), base_fee=Sum("fee", filter=Q(fee_coin__iexact=base_coin) if spot else Q(pk__in=[]))
            )
        }
        for row in rows:
            total, base_fee = executed.get(row.pk, (ZERO, ZERO))
            exact = base_fee if spot and row.side == Side.BUY.value and total == row.filled_qty else None
            changed |= state.observe(
                row.client_order_id,
                filled=row.filled_qty,
                is_open=row.status in Order.OPEN_STATUSES,
                base_fee=exact,
                settled=row.status in TERMINAL and total >= row.filled_qty,
            )
    prefixes = generation_prefixes(bot)
    new_trades = (
        Trade.objects.filter(bot=bot, pk__gt=state.trade_cursor)
        .select_related("order")
        .only("id", "side", "qty", "price", "fee", "fee_coin", "order__client_order_id", "order__purpose")
        .order_by("pk")
    )
    for trade in new_trades:
        state.trade_cursor = max(state.trade_cursor, trade.pk)
        changed = True
        cid = trade.order.client_order_id
        if not cid.startswith(prefixes):
            continue  # an earlier run's late execution: its profit is in the book, not this run's grid
        fee_in = _fee_in(bot, trade.fee_coin)
        state.trade(side=Side(trade.side), qty=trade.qty, price=trade.price, fee=trade.fee, fee_in=fee_in)
        if trade.order.purpose == Order.Purpose.GRID and cid not in watched:
            state.late_fill(cid, qty=trade.qty, base_fee=trade.fee if fee_in == "base" else ZERO)
    return changed


def _rebuild(bot: Bot, levels, fees: FeeRates | None) -> GridState:
    """The state of the current run from its whole history (once per run at most)."""
    spot = bot.category == Bot.Category.SPOT
    base_coin = _base_coin(bot)
    rows = list(
        Order.objects.filter(generation_filter(bot), bot=bot, purpose=Order.Purpose.GRID).order_by("id")
    )
    executed: dict[int, tuple[Decimal, Decimal]] = {}
    for order_id, qty, fee, fee_coin in Trade.objects.filter(order__in=rows).values_list(
        "order_id", "qty", "fee", "fee_coin"
    ):
        total, base_fee = executed.get(order_id, (ZERO, ZERO))
        executed[order_id] = (total + qty, base_fee + (fee if spot and fee_coin.upper() == base_coin else ZERO))
    state = GridState.new(bot_id=bot.pk, generation=bot.generation, spot=spot, levels=levels, fees=fees)
    for row in sorted(rows, key=lambda o: _seq(o.client_order_id)):
        total, base_fee = executed.get(row.pk, (ZERO, ZERO))
        view = LevelOrder(
            row.client_order_id, row.level, Side(row.side), row.price, row.qty, row.filled_qty, False, None
        )
        state.placed(view)
        state.observe(
            row.client_order_id,
            filled=row.filled_qty,
            is_open=row.status in Order.OPEN_STATUSES,
            base_fee=base_fee if spot and row.side == Side.BUY.value and total == row.filled_qty else None,
            settled=row.status in TERMINAL and total >= row.filled_qty,
        )
    # This run's inventory and cash, and the cursor after its last execution.
    for trade in Trade.objects.filter(generation_filter(bot, "order__client_order_id"), bot=bot).order_by("pk"):
        state.trade(
            side=Side(trade.side), qty=trade.qty, price=trade.price, fee=trade.fee, fee_in=_fee_in(bot, trade.fee_coin)
        )
    state.trade_cursor = Trade.objects.filter(bot=bot).aggregate(m=Max("pk"))["m"] or 0
    return state


def _seq(client_order_id: str) -> int:
    key = parse_client_order_id(client_order_id)
    return key.seq if key is not None else 0
