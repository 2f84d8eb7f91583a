"""The contract of the exchange port (exchanges.client.ExchangeClient), run through the pybit
adapter against the Bybit-compatible simulator over real loopback HTTP and WebSocket.

Any future adapter must pass the same suite: every port method, every mapped error, rate limits
with Bybit's headers, partial fills, fees, balances, positions, and the failure modes that cost
real money (a timeout after an accepted order, 5xx, 10006, a dropped WebSocket)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from exchanges import errors
from exchanges.adapters.bybit import BybitPrivateStream
from exchanges.client import (
    Category,
    ExchangeClient,
    ExchangeOrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    TimeInForce,
)
from tests.exchanges.conftest import make_client

SPOT, LINEAR = Category.SPOT, Category.LINEAR


def limit(link, *, side=Side.BUY, price="49000", qty="0.01", category=SPOT, symbol="BTCUSDT", **kw):
    return PlaceOrder(
        category=category,
        symbol=symbol,
        side=side,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
        client_order_id=link,
        **kw,
    )


def market(link, *, side=Side.BUY, qty="0.01", category=SPOT, symbol="BTCUSDT", **kw):
    return PlaceOrder(
        category=category, symbol=symbol, side=side, order_type=OrderType.MARKET, qty=D(qty), client_order_id=link, **kw
    )


@pytest.fixture
def at_50000(simulator):
    simulator.control.set_price("BTCUSDT", "50000")


def open_links(simulator, account) -> list[str]:
    return [o["orderLinkId"] for o in simulator.control.ledger(account.uid)["open_orders"]]


# --- market data -----------------------------------------------------------------------------
def test_adapter_implements_the_port(bybit):
    assert isinstance(bybit, ExchangeClient)


def test_instrument_rules_match_the_exchange_in_decimal(bybit):
    spot = bybit.instrument_rules(category=SPOT, symbol="BTCUSDT")
    linear = bybit.instrument_rules(category=LINEAR, symbol="BTCUSDT")
    assert (spot.tick_size, spot.qty_step, spot.min_notional) == (D("0.01"), D("0.000001"), D("5"))
    assert (linear.tick_size, linear.qty_step, linear.min_qty) == (D("0.10"), D("0.001"), D("0.001"))
    assert linear.max_leverage == D("100") and spot.max_leverage is None
    assert spot.base_coin == "BTC" and spot.quote_coin == "USDT"
    with pytest.raises(errors.InvalidRequest):
        bybit.instrument_rules(category=SPOT, symbol="NOPEUSDT")


def test_symbols_lists_every_instrument(bybit):
    names = {r.symbol for r in bybit.symbols(category=SPOT)}
    assert {"BTCUSDT", "ETHUSDT", "LTCUSDT"} <= names


def test_ticker_follows_the_market(bybit, simulator):
    simulator.control.set_price("BTCUSDT", "51234.56")
    ticker = bybit.ticker(category=SPOT, symbol="BTCUSDT")
    assert ticker.last_price == D("51234.56")
    assert ticker.bid_price <= ticker.last_price <= ticker.ask_price


def test_klines_oldest_first_in_decimal(bybit):
    klines = bybit.klines(category=SPOT, symbol="BTCUSDT", interval="1", limit=5)
    assert len(klines) == 5
    assert [k.start for k in klines] == sorted(k.start for k in klines)
    assert all(k.low <= k.open <= k.high and isinstance(k.close, D) for k in klines)


# --- account ---------------------------------------------------------------------------------
def test_balances_and_locks(bybit, at_50000):
    before = bybit.balances()
    assert before["USDT"].total == D("10000") and before["USDT"].locked == 0 and before["BTC"].total == D("1")
    bybit.place_order(limit("lock1", price="49000", qty="0.01"))
    after = bybit.balances()["USDT"]
    assert after.locked == D("490") and after.free == D("9510")


def test_fee_rates_per_account(bybit, simulator, sim_account):
    assert bybit.fee_rates(category=SPOT, symbol="BTCUSDT") == bybit.fee_rates(category=SPOT, symbol="BTCUSDT")
    simulator.control.set_fees(sim_account.uid, spot_maker="0.0002", spot_taker="0.0007")
    rates = bybit.fee_rates(category=SPOT, symbol="BTCUSDT")
    assert (rates.maker, rates.taker) == (D("0.0002"), D("0.0007"))


def test_key_permissions_of_a_trading_key(bybit):
    perms = bybit.key_permissions()
    assert perms.can_trade_spot and perms.can_trade_linear
    assert not perms.can_withdraw and not perms.read_only and perms.expires_at is None


# --- orders ----------------------------------------------------------------------------------
def test_place_query_cancel_lifecycle(bybit, at_50000, simulator, sim_account):
    placed = bybit.place_order(limit("life1"))
    assert placed.client_order_id == "life1" and placed.order_id
    [order] = bybit.open_orders(category=SPOT, symbol="BTCUSDT")
    assert (order.client_order_id, order.status, order.price, order.qty) == (
        "life1",
        ExchangeOrderStatus.NEW,
        D("49000"),
        D("0.01"),
    )
    bybit.cancel_order(category=SPOT, symbol="BTCUSDT", client_order_id="life1")
    assert bybit.open_orders(category=SPOT, symbol="BTCUSDT") == []
    closed = bybit.order_by_client_id(category=SPOT, symbol="BTCUSDT", client_order_id="life1")
    assert closed.status == ExchangeOrderStatus.CANCELLED and closed.order_id == placed.order_id
    with pytest.raises(errors.OrderNotFound):  # includes OrderAlreadyClosed
        bybit.cancel_order(category=SPOT, symbol="BTCUSDT", client_order_id="life1")
    assert bybit.order_by_client_id(category=SPOT, symbol="BTCUSDT", client_order_id="never-sent") is None
    assert bybit.balances()["USDT"].locked == 0


def test_partial_fill_then_full_fill_with_maker_fees(bybit, at_50000, simulator):
    bybit.place_order(limit("pf1", price="49000", qty="0.01"))
    simulator.control.set_price("BTCUSDT", "48990", volume="0.004")
    order = bybit.order_by_client_id(category=SPOT, symbol="BTCUSDT", client_order_id="pf1")
    assert order.status == ExchangeOrderStatus.PARTIALLY_FILLED and order.filled_qty == D("0.004")
    assert order.status.is_open
    simulator.control.set_price("BTCUSDT", "48980", volume="1")
    order = bybit.order_by_client_id(category=SPOT, symbol="BTCUSDT", client_order_id="pf1")
    assert order.status == ExchangeOrderStatus.FILLED and order.filled_qty == D("0.01")
    assert order.avg_price == D("49000")
    fills = bybit.fills(category=SPOT, symbol="BTCUSDT").fills
    assert sorted(f.qty for f in fills) == [D("0.004"), D("0.006")]
    assert len({f.exec_id for f in fills}) == 2
    for fill in fills:  # spot buy: fee in the base coin at the maker rate (0.1 %)
        assert fill.is_maker and fill.fee_coin == "BTC" and fill.fee == fill.qty * D("0.001")
        assert fill.price == D("49000") and fill.client_order_id == "pf1"
    balances = bybit.balances()
    assert balances["BTC"].total == D("1") + D("0.01") - D("0.00001")
    assert balances["USDT"].total == D("10000") - D("490")


def test_partially_filled_then_cancelled(bybit, at_50000, simulator):
    bybit.place_order(limit("pfc1", price="49000", qty="0.01"))
    simulator.control.set_price("BTCUSDT", "48990", volume="0.003")
    bybit.cancel_order(category=SPOT, symbol="BTCUSDT", client_order_id="pfc1")
    order = bybit.order_by_client_id(category=SPOT, symbol="BTCUSDT", client_order_id="pfc1")
    assert order.status == ExchangeOrderStatus.PARTIALLY_FILLED_CANCELLED and order.filled_qty == D("0.003")


def test_market_sell_is_taker_and_pays_fee_in_quote(bybit, at_50000):
    bybit.place_order(market("mk1", side=Side.SELL, qty="0.1"))
    [fill] = bybit.fills(category=SPOT, symbol="BTCUSDT").fills
    assert not fill.is_maker and fill.fee_coin == "USDT" and fill.qty == D("0.1")
    assert fill.fee == (fill.price * fill.qty * D("0.001"))


def test_fills_since_and_cursor_pages(bybit, at_50000, simulator):
    for i in range(3):
        bybit.place_order(market(f"pg{i}", side=Side.SELL, qty="0.001"))
    first = bybit.fills(category=SPOT, symbol="BTCUSDT")
    assert len(first.fills) == 3 and first.next_cursor is None
    bybit.fills_page_size = 2
    page1 = bybit.fills(category=SPOT, symbol="BTCUSDT")
    page2 = bybit.fills(category=SPOT, symbol="BTCUSDT", cursor=page1.next_cursor)
    assert len(page1.fills) == 2 and page1.next_cursor and len(page2.fills) == 1 and page2.next_cursor is None
    assert {f.exec_id for f in page1.fills + page2.fills} == {f.exec_id for f in first.fills}
    later = bybit.fills(category=SPOT, symbol="BTCUSDT", since=datetime.now(UTC) + timedelta(minutes=1))
    assert later.fills == []


def test_funding_payments_are_signed_as_the_wallet_moved_and_never_fills(bybit, at_50000, simulator, sim_account):
    bybit.place_order(market("fund-long", side=Side.BUY, qty="0.02", category=LINEAR))
    simulator.control.set_price("BTCUSDT", "50500")
    charged = simulator.control.settle_funding("BTCUSDT", rate="0.0001")
    ours = [e for e in charged["executions"] if e["execType"] == "Funding" and e["side"] == "Buy"]
    balance = bybit.balances()["USDT"].total

    page = bybit.funding_payments(category=LINEAR, symbol="BTCUSDT")
    (paid,) = page.payments
    # a long pays a positive rate: 0.02 × 50,500 × 0.0001 = 0.101 USDT left the wallet
    assert (paid.amount, paid.coin, paid.rate) == (D("-0.101"), "USDT", D("0.0001"))
    assert (paid.position_qty, paid.mark_price, paid.symbol) == (D("0.02"), D("50500"), "BTCUSDT")
    assert paid.venue_id in {e["execId"] for e in ours} and page.next_cursor is None
    assert bybit.funding_payments(category=LINEAR, symbol="BTCUSDT").payments == [paid]  # a stable id
    ledger = simulator.control.ledger(sim_account.uid)
    assert D(ledger["balances"]["USDT"]) == balance  # the port's figure is the wallet's
    fills = bybit.fills(category=LINEAR, symbol="BTCUSDT").fills
    assert [f.client_order_id for f in fills] == ["fund-long"]  # a settlement is not a fill
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert bybit.funding_payments(category=LINEAR, symbol="BTCUSDT", since=later).payments == []
    assert bybit.funding_payments(category=SPOT, symbol="BTCUSDT").payments == []
    bybit.place_order(market("fund-close", side=Side.SELL, qty="0.02", category=LINEAR, reduce_only=True))


def test_batch_placement_and_cancel_all(bybit, at_50000):
    results = bybit.place_orders(
        [limit(f"b{i}", price=str(48000 + i * 100)) for i in range(3)] + [limit("bbig", qty="5")]
    )
    assert [r.client_order_id for r in results] == ["b0", "b1", "b2", "bbig"]
    assert all(r.placed for r in results[:3])
    assert isinstance(results[3].error, errors.InsufficientBalance)
    again = bybit.place_orders([limit("b0", price="48000")])  # a retried batch: success by lookup
    assert again[0].placed.order_id == results[0].placed.order_id
    cancelled = bybit.cancel_all(category=SPOT, symbol="BTCUSDT")
    assert sorted(cancelled) == ["b0", "b1", "b2"]
    assert bybit.open_orders(category=SPOT, symbol="BTCUSDT") == []


def test_same_client_order_id_twice_is_one_order(bybit, at_50000, simulator, sim_account):
    first = bybit.place_order(limit("dup1"))
    second = bybit.place_order(limit("dup1"))
    assert first == second
    assert open_links(simulator, sim_account) == ["dup1"]


def test_linear_leverage_positions_and_margin(bybit, at_50000):
    bybit.set_leverage(category=LINEAR, symbol="BTCUSDT", leverage=D("5"))
    bybit.set_leverage(category=LINEAR, symbol="BTCUSDT", leverage=D("5"))  # unchanged is not an error
    assert bybit.positions(category=LINEAR, symbol="BTCUSDT")[0].side is None
    bybit.place_order(market("lin1", category=LINEAR, qty="0.010"))
    [position] = bybit.positions(category=LINEAR, symbol="BTCUSDT")
    assert position.side == Side.BUY and position.size == D("0.01") and position.leverage == D("5")
    assert position.liq_price is not None and position.liq_price < position.avg_price
    [fill] = bybit.fills(category=LINEAR, symbol="BTCUSDT").fills
    assert fill.fee == fill.price * fill.qty * D("0.00055") and fill.fee_coin == "USDT"
    assert bybit.balances()["USDT"].locked > 0  # position margin
    bybit.place_order(market("lin2", category=LINEAR, side=Side.SELL, qty="0.010", reduce_only=True))
    assert bybit.positions(category=LINEAR, symbol="BTCUSDT")[0].side is None
    assert bybit.positions(category=SPOT, symbol="BTCUSDT") == []


# --- mapped errors ---------------------------------------------------------------------------
def test_order_errors_map_onto_the_port(bybit, at_50000):
    with pytest.raises(errors.InsufficientBalance):
        bybit.place_order(limit("e1", qty="5"))
    with pytest.raises(errors.InvalidOrder):
        bybit.place_order(limit("e2", price="49000.005"))  # off the tick
    with pytest.raises(errors.InvalidOrder):
        bybit.place_order(limit("e3", qty="0.00001"))  # below the minimum
    with pytest.raises(errors.InvalidOrder):
        bybit.place_order(limit("e4", qty="0.0000001"))  # off the step
    with pytest.raises((errors.InvalidOrder, errors.InvalidRequest)):
        bybit.place_order(limit("e5", symbol="NOPEUSDT"))
    with pytest.raises(errors.OrderNotFound):
        bybit.cancel_order(category=SPOT, symbol="BTCUSDT", client_order_id="enone")


def test_post_only_that_would_take_is_rejected_not_filled(bybit, at_50000):
    try:
        bybit.place_order(limit("po1", price="51000", time_in_force=TimeInForce.POST_ONLY))
    except errors.OrderRejected:
        return
    order = bybit.order_by_client_id(category=SPOT, symbol="BTCUSDT", client_order_id="po1")
    assert order.status in (ExchangeOrderStatus.CANCELLED, ExchangeOrderStatus.REJECTED)
    assert order.filled_qty == 0


def test_bad_signature_and_unknown_key_fail_authentication(simulator, sim_account):
    wrong_secret = make_client(simulator, sim_account, api_secret="not-the-secret")
    with pytest.raises(errors.AuthenticationFailed) as info:
        wrong_secret.balances()
    assert info.value.code == 10004
    with pytest.raises(errors.AuthenticationFailed):
        wrong_secret.key_permissions()


def test_read_only_key_cannot_trade(simulator, sim_account, at_50000):
    key = simulator.control.create_api_key(sim_account.uid, read_only=True)
    client = make_client(simulator, key_account(sim_account.uid, key))
    assert client.key_permissions().read_only
    assert client.balances()["USDT"].total == D("10000")  # reads work
    with pytest.raises(errors.PermissionDenied):
        client.place_order(limit("ro1"))


def test_expired_key_and_foreign_ip(simulator, sim_account):
    expired = simulator.control.create_api_key(sim_account.uid, expires_at=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(errors.AuthenticationFailed) as info:
        make_client(simulator, key_account(sim_account.uid, expired)).balances()
    assert info.value.code == 33004
    bound = simulator.control.create_api_key(sim_account.uid, ip_whitelist=["203.0.113.7"])
    with pytest.raises(errors.AuthenticationFailed) as info:
        make_client(simulator, key_account(sim_account.uid, bound)).balances()
    assert info.value.code == 10010


class key_account:  # noqa: N801 - a tiny stand-in for SimAccount with another key of the same uid
    def __init__(self, uid, key):
        self.uid, self.api_key, self.api_secret = uid, key.api_key, key.api_secret


# --- failure modes ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["hang", "close"])
def test_timeout_after_accepted_order_leaves_exactly_one_order(simulator, sim_account, at_50000, mode):
    client = make_client(simulator, sim_account, timeout=0.5)
    simulator.control.inject_fault("timeout_after_accept", path="/v5/order/create", count=1, mode=mode, seconds=2)
    placed = client.place_order(limit("ta1"))
    assert placed.client_order_id == "ta1" and placed.order_id
    assert open_links(simulator, sim_account) == ["ta1"]
    assert client.retries >= 1  # the retry with the same orderLinkId met the duplicate and looked it up


def test_every_attempt_timing_out_is_ambiguous_never_failed(simulator, sim_account, at_50000):
    client = make_client(simulator, sim_account, timeout=0.3, max_attempts=2)
    simulator.control.inject_fault("timeout_after_accept", path="/v5/order/create", count=5, seconds=1)
    # the first attempt is stored; the second meets the duplicate and resolves it
    placed = client.place_order(limit("amb1"))
    assert open_links(simulator, sim_account) == ["amb1"] and placed.client_order_id == "amb1"
    simulator.control.clear_faults()
    simulator.control.inject_fault("latency", path="/v5/order/create", count=4, ms=800)
    with pytest.raises(errors.AmbiguousOutcome):
        client.place_order(limit("amb2"))


def test_5xx_is_retried_with_backoff(simulator, sim_account):
    client = make_client(simulator, sim_account)
    simulator.control.inject_fault("http_error", path="/v5/order/realtime", count=2, status=503)
    started = time.monotonic()
    assert client.open_orders(category=SPOT, symbol="BTCUSDT") == []
    assert client.retries == 2 and time.monotonic() - started >= 0.1
    simulator.control.inject_fault("http_error", path="/v5/account/wallet-balance", count=10, status=502)
    with pytest.raises(errors.TemporaryExchangeError):
        client.balances()


def test_5xx_on_placement_is_retried_and_places_once(simulator, sim_account, at_50000):
    client = make_client(simulator, sim_account)
    simulator.control.inject_fault("http_error", path="/v5/order/create", count=2, status=500)
    client.place_order(limit("5xx1"))
    assert open_links(simulator, sim_account) == ["5xx1"]


def test_10006_is_retried_after_the_reset_header(simulator, sim_account):
    client = make_client(simulator, sim_account)
    simulator.control.inject_fault("rate_limit", path="/v5/order/realtime", count=1, reset_ms=400)
    started = time.monotonic()
    client.open_orders(category=SPOT, symbol="BTCUSDT")
    assert time.monotonic() - started >= 0.3 and client.retries == 1


def test_rate_limiter_keeps_a_burst_under_the_exchange_limit(simulator, sim_account, at_50000):
    """Linear order creation is limited to 10/s per account: a burst of 25 orders is spread out
    by the client-side budget and never meets a 10006."""
    client = make_client(simulator, sim_account)
    started = time.monotonic()
    for i in range(25):
        client.place_order(limit(f"rl{i}", category=LINEAR, price=str(40000 + i), qty="0.001"))
    assert client.retries == 0 and time.monotonic() - started >= 1.5  # 9 per second
    assert client.limiter.waited_seconds > 0


def test_rate_limit_headers_block_before_the_exchange_refuses(simulator, sim_account, at_50000):
    """With the client-side budget raised far above Bybit's, X-Bapi-Limit-Status reaching 0
    and X-Bapi-Limit-Reset-Timestamp alone keep the burst from being refused."""
    blind = make_client(simulator, sim_account, limits={("/v5/order/create", "linear"): 1000})
    for i in range(25):
        blind.place_order(limit(f"rlb{i}", category=LINEAR, price=str(41000 + i), qty="0.001"))
    assert blind.retries == 0 and blind.limiter.waited_seconds > 0
    links = open_links(simulator, sim_account)
    assert len(links) == 25 and len(set(links)) == 25


def test_two_workers_share_one_budget_through_the_cache(simulator, sim_account, at_50000, db):
    """Two processes trading on one account share the budget in Redis (CacheWindowStore)."""
    from django.core.cache import cache

    from exchanges.adapters.bybit import BybitClient
    from exchanges.ratelimit import CacheWindowStore, RateLimiter

    def worker(n, out):
        client = BybitClient(
            api_key=sim_account.api_key,
            api_secret=sim_account.api_secret,
            base_url=simulator.base_url,
            timeout=2,
            backoff_base=0.05,
            limiter=RateLimiter(account_key=f"shared:{sim_account.uid}", store=CacheWindowStore(cache)),
        )
        for i in range(12):
            client.place_order(limit(f"w{n}x{i}", category=LINEAR, price=str(42000 + n * 100 + i), qty="0.001"))
        out.append(client.retries)

    retries: list[int] = []
    threads = [threading.Thread(target=worker, args=(n, retries)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert retries == [0, 0]
    assert len(set(open_links(simulator, sim_account))) == 24


# --- private WebSocket -----------------------------------------------------------------------
class Recorder:
    def __init__(self):
        self.events: list[tuple[str, list]] = []
        self.reconnects = 0
        self.changed = threading.Condition()

    def on_event(self, topic, data):
        with self.changed:
            self.events.append((topic, data))
            self.changed.notify_all()

    def on_reconnect(self):
        with self.changed:
            self.reconnects += 1
            self.changed.notify_all()

    def wait(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True

    def links(self, topic):
        return {item.get("orderLinkId") for t, data in self.events if t == topic for item in data}


def test_private_stream_delivers_orders_and_fills_and_survives_a_drop(simulator, sim_account, at_50000):
    client = make_client(simulator, sim_account)
    rec = Recorder()
    stream = BybitPrivateStream(
        api_key=sim_account.api_key,
        api_secret=sim_account.api_secret,
        on_event=rec.on_event,
        on_reconnect=rec.on_reconnect,
        ws_base=simulator.ws_url,
        ping_interval=5,
        ping_timeout=3,
    )
    try:
        assert stream.wait_ready(10)  # authenticated, every subscription acknowledged
        client.place_order(limit("ws1"))
        assert rec.wait(lambda: "ws1" in rec.links("order"))
        simulator.control.set_price("BTCUSDT", "48900", volume="1")
        assert rec.wait(lambda: "ws1" in rec.links("execution"))
        assert rec.wait(lambda: any(t == "wallet" for t, _ in rec.events))

        assert simulator.control.inject_fault("ws_disconnect", channel="private")["disconnected"] >= 1
        assert rec.wait(lambda: rec.reconnects == 1, timeout=15)
        assert stream.wait_ready(10) and stream.is_connected()
        client.place_order(limit("ws2"))  # resubscribed: events flow again
        assert rec.wait(lambda: "ws2" in rec.links("order"))
    finally:
        stream.close()


def test_private_stream_survives_a_failing_callback(simulator, sim_account, at_50000):
    client = make_client(simulator, sim_account)
    seen = []

    def explode(topic, data):
        seen.append(topic)
        raise RuntimeError("bug in the caller")

    stream = BybitPrivateStream(
        api_key=sim_account.api_key, api_secret=sim_account.api_secret, on_event=explode, ws_base=simulator.ws_url
    )
    try:
        assert stream.wait_ready(10)
        client.place_order(limit("cb1"))
        client.place_order(limit("cb2"))
        deadline = time.monotonic() + 10
        while seen.count("order") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen.count("order") >= 2 and stream.is_connected()
    finally:
        stream.close()


def test_private_stream_with_a_refused_key_stops(simulator, sim_account):
    stream = BybitPrivateStream(
        api_key=sim_account.api_key, api_secret="wrong-secret", on_event=lambda t, d: None, ws_base=simulator.ws_url
    )
    try:
        assert stream.wait_authenticated(timeout=3) is False
        assert stream.auth_failed and not stream.is_connected()
    finally:
        stream.close()
    good = BybitPrivateStream(
        api_key=sim_account.api_key,
        api_secret=sim_account.api_secret,
        on_event=lambda t, d: None,
        ws_base=simulator.ws_url,
    )
    try:
        assert good.wait_authenticated(timeout=3) and good.is_connected()
    finally:
        good.close()
