"""The port's contract suite (tests/exchanges/test_contract.py) run through the ccxt adapter on
each venue's twin, plus the failure modes in each venue's own dialect: its signing, its codes,
its rate-limit answer, a timeout after an accepted order, 5xx.

The venue-neutral tests are imported from the Bybit suite and run here once per venue with this
module's fixtures (`simulator`, `sim_account` and the client, still named `bybit` there)."""

from __future__ import annotations

import time
from decimal import Decimal as D

import pytest

from exchanges import errors
from exchanges.client import Category
from tests.exchanges.conftest import make_venue_client
from tests.exchanges.test_contract import (  # noqa: F401 - collected here, once per venue
    limit,
    test_adapter_implements_the_port,
    test_balances_and_locks,
    test_batch_placement_and_cancel_all,
    test_fee_rates_per_account,
    test_fills_since_and_cursor_pages,
    test_instrument_rules_match_the_exchange_in_decimal,
    test_key_permissions_of_a_trading_key,
    test_klines_oldest_first_in_decimal,
    test_linear_leverage_positions_and_margin,
    test_market_sell_is_taker_and_pays_fee_in_quote,
    test_order_errors_map_onto_the_port,
    test_partial_fill_then_full_fill_with_maker_fees,
    test_partially_filled_then_cancelled,
    test_place_query_cancel_lifecycle,
    test_post_only_that_would_take_is_rejected_not_filled,
    test_same_client_order_id_twice_is_one_order,
    test_symbols_lists_every_instrument,
    test_ticker_follows_the_market,
)

CREATE_PATH = {
    "okx": "/api/v5/trade/batch-orders",
    "binance": "/api/v3/order",
    "mexc": "/api/v3/order",
    "kucoin": "/api/v1/orders",
}
OPEN_ORDERS_PATH = {
    "okx": "/api/v5/trade/orders-pending",
    "binance": "/api/v3/openOrders",
    "mexc": "/api/v3/openOrders",
    "kucoin": "/api/v1/orders",
}
# imported tests that need futures, or every listed symbol API-tradable
NEEDS_FUTURES = ("linear", "instrument_rules_match", "symbols_lists_every_instrument", "key_permissions_of_a_trading")


@pytest.fixture(scope="module", params=["okx", "binance", "mexc", "kucoin"])
def simulator(request, venue_simulators):
    return venue_simulators[request.param]


@pytest.fixture(autouse=True)
def _only_what_the_venue_offers(request, simulator):
    from exchanges.venues import venue

    spec = venue(simulator.venue)
    if any(word in request.node.name for word in NEEDS_FUTURES) and (
        not spec.supports(Category.LINEAR) or spec.api_tradable is not None
    ):
        pytest.skip(f"{spec.name}: {spec.futures_note or 'no futures'}; only some symbols are API-tradable")


def test_only_api_tradable_symbols_are_offered(simulator, sim_account, bybit, at_50000):
    spec = bybit.spec
    names = {r.symbol for r in bybit.symbols(category=Category.SPOT)}
    if spec.api_tradable is None:
        assert {"BTCUSDT", "ETHUSDT", "LTCUSDT"} <= names
        return
    assert names == set(spec.api_tradable) and "LTCUSDT" not in names  # MEXC lists it, the API refuses it
    with pytest.raises(errors.InvalidRequest):
        bybit.place_order(limit("lt1", symbol="LTCUSDT", price="100", qty="1"))
    rules = bybit.instrument_rules(category=Category.SPOT, symbol="BTCUSDT")
    assert (rules.tick_size, rules.qty_step, rules.min_qty, rules.min_notional) == (
        D("0.01"),
        D("0.000001"),
        D("0.000048"),
        D("5"),
    )
    assert bybit.positions(category=Category.SPOT, symbol="BTCUSDT") == []


@pytest.fixture
def sim_account(simulator):
    simulator.control.clear_faults()
    account = simulator.control.create_account(funding={"USDT": "10000", "BTC": "1"})
    yield account
    simulator.control.clear_faults()
    client = make_venue_client(simulator, account)
    for category in client.spec.categories:
        client.cancel_all(category=category, symbol="BTCUSDT")


@pytest.fixture
def bybit(simulator, sim_account):
    """The adapter under test (the imported tests call it `bybit`)."""
    return make_venue_client(simulator, sim_account)


@pytest.fixture
def at_50000(simulator):
    simulator.control.set_price("BTCUSDT", "50000")


def open_links(simulator, account) -> list[str]:
    return [o["orderLinkId"] for o in simulator.control.ledger(account.uid)["open_orders"]]


