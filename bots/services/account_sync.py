"""The account pass: the safety net reconciles an exchange account, not each bot.

One pass reads, per category the account's running bots trade, the account's open orders and
its executions since the account's cursor (AccountSync; an overlap, duplicates dropped by exec
id) — ONE request each where the venue lists every symbol at once (Venue.account_reads), one per
symbol where it needs one. From those two answers and the database alone it decides per bot:

- an execution of the bot that is not stored yet, an active order row the open list does not
  show as it is (filled, cancelled, partly filled, pending, cancelling, missing), or an open
  order with the bot's id and no active row (an orphan) -> the bot's full tick is queued (the
  unchanged tick path stores each fill once and places the counter order);
- otherwise the bot is marked reconciled now (Bot.reconciled_at) with no request of its own,
  and revalued at its symbol's last price (one ticker read per venue, environment and symbol
  every few seconds, shared by every account's pass through the cache), so the bot page's
  unrealized PnL is as fresh as the safety interval without a tick of its own.

A pass that fails marks the account's AccountSync row; a refused key queues every bot's own
tick at once (its error handling tells the owner and stops the bot), other failures are
retried by beat, and a bot not reconciled for three safety intervals is ticked by itself
(bots.selectors.bot_ids_due_for_fallback_tick).

The streams supervisor records in Redis when each account's stream last delivered a message or
was seen alive, and when it reconnected (stream_seen / stream_reconnected); beat passes the
accounts whose stream is quiet, reconnected since their last pass, or absent (a venue without
a private stream), and every account at least once per SETKA_SAFETY_SECONDS
(accounts_due_for_sync)."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.utils import timezone

from bots.engine.ids import parse_client_order_id
from bots.models import AccountSync, Bot
from bots.services.common import client_for_account, last_price
from exchanges.client import Category, ExchangeClient, ExchangeOrder, Fill
from exchanges.errors import AuthenticationFailed, PermissionDenied
from exchanges.venues import VENUES
from live.events import live_events_held
from metrics.services import metrics_update_prices
from observability.prom import ACCOUNT_SYNC_BOTS, ACCOUNT_SYNC_SECONDS
from trading.models import Order, Trade
from trading.services import FILLS_OVERLAP

logger = logging.getLogger(__name__)

S = Order.Status
MAX_FILL_PAGES = 50
FIRST_PASS_WINDOW = timedelta(days=1)
STREAM_SEEN_KEY = "setka:stream-seen:{}"
STREAM_RECONNECTED_KEY = "setka:stream-reconnected:{}"
STREAM_KEY_TTL = 24 * 3600


# --- what the streams process records --------------------------------------------------------


def stream_seen(*, account_ids, at: float | None = None) -> None:
    """The accounts' streams delivered a message or were seen connected at `at` (epoch s)."""
    at = time.time() if at is None else at
    cache.set_many({STREAM_SEEN_KEY.format(a): at for a in account_ids}, STREAM_KEY_TTL)


def stream_reconnected(*, account_id: int, at: float | None = None) -> None:
    """The account's stream (re)connected at `at`: messages may have been missed."""
    at = time.time() if at is None else at
    cache.set_many(
        {STREAM_RECONNECTED_KEY.format(account_id): at, STREAM_SEEN_KEY.format(account_id): at}, STREAM_KEY_TTL
    )


# --- which accounts beat passes ----------------------------------------------------------------


def accounts_due_for_sync(*, now: datetime | None = None) -> list[int]:
    """Accounts with running bots whose pass is due: never passed, last passed a safety interval
    ago, reconnected since the last pass, stream quiet for two beat intervals, or a venue
    without a private stream (its pass is its only way to see fills)."""
    now = now or timezone.now()
    rows = (
        Bot.objects.filter(status=Bot.Status.RUNNING)
        .values_list("exchange_account_id", "exchange_account__exchange__code")
        .distinct()
    )
    venue_of = dict(rows)
    if not venue_of:
        return []
    passed = dict(
        AccountSync.objects.filter(exchange_account_id__in=list(venue_of))
        .values_list("exchange_account_id")
        .annotate(oldest=Min("passed_at"))
        .values_list("exchange_account_id", "oldest")
    )
    keys = [STREAM_SEEN_KEY.format(a) for a in venue_of] + [STREAM_RECONNECTED_KEY.format(a) for a in venue_of]
    marks = cache.get_many(keys)
    # Due three beats before the interval ends: beat queues it at its next run and the worker
    # drains the passes that fell due together (100 accounts launched together stay together:
    # about 5 s at 1,000 bots), so every bot is reconciled within SETKA_SAFETY_SECONDS, not just
    # after (two beats left gaps of up to 36 s in the 1,000-bot benchmark). The longest-waiting
    # accounts go first.
    beat = max(1, settings.SETKA_BOT_TICK_SECONDS)
    safety = timedelta(seconds=max(beat, settings.SETKA_SAFETY_SECONDS - 3 * beat))
    quiet = 2 * max(1, settings.SETKA_BOT_TICK_SECONDS)
    due = []
    for account_id, code in sorted(venue_of.items()):
        last = passed.get(account_id)
        spec = VENUES.get(code or "")
        seen = marks.get(STREAM_SEEN_KEY.format(account_id))
        reconnected = marks.get(STREAM_RECONNECTED_KEY.format(account_id))
        if (
            last is None
            or now - last >= safety
            or spec is None
            or not spec.private_stream
            or seen is None
            or now.timestamp() - float(seen) > quiet
            or (reconnected is not None and float(reconnected) >= last.timestamp())
        ):
            due.append(account_id)
    epoch = timezone.now() - timedelta(days=3650)
    return sorted(due, key=lambda a: (passed.get(a) or epoch, a))


