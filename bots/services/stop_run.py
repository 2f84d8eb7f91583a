"""Stops of many bots run in the background: the operators' "stop all", a bulk emergency stop
and the stop of a user whose access was revoked answer at once; a worker then marks each bot
STOPPING (its stop tick cancels and closes as for any stop) and cancels the bots' orders per
exchange account with one open-orders request per symbol, without waiting for the ticks. A
spot bot that keeps its coins and has nothing left open is then stopped by the run itself
(bots.services.stop.stops_finish_swept); the others' stop ticks do the rest.

A run's progress (bots to stop, stopped, orders cancelled, failures) lives in the cache under
its id, so the admin shows it while the worker goes. The late-order sweep cancels orders that
reached the exchange after their bot stopped (sent before the stop, accepted after it)."""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from celery import current_app
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from bots.engine.ids import parse_client_order_id
from bots.models import Bot
from bots.services.common import client_for_account, trading_switch
from bots.services.start import enqueue_tick
from bots.services.stop import STOPPABLE, mark_stopping_many, stops_finish_swept
from bots.sharding import HOLD_KEY, TICK_QUEUED_KEY, ticks_hold
from exchanges.client import Category, Fill
from exchanges.errors import ExchangeError
from live.events import live_events_held
from observability.prom import ORDERS_CANCELLED
from trading.models import Order
from trading.services import fills_fetch_many, fills_store, orders_reconcile

logger = logging.getLogger(__name__)

RUN_KEY = "setka:stop-run:{}"
LAST_RUN_KEY = "setka:stop-run:last"
RUN_TTL = 7 * 24 * 3600
STOP_RUN_TASK = "bots.tasks.stop_run_task"  # sent by name: services never import the task layer
SWEEP_WINDOW = timedelta(minutes=15)
# Threads cancelling on different accounts (and categories) at once. Each mostly waits for its
# account's cancel quota (Bybit spot: 20 orders per second, linear 10): 8 threads carried stop all
# of 100 accounts of 150 orders in ~140 s, 32 in 55 s; the IP's budget, shared through Redis,
# still bounds the total (1,500 batch requests of 15,000 orders: ~14 s at 600 per 5 s).
CANCEL_THREADS = 64
# Threads that run the stop ticks in the run (stop_run_continue's `tick`): each holds a database
# connection while it ticks.
STOP_TICK_THREADS = 16
# How long beat leaves a run's bots to it: past this (the run's worker died) beat ticks them.
HOLD_SECONDS = 180


@dataclass
class StopRun:
    id: str
    reason: str
    code: str
    actor: str
    bot_ids: list[int]
    started_at: str
    marked: int = 0
    orders_cancelled: int = 0
    failures: int = 0
    finished_at: str | None = None
    errors: list[str] = field(default_factory=list)

    def save(self) -> None:
        cache.set(RUN_KEY.format(self.id), asdict(self), timeout=RUN_TTL)


def stop_run_get(run_id: str | None = None) -> StopRun | None:
    run_id = run_id or cache.get(LAST_RUN_KEY)
    data = cache.get(RUN_KEY.format(run_id)) if run_id else None
    return StopRun(**data) if data else None


def stop_run_start(*, bot_ids: list[int], reason: str, code: str, actor, enqueue: bool = True) -> StopRun:
    """Record a run and queue it after commit; returns at once (no exchange call, no per-bot work).
    `enqueue=False`: the caller runs it itself (stop_run_continue)."""
    run = StopRun(
        id=uuid.uuid4().hex[:12],
        reason=reason[:300],
        code=code,
        actor=str(actor or "system"),
        bot_ids=sorted(set(bot_ids)),
        started_at=timezone.now().isoformat(),
    )
    run.save()
    cache.set(LAST_RUN_KEY, run.id, timeout=RUN_TTL)
    if enqueue:
        transaction.on_commit(lambda: current_app.send_task(STOP_RUN_TASK, args=[run.id]))
    return run


def bots_stop_all(*, actor, reason: str = "Operators stopped all trading", background: bool = True) -> int:
    """The operators' switch: halt trading (no bot can start from now on) and stop every active
    bot in the background. Answers at once with the number of bots the run will stop.
    `background=False` (the shell command, which must not depend on a worker during an incident)
    does the run's work before returning."""
    with transaction.atomic():
        switch = trading_switch()
        switch.halted = True
        switch.reason = reason[:300]
        switch.changed_by = actor if getattr(actor, "pk", None) else None
        switch.save()
        bot_ids = list(Bot.objects.filter(status__in=STOPPABLE).values_list("pk", flat=True))
        run = stop_run_start(bot_ids=bot_ids, reason=reason, code="halt", actor=actor, enqueue=background)
    if not background:
        stop_run_continue(run_id=run.id)
    return len(bot_ids)


