"""The streams process: hold the private WebSocket of every exchange account with active bots;
an order or execution event enqueues that bot's tick at once; every reconnect enqueues a resync:
one account pass (bots.services.account_sync), or a tick of each of the account's bots (the REST
reconciliation is what makes missed messages harmless). It records in Redis, per account, when
the stream last delivered or was seen connected and when it reconnected: beat passes the
accounts whose stream was quiet or reconnected."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import close_old_connections, connections

from observability.prom import STREAM_RECONNECTS, STREAMS_OPEN

if TYPE_CHECKING:
    from exchanges.models import ExchangeAccount

logger = logging.getLogger(__name__)

_BOT_ID = re.compile(r"^sk(\d+)-")
TOPICS = ("order", "execution")
# Order messages that ask nothing of the bot: the order rests (our own placement coming back, Bybit
# "New", ccxt "open") or it traded, which the execution message of the same trade reports. Each
# used to cost an urgent tick: a grid fill made three (order Filled, execution, the counter
# order's New). Ends without a trade (cancelled, rejected, expired...) and unknown states tick.
QUIET_ORDER_STATES = frozenset({"New", "open", "Untriggered", "Triggered", "PartiallyFilled", "Filled", "closed"})


def _release_thread_db() -> None:
    """Close this thread's database connection after a stream callback. Each venue stream calls
    back on its own thread, and Django keeps one connection per thread: left open, the streams
    process would hold one PostgreSQL connection per account (hundreds at scale, past the
    server's max_connections). The main thread's connection is kept (refresh reuses it)."""
    if threading.current_thread() is threading.main_thread():
        return
    for conn in connections.all(initialized_only=True):
        conn.close()


def bot_id_from_client_order_id(client_order_id: str) -> int | None:
    try:
        from bots.engine.ids import parse_client_order_id

        key = parse_client_order_id(client_order_id)
        if key is not None and getattr(key, "bot_id", None) is not None:
            return int(key.bot_id)
    except ImportError:  # pragma: no cover
        pass
    match = _BOT_ID.match(client_order_id or "")
    return int(match.group(1)) if match else None


class StreamsSupervisor:
    """Opens and closes account streams as bots start and stop (polls the database)."""

    def __init__(
        self,
        *,
        refresh_seconds: float = 5.0,
        enqueue: Callable[[int], None] | None = None,
        stream_factory=None,
        shard: int = 0,
        enqueue_sync: Callable[[int], Any] | None = None,
        enqueue_fills: Callable[[int, list[dict]], None] | None = None,
    ):
        self.refresh_seconds = refresh_seconds
        self.enqueue = enqueue or self._enqueue_tick
        # A fill's tick with the executions the stream pushed (Fill.to_wire), stored by the tick
        # without reading the exchange first. Given `enqueue` alone, fills' ticks go through it.
        self.enqueue_fills = enqueue_fills or (self._enqueue_tick if enqueue is None else None)
        # a reconnected account is resynced by one account pass when given (bots.tasks
        # account_sync_enqueue), else by a tick of each of its bots
        self.enqueue_sync = enqueue_sync
        self._seen_written: dict[int, float] = {}
        self.shard = shard
        self.account_of_bot: dict[int, int] = {}
        self.stream_factory = stream_factory
        self.streams: dict[int, Any] = {}  # the venue's private stream: anything with close()
        self.bots_of_account: dict[int, set[int]] = {}
        self.market_of_bot: dict[int, tuple[str, str]] = {}  # (category, symbol)
        self.accounts: dict[int, ExchangeAccount] = {}
        self.stop_event = threading.Event()
        self.events_seen = 0
        self.reconnects = 0
        self.venue_of_account: dict[int, str] = {}

    def _enqueue_tick(self, bot_id: int, fills: list[dict] | None = None) -> None:
        from bots.tasks import tick_enqueue

        tick_enqueue(bot_id, urgent=True, account_id=self.account_of_bot.get(bot_id), fills=fills)

    @staticmethod
    def _in_stream_thread(callback: Callable[..., Any], *args: Any) -> None:
        try:
            callback(*args)
        finally:
            _release_thread_db()

    # callbacks (called from the streams' threads)
    def on_event(self, account_id: int, topic: str, data: list) -> None:
        if topic.startswith("position"):
            self.on_position(account_id, data)
            return
        if not any(topic.startswith(t) for t in TOPICS):
            return
        self._seen(account_id)
        bot_ids = set()
        pushed: dict[int, list[dict] | None] = {}  # bot -> its executions in this message
        for item in data or []:
            if item.get("execType") == "Funding":  # a settlement carries no order
                bot_ids |= self._bots_settled(account_id, str(item.get("symbol") or ""))
                continue
            if topic.startswith("order") and str(item.get("orderStatus", "")) in QUIET_ORDER_STATES:
                continue
            bot_id = bot_id_from_client_order_id(str(item.get("orderLinkId", "")))
            if bot_id is not None:
                bot_ids.add(bot_id)
                if topic.startswith("execution") and self.enqueue_fills is not None:
                    fill = self._pushed_fill(account_id, item)
                    known = pushed.get(bot_id, [])
                    # one execution the tick could not take as it is: that tick reads them all
                    pushed[bot_id] = None if fill is None or known is None else [*known, fill]
        self.events_seen += 1
        for bot_id in bot_ids:
            try:
                fills = pushed.get(bot_id)
                if fills and self.enqueue_fills is not None:
                    self.enqueue_fills(bot_id, fills)
                else:
                    self.enqueue(bot_id)
            except Exception:  # noqa: BLE001 - beat's tick is the safety net
                logger.exception("streams: could not enqueue the tick of bot %s", bot_id)

    def _pushed_fill(self, account_id: int, item: dict) -> dict | None:
        """A trade execution of Bybit's stream (the simulator speaks it too) as the tick takes it
        (Fill.to_wire), or None: another venue's items (ccxt maps orders, not executions), another
        kind of execution, or one that does not name its category or fee coin (REST can)."""
        if self.venue_of_account.get(account_id) != "bybit":
            return None
        if item.get("execType") != "Trade" or not item.get("execId") or not item.get("feeCurrency"):
            return None
        from exchanges.adapters.bybit_parse import parse_fill
        from exchanges.client import Category

        try:
            return parse_fill(item, Category(item["category"])).to_wire()
        except (KeyError, TypeError, ValueError, ArithmeticError):
            logger.warning("streams: an execution of account %s could not be read", account_id)
            return None

    def on_position(self, account_id: int, data: list) -> None:
        """A futures position changed: keep it on the account's bots of that symbol (the
        futures panel shows it; no polling)."""
        from bots.services.position import bot_positions_record
        from exchanges.adapters.bybit_parse import parse_position

        try:
            positions = [parse_position(item) for item in data or [] if item.get("category", "linear") == "linear"]
            if positions:
                bot_positions_record(account_id=account_id, positions=positions)
        except Exception:  # noqa: BLE001 - the next push or reconnect brings it again
            logger.exception("streams: could not record the position of account %s", account_id)

    def _bots_settled(self, account_id: int, symbol: str) -> set[int]:
        """The bots a funding settlement of `symbol` concerns: the account's derivatives bots on that
        symbol (each stores its share on its tick). Spot bots and other symbols settle nothing: at
        a settlement hour every account's linear positions settle at once, and each message used
        to tick every bot of the account. A bot whose market is not known yet, or a message
        without its symbol, ticks as before."""
        bots = self.bots_of_account.get(account_id, set())
        settled = set()
        for bot_id in bots:
            category, bot_symbol = self.market_of_bot.get(bot_id, ("", ""))
            if category == "spot" or (symbol and bot_symbol and bot_symbol != symbol):
                continue
            settled.add(bot_id)
        return settled

    def refresh_positions(self, account_id: int) -> None:
        account = self.accounts.get(account_id)
        if account is None:
            return
        from bots.services.position import bot_positions_refresh

        try:
            bot_positions_refresh(account=account)
        except Exception:  # noqa: BLE001 - retried at the next reconnect; pushes keep coming
            logger.exception("streams: could not read the positions of account %s", account_id)

    def _seen(self, account_id: int) -> None:
        """Record (at most once a second per account) that the account's stream delivered."""
        now = time.time()
        if now - self._seen_written.get(account_id, 0.0) < 1.0:
            return
        self._seen_written[account_id] = now
        try:
            from bots.services.account_sync import stream_seen

            stream_seen(account_ids=[account_id], at=now)
        except Exception:  # noqa: BLE001 - beat then passes the account as quiet: safe
            logger.exception("streams: could not record a message of account %s", account_id)

    def record_alive(self) -> None:
        """Heartbeat: the accounts whose stream is connected (beat passes the others at once)."""
        alive = [
            a
            for a, stream in self.streams.items()
            if not getattr(stream, "auth_failed", False) and (not hasattr(stream, "is_connected") or _connected(stream))
        ]
        if not alive:
            return
        try:
            from bots.services.account_sync import stream_seen

            stream_seen(account_ids=alive)
        except Exception:  # noqa: BLE001
            logger.exception("streams: could not record the heartbeat")

    def on_reconnect(self, account_id: int) -> None:
        self.refresh_positions(account_id)
        self.reconnects += 1
        STREAM_RECONNECTS.labels(venue=self.venue_of_account.get(account_id, "unknown")).inc()
        logger.info("streams: account %s reconnected; resyncing its bots", account_id)
        try:
            from bots.services.account_sync import stream_reconnected

            stream_reconnected(account_id=account_id)
        except Exception:  # noqa: BLE001 - the resync below still runs
            logger.exception("streams: could not record the reconnect of account %s", account_id)
        if self.enqueue_sync is not None:
            try:
                self.enqueue_sync(account_id)  # one pass: the bots with news are ticked by it
                return
            except Exception:  # noqa: BLE001 - fall back to a tick of each bot
                logger.exception("streams: could not enqueue the pass of account %s", account_id)
        for bot_id in sorted(self.bots_of_account.get(account_id, ())):
            try:
                self.enqueue(bot_id)
            except Exception:  # noqa: BLE001
                logger.exception("streams: could not enqueue the resync of bot %s", bot_id)

    def refresh(self) -> None:
        from bots.selectors import bots_streamed
        from bots.sharding import shard_of
        from exchanges.factory import stream_for_account

        factory: Callable[..., Any] = self.stream_factory or stream_for_account
        wanted: dict[int, set[int]] = {}
        accounts = {}
        for bot in bots_streamed():
            if shard_of(bot.exchange_account_id) != self.shard:
                continue  # another streams process holds this account
            self.account_of_bot[bot.pk] = bot.exchange_account_id
            self.market_of_bot[bot.pk] = (bot.category, bot.symbol)
            wanted.setdefault(bot.exchange_account_id, set()).add(bot.pk)
            accounts[bot.exchange_account_id] = bot.exchange_account
            self.venue_of_account[bot.exchange_account_id] = bot.exchange_account.exchange.code
        self.bots_of_account = wanted
        self.accounts = accounts
        for account_id in set(self.streams) - set(wanted):
            self._close(account_id)
        for account_id, stream in list(self.streams.items()):
            # A refused key ends pybit's socket for good: drop it so the next refresh opens a
            # fresh one (beat keeps ticking meanwhile, and the tick stops bots on auth errors).
            if getattr(stream, "auth_failed", False):
                logger.warning("streams: account %s was refused by the exchange; reopening later", account_id)
                self._close(account_id)
        for account_id in set(wanted) - set(self.streams):
            try:
                self.streams[account_id] = factory(
                    accounts[account_id],
                    lambda topic, data, a=account_id: self._in_stream_thread(self.on_event, a, topic, data),
                    lambda a=account_id: self._in_stream_thread(self.on_reconnect, a),
                )
                STREAMS_OPEN.labels(venue=self.venue_of_account[account_id]).inc()
                logger.info("streams: opened account %s (%d bots)", account_id, len(wanted[account_id]))
                self.on_reconnect(account_id)  # resync whatever happened before the stream opened
            except Exception:  # noqa: BLE001 - retried on the next refresh
                logger.exception("streams: could not open account %s", account_id)
        self.record_alive()

    def _close(self, account_id: int) -> None:
        stream = self.streams.pop(account_id, None)
        if stream is not None:
            STREAMS_OPEN.labels(venue=self.venue_of_account.get(account_id, "unknown")).dec()
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                logger.exception("streams: closing account %s failed", account_id)
            logger.info("streams: closed account %s", account_id)

    def run_forever(self) -> None:
        logger.info("streams: ready")
        while not self.stop_event.is_set():
            try:
                close_old_connections()
                self.refresh()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the process
                logger.exception("streams: refresh failed")
            self.stop_event.wait(self.refresh_seconds)
        for account_id in list(self.streams):
            self._close(account_id)

    def stop(self) -> None:
        self.stop_event.set()


def _connected(stream) -> bool:
    try:
        return bool(stream.is_connected())
    except Exception:  # noqa: BLE001 - a stream that cannot tell is not counted alive
        return False


def default_enqueue_sync() -> Callable[[int], Any] | None:
    """The account pass's enqueue when SETKA_ACCOUNT_SYNC is on (the processes' supervisor)."""
    from django.conf import settings

    if not settings.SETKA_ACCOUNT_SYNC:
        return None
    from bots.tasks import account_sync_enqueue

    return account_sync_enqueue


def run_streams(*, refresh_seconds: float = 5.0, shard: int = 0) -> None:
    supervisor = StreamsSupervisor(refresh_seconds=refresh_seconds, shard=shard, enqueue_sync=default_enqueue_sync())
    try:
        supervisor.run_forever()
    except KeyboardInterrupt:
        supervisor.stop()
        time.sleep(0)