# --- the pass ------------------------------------------------------------------------------------


@dataclass
class AccountSyncResult:
    reconciled: list[int] = field(default_factory=list)  # bots marked in line, no request of their own
    ticked: list[int] = field(default_factory=list)  # bots whose full tick was queued
    requests: int = 0  # open-orders and executions requests (pages) this pass made
    failed: str = ""


def _bot_of(client_order_id: str) -> int | None:
    key = parse_client_order_id(client_order_id)
    return None if key is None else int(key.bot_id)


def account_sync(*, account_id: int, enqueue=None, now: datetime | None = None) -> AccountSyncResult:
    """One pass over the account's running bots (see the module's docstring). `enqueue(bot_id,
    account_id)` queues a bot's tick (default: bots.tasks.tick_enqueue_once)."""
    if enqueue is None:
        from bots.tasks import tick_enqueue_once as enqueue
    now = now or timezone.now()
    result = AccountSyncResult()
    bots = list(
        Bot.objects.filter(exchange_account_id=account_id, status=Bot.Status.RUNNING)
        .select_related("exchange_account__exchange")
        .order_by("id")
    )
    if not bots:
        return result
    account = bots[0].exchange_account
    venue = getattr(account.exchange, "code", "") or "unknown"
    started = time.perf_counter()
    outcome = "ok"
    try:
        client = client_for_account(account)
        with live_events_held():  # the revalued bots' figures go out together after the pass
            for category in sorted({b.category for b in bots}):
                _pass_category(
                    client=client,
                    account_id=account_id,
                    category=Category(category),
                    bots=[b for b in bots if b.category == category],
                    now=now,
                    result=result,
                )
    except (AuthenticationFailed, PermissionDenied) as exc:
        # A refused key: each bot's own tick meets the same refusal and its error handling
        # tells the owner and stops the bot; the pass does not decide that for them.
        outcome = "refused"
        result.failed = f"{type(exc).__name__}: {exc}"
        _failed(account_id, bots, result.failed)
        result.ticked = [b.pk for b in bots]
    except Exception as exc:  # noqa: BLE001 - the pass is retried by beat; the bots fall back to own ticks
        outcome = "failed"
        result.failed = f"{type(exc).__name__}: {exc}"
        logger.warning("account pass of account %s failed: %s", account_id, result.failed)
        _failed(account_id, bots, result.failed)
    ACCOUNT_SYNC_SECONDS.labels(venue=venue, outcome=outcome).observe(time.perf_counter() - started)
    for bot_id in result.ticked:
        enqueue(bot_id, account_id)
    if result.reconciled:
        ACCOUNT_SYNC_BOTS.labels(venue=venue, result="reconciled").inc(len(result.reconciled))
    if result.ticked:
        ACCOUNT_SYNC_BOTS.labels(venue=venue, result="ticked").inc(len(result.ticked))
    return result


def _failed(account_id: int, bots: list[Bot], reason: str) -> None:
    for category in {b.category for b in bots}:
        state, _ = AccountSync.objects.get_or_create(exchange_account_id=account_id, category=category)
        AccountSync.objects.filter(pk=state.pk).update(failures=state.failures + 1, last_error=reason[:300])