def test_funding_history_of_the_perpetual_as_the_wallet_moved(bybit, simulator, sim_account, at_50000):
    """OKX (account bills type 8) and Binance (income FUNDING_FEE) report each settlement once,
    signed as it moved the wallet, with the rate, position and mark that funding_share needs; a
    settlement is never a fill. MEXC offers no perpetuals to API users: NotSupported."""
    from datetime import UTC, datetime, timedelta

    from exchanges.client import OrderType, PlaceOrder, Side
    from trading.funding import funding_share

    assert bybit.funding_payments(category=Category.SPOT, symbol="BTCUSDT").payments == []
    if not bybit.spec.supports(Category.LINEAR):
        with pytest.raises(errors.NotSupported):
            bybit.funding_payments(category=Category.LINEAR, symbol="BTCUSDT")
        return

    def market(link, side, qty, reduce_only=False):
        return PlaceOrder(
            category=Category.LINEAR,
            symbol="BTCUSDT",
            side=side,
            order_type=OrderType.MARKET,
            qty=D(qty),
            client_order_id=link,
            reduce_only=reduce_only,
        )

    bybit.place_order(market("fundlong", Side.BUY, "0.02"))
    simulator.control.set_price("BTCUSDT", "50500")
    simulator.control.settle_funding("BTCUSDT", rate="0.0001")
    (paid,) = bybit.funding_payments(category=Category.LINEAR, symbol="BTCUSDT").payments
    # a long pays a positive rate: 0.02 x 50,500 x 0.0001 = 0.101 USDT left the wallet
    assert (paid.amount, paid.coin, paid.rate, paid.symbol) == (D("-0.101"), "USDT", D("0.0001"), "BTCUSDT")
    assert (paid.position_qty, paid.mark_price) == (D("0.02"), D("50500"))
    assert funding_share(paid, D("0.02")) == D("-0.101") and funding_share(paid, D("0.01")) == D("-0.0505")

    bybit.place_order(market("fundflip", Side.SELL, "0.03"))  # now short 0.01
    simulator.control.settle_funding("BTCUSDT", rate="0.0002")
    page = bybit.funding_payments(category=Category.LINEAR, symbol="BTCUSDT")
    received = next(p for p in page.payments if p.venue_id != paid.venue_id)
    assert paid in page.payments and len(page.payments) == 2 and page.next_cursor is None  # stable ids
    # a short receives a positive rate: 0.01 x 50,500 x 0.0002 = 0.101 USDT came in
    assert (received.amount, received.rate, received.position_qty) == (D("0.101"), D("0.0002"), D("0.01"))
    assert funding_share(received, D("-0.01")) == D("0.101")
    fills = bybit.fills(category=Category.LINEAR, symbol="BTCUSDT").fills
    assert sorted(f.client_order_id for f in fills) == ["fundflip", "fundlong"]  # settlements are not fills
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert bybit.funding_payments(category=Category.LINEAR, symbol="BTCUSDT", since=later).payments == []
    bybit.place_order(market("fundclose", Side.BUY, "0.01", reduce_only=True))


# --- each venue's own signing and codes ------------------------------------------------------
def test_wrong_secret_fails_authentication_with_the_venue_code(simulator, sim_account):
    # KuCoin (key version 2) signs the passphrase with the secret too: a wrong secret shows
    # first as an invalid KC-API-PASSPHRASE
    client = make_venue_client(simulator, sim_account, api_secret="not-the-secret")
    with pytest.raises(errors.AuthenticationFailed) as info:
        client.balances()
    assert info.value.code == {"okx": "50113", "binance": "-1022", "mexc": "700002", "kucoin": "400004"}[
        simulator.venue
    ]


def test_okx_needs_the_right_passphrase(venue_simulators):
    sim = venue_simulators["okx"]
    account = sim.control.create_account(funding={"USDT": "100"})
    assert account.passphrase
    with pytest.raises(errors.AuthenticationFailed) as info:
        make_venue_client(sim, account, passphrase="wrong-passphrase").balances()
    assert info.value.code == "50105"
    with pytest.raises(errors.AuthenticationFailed):  # no passphrase at all: refused before sending
        from exchanges.adapters.ccxt_adapter import CcxtClient

        CcxtClient(
            venue_code="okx",
            api_key=account.api_key,
            api_secret=account.api_secret,
            passphrase="",
            base_url=sim.base_url,
        )


def test_read_only_key_reads_but_cannot_trade(simulator, sim_account, at_50000):
    key = simulator.control.create_api_key(sim_account.uid, read_only=True)
    client = make_venue_client(
        simulator,
        type(
            "K",
            (),
            {
                "uid": sim_account.uid,
                "api_key": key.api_key,
                "api_secret": key.api_secret,
                "passphrase": key.passphrase,
            },
        )(),
    )
    perms = client.key_permissions()
    assert perms.read_only and not perms.can_trade_spot and not perms.can_withdraw
    assert client.balances()["USDT"].total == D("10000")
    with pytest.raises(errors.AuthenticationFailed):  # PermissionDenied on OKX, -2015 on Binance
        client.place_order(limit("ro1"))


