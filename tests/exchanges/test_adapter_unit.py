"""The pybit adapter against a scripted loopback server: wire format, error mapping, retries,
back-off and rate-limit headers, with exact control of every answer."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from exchanges import errors
from exchanges.adapters.bybit import BybitClient
from exchanges.client import Category, OrderType, PlaceOrder, Side
from exchanges.ratelimit import LocalWindowStore, RateLimiter
from tests.exchanges.fake_bybit import FakeBybit, err, ok

SPOT_RULE = {
    "symbol": "BTCUSDT",
    "baseCoin": "BTC",
    "quoteCoin": "USDT",
    "status": "Trading",
    "lotSizeFilter": {
        "basePrecision": "0.000001",
        "minOrderQty": "0.000011",
        "maxLimitOrderQty": "83",
        "minOrderAmt": "5",
    },
    "priceFilter": {"tickSize": "0.1"},
}


def order_row(link, status="New", **over):
    row = {
        "orderId": "111",
        "orderLinkId": link,
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "price": "50000.1",
        "qty": "0.001",
        "cumExecQty": "0",
        "avgPrice": "",
        "orderStatus": status,
        "rejectReason": "EC_NoError",
        "createdTime": "1700000000000",
        "updatedTime": "1700000001000",
    }
    row.update(over)
    return row


@pytest.fixture
def fake():
    server = FakeBybit()
    yield server
    server.close()


@pytest.fixture
def client(fake):
    c = BybitClient(
        api_key="KEY123456789",
        api_secret="SECRET",
        base_url=fake.base_url,
        timeout=0.5,
        backoff_base=0.05,
        backoff_max=0.5,
    )
    return c


def buy(link="grid-1-b-1", **over):
    data = dict(
        category=Category.SPOT,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.00100"),
        price=Decimal("50000.10"),
        client_order_id=link,
    )
    data.update(over)
    return PlaceOrder(**data)


def test_place_order_sends_order_link_id_and_decimal_strings(fake, client):
    fake.script("/v5/order/create", (200, ok({"orderId": "111", "orderLinkId": "grid-1-b-1"})))
    placed = client.place_order(buy())
    assert placed.order_id == "111" and placed.client_order_id == "grid-1-b-1"
    body = fake.calls("/v5/order/create")[0]["body"]
    assert body["orderLinkId"] == "grid-1-b-1"
    assert body["qty"] == "0.001" and body["price"] == "50000.1"
    assert body["category"] == "spot" and body["timeInForce"] == "GTC"
    assert fake.calls("/v5/order/create")[0]["headers"]["X-BAPI-API-KEY"] == "KEY123456789"


def test_spot_market_order_is_sized_in_base_coin(fake, client):
    fake.script("/v5/order/create", (200, ok({"orderId": "9", "orderLinkId": "m1"})))
    client.place_order(buy("m1", order_type=OrderType.MARKET, price=None))
    body = fake.calls("/v5/order/create")[0]["body"]
    assert body["marketUnit"] == "baseCoin" and "price" not in body


def test_order_without_client_id_is_never_sent(fake, client):
    with pytest.raises(errors.InvalidOrder):
        client.place_order(buy(""))
    assert fake.calls("/v5/order/create") == []


def test_timeout_after_accepted_order_resolves_to_the_one_order(fake, client):
    # first attempt: the exchange accepts but answers too late; the retry hits the duplicate code
    fake.script(
        "/v5/order/create",
        (200, ok({"orderId": "111", "orderLinkId": "grid-1-b-1"}), {}, 1.0),
        (200, err(170141, "Duplicate clientOrderId")),
    )
    fake.script("/v5/order/realtime", (200, ok({"list": [order_row("grid-1-b-1")]})))
    placed = client.place_order(buy())
    assert placed.order_id == "111"
    creates = fake.calls("/v5/order/create")
    assert len(creates) == 2 and {c["body"]["orderLinkId"] for c in creates} == {"grid-1-b-1"}


def test_placement_that_never_answers_is_ambiguous_not_failed(fake, client):
    client.max_attempts = 2
    fake.script("/v5/order/create", *[(200, ok({"orderId": "1"}), {}, 1.0)] * 2)
    with pytest.raises(errors.AmbiguousOutcome):
        client.place_order(buy())


def test_duplicate_on_first_attempt_is_success_by_lookup(fake, client):
    fake.script("/v5/order/create", (200, err(110072, "OrderLinkedID is duplicate")))
    fake.script("/v5/order/realtime", (200, ok({"list": []})))
    fake.script("/v5/order/history", (200, ok({"list": [order_row("grid-1-b-1", "Filled", cumExecQty="0.001")]})))
    placed = client.place_order(buy())
    assert placed.order_id == "111"


def test_5xx_is_retried_with_backoff_then_succeeds(fake, client):
    slept = []
    client._sleep = lambda seconds: (slept.append(seconds), time.sleep(seconds))
    fake.script(
        "/v5/market/tickers",
        (502, {}),
        (503, {}),
        (
            200,
            ok(
                {
                    "list": [
                        {"symbol": "BTCUSDT", "lastPrice": "50000.5", "bid1Price": "50000.4", "ask1Price": "50000.6"}
                    ]
                }
            ),
        ),
    )
    ticker = client.ticker(category=Category.SPOT, symbol="BTCUSDT")
    assert ticker.last_price == Decimal("50000.5") and ticker.bid_price == Decimal("50000.4")
    assert len(fake.calls("/v5/market/tickers")) == 3
    assert len(slept) == 2 and slept[1] > slept[0] >= 0.04  # exponential back-off (base 0.05 s, jitter 20 %)
    assert slept[1] <= client.backoff_max


def test_5xx_exhausted_on_a_read_is_temporary(fake, client):
    client.max_attempts = 2
    fake.script("/v5/market/tickers", (500, {}), (500, {}))
    with pytest.raises(errors.TemporaryExchangeError) as info:
        client.ticker(category=Category.SPOT, symbol="BTCUSDT")
    assert not isinstance(info.value, errors.AmbiguousOutcome)


def test_10006_waits_for_the_reset_header_then_retries(fake, client):
    reset = {"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(int(time.time() * 1000) + 400)}
    fake.script("/v5/order/cancel", (200, err(10006, "Too many visits!"), reset), (200, ok({"orderId": "1"})))
    started = time.monotonic()
    client.cancel_order(category=Category.SPOT, symbol="BTCUSDT", client_order_id="grid-1-b-1")
    assert time.monotonic() - started >= 0.3
    assert len(fake.calls("/v5/order/cancel")) == 2


def test_remaining_zero_header_blocks_the_next_call_until_reset(fake, client):
    headers = {
        "X-Bapi-Limit": "10",
        "X-Bapi-Limit-Status": "0",
        "X-Bapi-Limit-Reset-Timestamp": str(int(time.time() * 1000) + 400),
    }
    fake.script("/v5/order/realtime", (200, ok({"list": []}), headers), (200, ok({"list": []})))
    client.open_orders(category=Category.SPOT, symbol="BTCUSDT")
    started = time.monotonic()
    client.open_orders(category=Category.SPOT, symbol="BTCUSDT")
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    "code, error",
    [
        (10003, errors.AuthenticationFailed),
        (10004, errors.AuthenticationFailed),
        (10005, errors.PermissionDenied),
        (10010, errors.AuthenticationFailed),
        (170131, errors.InsufficientBalance),
        (110007, errors.InsufficientBalance),
        (170134, errors.InvalidOrder),
        (170140, errors.InvalidOrder),
        (110094, errors.InvalidOrder),
        (110020, errors.TooManyOpenOrders),
        (10001, errors.InvalidOrder),
        (99999, errors.OrderRejected),
    ],
)
def test_order_retcodes_map_onto_the_port_errors(fake, client, code, error):
    fake.script("/v5/order/create", (200, err(code, "nope")))
    with pytest.raises(error) as info:
        client.place_order(buy())
    assert info.value.code == code
    assert len(fake.calls("/v5/order/create")) == 1  # never retried


@pytest.mark.parametrize(
    "code, error",
    [
        (170213, errors.OrderNotFound),
        (110001, errors.OrderNotFound),
        (110008, errors.OrderAlreadyClosed),
        (170142, errors.OrderAlreadyClosed),
    ],
)
def test_cancel_retcodes(fake, client, code, error):
    fake.script("/v5/order/cancel", (200, err(code)))
    with pytest.raises(error):
        client.cancel_order(category=Category.SPOT, symbol="BTCUSDT", client_order_id="x")


@pytest.mark.parametrize(
    "status, error", [(401, errors.AuthenticationFailed), (403, errors.RateLimited), (404, errors.InvalidRequest)]
)
def test_http_statuses(fake, client, status, error):
    fake.script("/v5/account/wallet-balance", (status, {}))
    with pytest.raises(error):
        client.balances()


def test_connection_refused_on_read_is_temporary():
    c = BybitClient(
        api_key="K", api_secret="S", base_url="http://127.0.0.1:9", timeout=0.2, max_attempts=2, backoff_base=0.01
    )
    with pytest.raises(errors.TemporaryExchangeError):
        c.balances()


def test_instrument_rules_are_decimal_and_cached(fake, client):
    fake.script("/v5/market/instruments-info", (200, ok({"category": "spot", "list": [SPOT_RULE]})))
    rules = client.instrument_rules(category=Category.SPOT, symbol="BTCUSDT")
    again = client.instrument_rules(category=Category.SPOT, symbol="BTCUSDT")
    assert rules == again and len(fake.calls("/v5/market/instruments-info")) == 1
    assert rules.tick_size == Decimal("0.1") and rules.qty_step == Decimal("0.000001")
    assert rules.min_notional == Decimal("5") and isinstance(rules.min_qty, Decimal)


def test_batch_resolves_duplicates_and_reports_item_errors(fake, client):
    fake.script(
        "/v5/order/create-batch",
        (
            200,
            ok(
                {
                    "list": [
                        {"orderId": "1", "orderLinkId": "a"},
                        {"orderId": "", "orderLinkId": "b"},
                        {"orderId": "", "orderLinkId": "c"},
                    ]
                },
                ext={"list": [{"code": 0, "msg": "OK"}, {"code": 170141, "msg": "dup"}, {"code": 170131, "msg": "no"}]},
            ),
        ),
    )
    fake.script("/v5/order/realtime", (200, ok({"list": [order_row("b", orderId="2")]})))
    results = client.place_orders([buy("a"), buy("b"), buy("c")])
    assert [r.client_order_id for r in results] == ["a", "b", "c"]
    assert results[0].placed.order_id == "1" and results[1].placed.order_id == "2"
    assert isinstance(results[2].error, errors.InsufficientBalance)
    sent = fake.calls("/v5/order/create-batch")[0]["body"]["request"]
    assert [item["orderLinkId"] for item in sent] == ["a", "b", "c"]


def test_key_permissions_parse_withdraw_and_expiry(fake, client):
    fake.script(
        "/v5/user/query-api",
        (
            200,
            ok(
                {
                    "readOnly": 0,
                    "ips": ["1.2.3.4"],
                    "expiredAt": "2030-01-01T00:00:00Z",
                    "permissions": {
                        "Spot": ["SpotTrade"],
                        "ContractTrade": ["Order", "Position"],
                        "Wallet": ["Withdraw"],
                    },
                }
            ),
        ),
    )
    perms = client.key_permissions()
    assert perms.can_withdraw and perms.can_trade_spot and perms.can_trade_linear and not perms.read_only
    assert perms.ip_whitelist == ("1.2.3.4",) and perms.expires_at.year == 2030


def test_secret_is_not_in_repr(client):
    assert "SECRET" not in repr(client)


def test_local_limiter_spreads_requests_over_the_window():
    now = [1000.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(
        account_key="a",
        store=LocalWindowStore(),
        clock=lambda: now[0],
        sleep=sleep,
        limits={("/v5/order/create", "spot"): 5},
    )
    for _ in range(12):
        limiter.acquire("/v5/order/create", "spot")
    # 12 requests at 5/s need at least two full waits of the window
    assert now[0] - 1000.0 >= 2.0 - 1e-9
    limiter.acquire("/v5/order/create", "linear")  # another category has its own budget


def test_symbols_list_is_cached_and_fills_the_rules_cache(fake, client):
    fake.script("/v5/market/instruments-info", (200, ok({"category": "spot", "list": [SPOT_RULE]})))
    assert [r.symbol for r in client.symbols(category=Category.SPOT)] == ["BTCUSDT"]
    assert [r.symbol for r in client.symbols(category=Category.SPOT)] == ["BTCUSDT"]
    assert client.instrument_rules(category=Category.SPOT, symbol="BTCUSDT").tick_size == Decimal("0.1")
    assert len(fake.calls("/v5/market/instruments-info")) == 1