def _pass_category(
    *,
    client: ExchangeClient,
    account_id: int,
    category: Category,
    bots: list[Bot],
    now: datetime,
    result: AccountSyncResult,
) -> None:
    state, _ = AccountSync.objects.get_or_create(exchange_account_id=account_id, category=str(category))
    symbols = sorted({b.symbol for b in bots})
    remote_open = client.account_open_orders(category=category, symbols=symbols)
    spec = VENUES.get(getattr(bots[0].exchange_account.exchange, "code", "") or "")
    result.requests += 1 if spec is None or spec.account_reads else len(symbols)  # (first page each)
    if state.fills_seen_until is not None:
        since = state.fills_seen_until - FILLS_OVERLAP
    else:
        # The first pass: from the oldest bot cursor, as each bot's own tick would, but at most a
        # day back (venues cap the window; an older fill still shows as an order that left the
        # open list, and that bot's own tick reads its executions).
        since = max(min((b.fills_seen_until or b.started_at or now) for b in bots), now - FIRST_PASS_WINDOW)
        since -= FILLS_OVERLAP
    fills: list[Fill] = []
    cursor = None
    for _ in range(MAX_FILL_PAGES):
        page = client.account_fills(category=category, symbols=symbols, since=since, cursor=cursor)
        result.requests += 1
        fills.extend(page.fills)
        cursor = page.next_cursor
        if not cursor:
            break
    due = _bots_with_news(bots=bots, remote_open=remote_open, fills=fills)
    in_line = [b.pk for b in bots if b.pk not in due]
    if in_line:
        Bot.objects.filter(pk__in=in_line, status=Bot.Status.RUNNING).update(reconciled_at=now)
        _revalue(client=client, category=category, bots=[b for b in bots if b.pk not in due])
    result.reconciled.extend(in_line)
    result.ticked.extend(b.pk for b in bots if b.pk in due)
    # The cursor moves to what this pass has read: the newest execution, or the pass's start
    # (the next pass reads from FILLS_OVERLAP before it, so a late or skewed one is still seen).
    newest = max((f.executed_at for f in fills), default=now)
    AccountSync.objects.filter(pk=state.pk).update(
        fills_seen_until=max(newest, now, state.fills_seen_until or now),
        passed_at=now,  # its start: a reconnect during the pass makes the account due again
        failures=0,
        last_error="",
    )


def _revalue(*, client: ExchangeClient, category: Category, bots: list[Bot]) -> None:
    """Bots in line with the exchange, revalued at their symbol's last price (unrealized PnL on
    the bot page; one read and one write of the figures of the bots whose price moved)."""
    for symbol in sorted({b.symbol for b in bots}):
        group = [b for b in bots if b.symbol == symbol]
        price = last_price(client=client, account=group[0].exchange_account, category=category, symbol=symbol)
        Bot.objects.filter(pk__in=[b.pk for b in group]).exclude(last_price=price).update(last_price=price)
        # the group's figures in one locked read and one write (only those whose price moved)
        metrics_update_prices(bots=group, price=price)


def _bots_with_news(*, bots: list[Bot], remote_open: list[ExchangeOrder], fills: list[Fill]) -> set[int]:
    """The ids of the bots that the two answers show something their rows do not know."""
    ids = {b.pk for b in bots}
    due: set[int] = set()
    # executions not stored yet (a stored one is never news: overlapping passes see it again)
    candidates = {f.exec_id: _bot_of(f.client_order_id) for f in fills}
    candidates = {e: b for e, b in candidates.items() if b in ids}
    if candidates:
        stored = set(Trade.objects.filter(exec_id__in=list(candidates)).values_list("exec_id", flat=True))
        due |= {b for e, b in candidates.items() if e not in stored and b is not None}
    listed: dict[int, dict[str, ExchangeOrder]] = defaultdict(dict)
    for order in remote_open:
        bot_id = _bot_of(order.client_order_id)
        if bot_id in ids and bot_id is not None:
            listed[bot_id][order.client_order_id] = order
    active = Order.objects.filter(bot_id__in=ids, status__in=[*Order.OPEN_STATUSES, S.MISSING]).values_list(
        "bot_id", "client_order_id", "status", "filled_qty"
    )
    rows: dict[int, set[str]] = defaultdict(set)
    for bot_id, cid, status, filled_qty in active:
        rows[bot_id].add(cid)
        if bot_id in due:
            continue
        remote = listed.get(bot_id, {}).get(cid)
        if status in (S.OPEN, S.PARTIALLY_FILLED) and remote is not None and remote.filled_qty <= filled_qty:
            continue  # the common case: resting as we know it
        due.add(bot_id)  # gone from the list (filled, cancelled), partly filled, pending, cancelling, missing
    for bot_id, orders in listed.items():
        if set(orders) - rows.get(bot_id, set()):
            due.add(bot_id)  # an open order with the bot's id and no active row: its tick cancels it
    return due