def test_withdraw_permission_and_ip_binding_are_revealed(simulator, sim_account):
    key = simulator.control.create_api_key(sim_account.uid, withdraw=True, ip_whitelist=["127.0.0.1"])
    client = make_venue_client(
        simulator,
        type(
            "K",
            (),
            {
                "uid": sim_account.uid,
                "api_key": key.api_key,
                "api_secret": key.api_secret,
                "passphrase": key.passphrase,
            },
        )(),
    )
    perms = client.key_permissions()
    assert perms.can_withdraw
    if simulator.venue in ("okx", "kucoin"):
        assert perms.ip_whitelist == ("127.0.0.1",)
    elif simulator.venue == "binance":  # Binance tells only that the key is IP-bound
        assert perms.raw["permissions"]["ipRestrict"] is True
    foreign = simulator.control.create_api_key(sim_account.uid, ip_whitelist=["203.0.113.7"])
    with pytest.raises(errors.AuthenticationFailed):
        make_venue_client(
            simulator,
            type(
                "K",
                (),
                {
                    "uid": sim_account.uid,
                    "api_key": foreign.api_key,
                    "api_secret": foreign.api_secret,
                    "passphrase": foreign.passphrase,
                },
            )(),
        ).balances()


# --- failure modes that cost money -----------------------------------------------------------
@pytest.mark.parametrize("mode", ["hang", "close"])
def test_timeout_after_accepted_order_leaves_exactly_one_order(simulator, sim_account, at_50000, mode):
    client = make_venue_client(simulator, sim_account, timeout=0.5)
    simulator.control.inject_fault(
        "timeout_after_accept", path=CREATE_PATH[simulator.venue], count=1, mode=mode, seconds=2
    )
    placed = client.place_order(limit("ta1"))
    assert placed.client_order_id == "ta1" and placed.order_id
    assert open_links(simulator, sim_account) == ["ta1"]
    assert client.retries >= 1


def test_every_attempt_timing_out_is_ambiguous_never_failed(simulator, sim_account, at_50000):
    client = make_venue_client(simulator, sim_account, timeout=0.3, max_attempts=2)
    simulator.control.inject_fault("latency", path=CREATE_PATH[simulator.venue], count=4, ms=800)
    with pytest.raises(errors.AmbiguousOutcome):
        client.place_order(limit("amb2"))


def test_5xx_is_retried_and_places_once(simulator, sim_account, at_50000):
    client = make_venue_client(simulator, sim_account)
    simulator.control.inject_fault("http_error", path=CREATE_PATH[simulator.venue], count=2, status=503)
    client.place_order(limit("fxx1"))
    assert open_links(simulator, sim_account) == ["fxx1"]
    simulator.control.inject_fault("http_error", path=OPEN_ORDERS_PATH[simulator.venue], count=10, status=502)
    with pytest.raises(errors.TemporaryExchangeError):
        client.open_orders(category=Category.SPOT, symbol="BTCUSDT")


def test_the_venue_rate_limit_answer_is_waited_out(simulator, sim_account):
    client = make_venue_client(simulator, sim_account)
    simulator.control.inject_fault("rate_limit", path=OPEN_ORDERS_PATH[simulator.venue], count=1, reset_ms=300)
    started = time.monotonic()
    assert client.open_orders(category=Category.SPOT, symbol="BTCUSDT") == []
    assert client.retries == 1 and time.monotonic() - started >= 0.2


def test_a_burst_stays_under_the_venue_limit(simulator, sim_account, at_50000):
    """Spot order entry: Binance 10/s, OKX 30/s, MEXC 5/s per account on the twin. A burst of 2 s worth
    of orders is spread by the client-side budget and never meets the venue's 429."""
    client = make_venue_client(simulator, sim_account, limits=dict(client_limits(simulator.venue)))
    n = 2 * client.spec.limit("create", "spot") + 1
    for i in range(n):
        client.place_order(limit(f"bu{i}", price=str(40000 + i), qty="0.0002"))
    assert client.retries == 0 and client.limiter.waited_seconds > 0
    assert len(open_links(simulator, sim_account)) == n


def client_limits(venue_code):
    from exchanges.venues import venue

    return venue(venue_code).rate_limits


def test_the_venue_client_leaves_the_process_decimal_context_alone(simulator, sim_account, bybit, at_50000):
    """ccxt sets the thread's decimal rounding to half-up and never restores it; after our
    client's calls a half-way amount still rounds to even, as the engine's money code expects."""
    import decimal

    before = decimal.getcontext().copy()
    bybit.place_order(limit("ctx1", price="40000", qty="0.001"))
    bybit.open_orders(category=Category.SPOT, symbol="BTCUSDT")
    after = decimal.getcontext()
    assert after.rounding == before.rounding == decimal.ROUND_HALF_EVEN
    assert not after.traps[decimal.Underflow]
    assert D("152.823749085").quantize(D("1e-8")) == D("152.82374908")