def bots_emergency_stop_many(*, bot_ids: list[int], actor, reason: str) -> int:
    """The admin's bulk emergency stop of any users' bots, in the background."""
    bot_ids = list(Bot.objects.filter(pk__in=bot_ids, status__in=STOPPABLE).values_list("pk", flat=True))
    with transaction.atomic():
        stop_run_start(bot_ids=bot_ids, reason=reason, code="operator", actor=actor)
    return len(bot_ids)


def stop_run_continue(*, run_id: str, tick: Callable[..., None] | None = None) -> StopRun | None:
    """The worker's part (idempotent: a retried run marks nobody twice and cancels only what is
    still open). Every bot is marked STOPPING at once, then their orders are cancelled account by
    account (several accounts at once); each bot's stop tick is queued when its account's cancels
    and executions read are done,
    so the ticks find nothing left to cancel and do not spend the same budgets meanwhile (1,000
    stop ticks racing the run's cancels left orders open after two minutes). A bot whose tick this
    run never queued (the worker died) is stopping, and beat ticks it once the run's hold ends.

    `tick` (the worker's tick, bots.tasks.tick_run): the run ticks the bots itself on
    STOP_TICK_THREADS threads as each account is done, instead of queueing the ticks for the
    worker's processes. A stop tick mostly waits (the venue, the account's order quota): at stop
    all of 1,000 bots the 357 stop ticks took 280 ms each on average and held both of the worker's
    processes for 50 s, while the run's own threads were idle.
    """
    run = stop_run_get(run_id)
    if run is None:
        return None
    by_account: dict[int, list[Bot]] = defaultdict(list)
    accounts = {}
    bots = Bot.objects.filter(pk__in=run.bot_ids).select_related("exchange_account__exchange")
    for bot in bots.order_by("exchange_account_id", "id"):
        accounts[bot.exchange_account_id] = bot.exchange_account  # before refresh_from_db drops it
        by_account[bot.exchange_account_id].append(bot)
    # Every bot is held and marked first, in one update (no tick sends a grid order from now on):
    # marked account by account, between the threads' cancels, 1,005 bots took 22 s to mark.
    # Beat and the stream tick stopping bots; these wait for their account's cancels, then the run
    # queues their ticks (305 bots' stop took 1,113 ticks, most of them beat's doubles).
    everyone = [bot.pk for group in by_account.values() for bot in group]
    ticks_hold(everyone, seconds=HOLD_SECONDS)
    with live_events_held():  # the status changes in one send
        marked = set(  # every bot STOPPING now; one already stopping (a retried run) is not marked twice
            mark_stopping_many(bot_ids=everyone, reason=run.reason, actor=run.actor, code=run.code)
        )
    run.marked += sum(
        1 for group in by_account.values() for bot in group if bot.pk in marked and bot.status != Bot.Status.STOPPING
    )
    # a bot that stopped meanwhile gets no stop tick from this run: its hold ends now, not in 180 s
    # (its owner may start it again at once)
    cache.delete_many([HOLD_KEY.format(pk) for pk in everyone if pk not in marked])
    # accounts are independent budgets: cancel on several at once (each within its own limits,
    # all within the IP's, both enforced by the shared rate budget); the threads touch no rows
    ticking = ThreadPoolExecutor(max_workers=STOP_TICK_THREADS, thread_name_prefix="stop-tick") if tick else None
    with ThreadPoolExecutor(max_workers=CANCEL_THREADS) as pool:
        jobs = {}
        for account_id, group in by_account.items():
            # spot and derivatives have their own order quotas at the venue: cancel on both at once
            for category in sorted({bot.category for bot in group}):
                stopping = [bot for bot in group if bot.pk in marked and bot.category == category]
                if stopping:
                    jobs[pool.submit(_cancel_in_thread, (accounts[account_id], stopping))] = stopping
        run.save()
        began, booked = time.perf_counter(), 0.0
        spans: list[tuple[float, float]] = []
        waiting = set(jobs)
        while waiting:
            # Every account whose cancels are done by now is booked together: a handful of
            # queries for all of them. Booked one by one, between 64 threads busy with the venue,
            # each query waited for the interpreter's lock: 200 accounts took 68 s of books at
            # stop all of 1,000 bots while their cancels were done after 46 s.
            done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            booking = time.perf_counter()
            batch: list[Bot] = []
            cancelled_ids: list[str] = []
            fills: dict[int, list[Fill]] = {}
            for job in done:
                cancelled, failures, job_cancelled_ids, job_fills, span = job.result()
                spans.append(span)
                run.orders_cancelled += cancelled
                run.failures += failures
                batch += jobs[job]
                cancelled_ids += job_cancelled_ids
                fills.update(job_fills)
            run.save()
            with live_events_held():  # the stopped bots' status changes in one send
                finished = _book(batch, cancelled_ids, fills)
            for bot in batch:
                if bot.pk in finished:
                    continue
                if ticking is not None and tick is not None:
                    ticking.submit(_tick_in_thread, tick, bot.pk, bot.pk in fills)
                else:
                    enqueue_tick(bot.pk, urgent=True, held=True, swept=bot.pk in fills)
            booked += time.perf_counter() - booking
    if ticking is not None:
        ticking.shutdown(wait=True)
    if spans:
        cancels = sorted(c for c, _ in spans)
        reads = sorted(r for _, r in spans)
        logger.info(
            "stop run %s: %d bots, %d account jobs in %.1f s; cancels per job p50 %.1f s max %.1f s, "
            "executions read p50 %.1f s max %.1f s; the books took %.1f s",
            run.id,
            len(everyone),
            len(spans),
            time.perf_counter() - began,
            cancels[len(cancels) // 2],
            cancels[-1],
            reads[len(reads) // 2],
            reads[-1],
            booked,
        )
    run.finished_at = timezone.now().isoformat()
    run.save()
    return run


def stop_run_progress(run: StopRun) -> dict:
    """What the admin shows: counted from the rows, so it is true whatever the worker did."""
    stopped = Bot.objects.filter(pk__in=run.bot_ids, status=Bot.Status.STOPPED).count()
    open_orders = Order.objects.filter(bot_id__in=run.bot_ids, status__in=Order.OPEN_STATUSES).count()
    return {
        "id": run.id,
        "reason": run.reason,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "bots_to_stop": len(run.bot_ids),
        "stopped": stopped,
        "remaining": len(run.bot_ids) - stopped,
        "orders_cancelled": run.orders_cancelled,
        "orders_open": open_orders,
        "failures": run.failures,
    }


def _book(bots: list[Bot], cancelled_ids: list[str], fills: dict[int, list[Fill]]) -> set[int]:
    """The books of accounts whose cancels are done; returns the bots stopped here."""
    # What the venue said it cancelled is cancelled in the books at once (one update): the stop
    # ticks then ask no order's state (they asked one per order, 15,000 lookups at stop all of
    # 1,000 bots); their executions read still stores any partial fill.
    if cancelled_ids:
        now = timezone.now()
        Order.objects.filter(
            bot__in=bots,
            client_order_id__in=cancelled_ids,
            status__in=[Order.Status.OPEN, Order.Status.PARTIALLY_FILLED, Order.Status.CANCELLING],
        ).update(status=Order.Status.CANCELLED, closed_at=now, updated_at=now)
    # The executions up to the cancels, read once per symbol for the account's bots: the stop
    # ticks then read neither the open orders nor the executions again (2,000 requests at stop
    # all of 1,000 bots, ~20 s of the IP's budget).
    for bot in bots:
        if fills.get(bot.pk):
            fills_store(bot=bot, fills=fills[bot.pk])
    # Spot bots that keep their coins and have no row left open stop here, in one transaction;
    # the others' stop ticks do the rest: funding, the close, the last state of a row that
    # filled or was sent meanwhile.
    finished = set(stops_finish_swept(bot_ids=[bot.pk for bot in bots if bot.pk in fills]))
    if finished:  # their holds and beat's marks end as their stop tick's would
        cache.delete_many([key.format(pk) for pk in finished for key in (HOLD_KEY, TICK_QUEUED_KEY)])
    return finished


def _tick_in_thread(tick: Callable[..., None], bot_id: int, swept: bool) -> None:
    """One bot's stop tick on the run's thread (its hold ends as a queued stop tick's would); a
    tick that raises is queued for a worker instead."""
    try:
        tick(bot_id, urgent=True, held=True, swept=swept)
    except Exception:  # noqa: BLE001 - the worker ticks it
        logger.exception("stop: the stop tick of bot %s failed in the run; queued for a worker", bot_id)
        enqueue_tick(bot_id, urgent=True, held=True, swept=swept)
    finally:
        connection.close()  # this thread's own connection


def _cancel_in_thread(job) -> tuple[int, int, list[str], dict[int, list[Fill]], tuple[float, float]]:
    """One account's (and category's) cancels, then its bots' executions up to them, for the bots
    whose symbol's open orders were read and cancelled (the others' stop ticks read their own)."""
    account, bots = job
    cancelled_ids: list[str] = []
    unread: set[tuple[str, str]] = set()
    began = time.perf_counter()
    try:
        cancelled, failures = account_orders_cancel(
            account=account, bots=bots, cancelled_ids=cancelled_ids, unread=unread
        )
        cancelled_at = time.perf_counter()
        swept = [bot for bot in bots if (bot.category, bot.symbol) not in unread]
        try:
            fills = fills_fetch_many(bots=swept, client=client_for_account(account)) or {}
        except ExchangeError as exc:
            logger.warning("stop: executions of account %s failed: %s", account.pk, exc)
            fills = {}
        return cancelled, failures, cancelled_ids, fills, (cancelled_at - began, time.perf_counter() - cancelled_at)
    finally:
        connection.close()  # this pool thread's own connection, if the client opened one


def account_orders_cancel(
    *,
    account,
    bots: list[Bot],
    cancelled_ids: list[str] | None = None,
    unread: set[tuple[str, str]] | None = None,
) -> tuple[int, int]:
    """Cancel, on one exchange account, every open order belonging to one of `bots`: one
    open-orders request per (category, symbol) for all of them, then the venue's batch cancels.
    Returns (cancelled, failures); the ids the venue cancelled are added to `cancelled_ids`, and
    the (category, symbol) whose open orders could not be read or cancelled to `unread`."""
    if not bots:
        return 0, 0
    generations = {bot.pk: bot.generation for bot in bots}  # a restarted bot's new orders are not ours
    client = client_for_account(account)
    venue = getattr(getattr(account, "exchange", None), "code", "") or "unknown"
    cancelled = failures = 0
    for category, symbol in sorted({(bot.category, bot.symbol) for bot in bots}):
        try:
            remote_orders = client.open_orders(category=Category(category), symbol=symbol)
        except ExchangeError as exc:
            logger.warning("stop: open orders of %s %s failed: %s", category, symbol, exc)
            failures += 1
            if unread is not None:
                unread.add((category, symbol))
            continue
        ids = []
        for remote in remote_orders:
            key = parse_client_order_id(remote.client_order_id or "")
            if key is None or key.generation > generations.get(key.bot_id, -1):
                continue
            ids.append(remote.client_order_id)
        if not ids:
            continue
        try:  # the venue's batch cancel: one request per batch
            results = client.cancel_orders(category=Category(category), symbol=symbol, client_order_ids=ids)
        except ExchangeError as exc:  # the bots' stop ticks cancel again
            logger.warning("stop: cancel of %s orders of %s %s failed: %s", len(ids), category, symbol, exc)
            failures += len(ids)
            if unread is not None:
                unread.add((category, symbol))
            continue
        for item in results:
            if item.error is None:
                cancelled += 1
                if cancelled_ids is not None:
                    cancelled_ids.append(item.client_order_id)
                ORDERS_CANCELLED.labels(venue=venue).inc()
            elif not item.gone:  # the bot's stop tick cancels again
                logger.warning("stop: cancel of %s failed: %s", item.client_order_id, item.error)
                failures += 1
    return cancelled, failures


def stopped_orders_sweep(*, within: timedelta = SWEEP_WINDOW) -> int:
    """Cancel orders that reached the exchange after their bot stopped: per account of the bots
    stopped within `within`, one open-orders request per symbol; an order of a bot that is
    STOPPED is cancelled and the bot's books take its final state (and any fill) from the
    exchange. The bots are not ticked again. Returns the orders cancelled."""
    since = timezone.now() - within
    stopped = Bot.objects.filter(status=Bot.Status.STOPPED, stopped_at__gte=since).select_related(
        "exchange_account__exchange"
    )
    by_account: dict[int, list[Bot]] = defaultdict(list)
    for bot in stopped:
        by_account[bot.exchange_account_id].append(bot)
    swept = 0
    for bots in by_account.values():
        cancelled, _failures = account_orders_cancel(account=bots[0].exchange_account, bots=bots)
        if cancelled:
            client = client_for_account(bots[0].exchange_account)
            still_stopped = Bot.objects.filter(pk__in=[b.pk for b in bots], status=Bot.Status.STOPPED)
            for bot in still_stopped.select_related("exchange_account"):
                try:
                    orders_reconcile(bot=bot, client=client)
                except ExchangeError as exc:
                    logger.warning("sweep: reconcile of bot %s failed: %s", bot.pk, exc)
            swept += cancelled
    return swept
