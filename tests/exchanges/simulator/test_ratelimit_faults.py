"""Rate-limit headers and 10006, and every injectable fault."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from pybit.exceptions import FailedRequestError

from .helpers import RawClient, pybit_http

ORDER = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "30000"}


def test_limit_headers_on_every_response_and_10006_with_future_reset(sim, account):
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    codes = []
    for i in range(21):
        codes.append(c.post("/v5/order/create", dict(ORDER, orderLinkId=f"rl{i}"))["retCode"])
        h = c.last_response.headers
        assert h["X-Bapi-Limit"] == "20"
        assert int(h["X-Bapi-Limit-Status"]) == max(0, 19 - i)
        assert "X-Bapi-Limit-Reset-Timestamp" in h
    assert codes[:20] == [0] * 20 and codes[20] == 10006
    assert int(c.last_response.headers["X-Bapi-Limit-Reset-Timestamp"]) >= int(time.time() * 1000)
    # another endpoint, another category: separate quotas
    assert c.post("/v5/order/create", dict(ORDER, category="linear", price="30000.0"))["retCode"] == 0
    assert c.last_response.headers["X-Bapi-Limit"] == "10"
    assert c.get("/v5/market/time")["retCode"] == 0 and "X-Bapi-Limit" in c.last_response.headers
    # the window rolls: after the reset time the quota is back
    time.sleep(1.05)
    assert c.post("/v5/order/create", dict(ORDER, orderLinkId="after"))["retCode"] == 0


def test_batch_consumes_one_unit_per_order(sim, account):
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    req = [dict(ORDER, orderLinkId=f"b{i}") for i in range(8)]
    r = c.post("/v5/order/create-batch", {"category": "linear", "request": [dict(x, price="30000.0") for x in req]})
    assert [x["code"] for x in r["retExtInfo"]["list"]] == [0] * 8
    assert c.last_response.headers["X-Bapi-Limit-Status"] == "2"
    r = c.post(
        "/v5/order/create-batch",
        {"category": "linear", "request": [dict(ORDER, price="30000.0", orderLinkId=f"c{i}") for i in range(4)]},
    )
    assert [x["code"] for x in r["retExtInfo"]["list"]] == [0, 0, 10006, 10006]
    assert [bool(x["orderId"]) for x in r["result"]["list"]] == [True, True, False, False]


def test_pybit_waits_for_the_reset_and_retries(sim, account):
    sim.control.inject_fault("rate_limit", count=1, path="/v5/order/create", reset_ms=300)
    http = pybit_http(sim, account)
    t0 = time.time()
    assert http.place_order(**ORDER, orderLinkId="retry")["retCode"] == 0
    assert time.time() - t0 >= 0.2


def test_http_5xx_for_next_n_requests_on_one_path(sim, account):
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    sim.control.inject_fault("http_error", count=2, path="/v5/order/create", status=502)
    assert c.get("/v5/market/time")["retCode"] == 0  # other paths unaffected
    for _ in range(2):
        with pytest.raises(ValueError):
            c.post("/v5/order/create", dict(ORDER, orderLinkId="x"))
        assert c.last_response.status_code == 502
    assert c.post("/v5/order/create", dict(ORDER, orderLinkId="x"))["retCode"] == 0
    http = pybit_http(sim, account)
    sim.control.inject_fault("http_error", count=1)
    with pytest.raises(FailedRequestError) as exc:
        http.get_wallet_balance(accountType="UNIFIED")
    assert exc.value.status_code == 503


def test_latency(sim, account):
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    sim.control.inject_fault("latency", ms=300, count=1)
    t0 = time.time()
    c.get("/v5/market/time")
    assert time.time() - t0 >= 0.3
    t0 = time.time()
    c.get("/v5/market/time")
    assert time.time() - t0 < 0.3


def test_timeout_after_accept_hang_stores_the_order(sim, account):
    sim.control.inject_fault("timeout_after_accept", count=1, path="/v5/order/create", seconds=5)
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    with pytest.raises(requests.exceptions.ReadTimeout):
        c.post("/v5/order/create", dict(ORDER, orderLinkId="lost"), timeout=0.5)
    r = c.get("/v5/order/realtime", "category=spot&orderLinkId=lost")
    assert r["result"]["list"][0]["orderStatus"] == "New"  # accepted although the client never heard
    # resending the same orderLinkId is refused, so a careful client can never place it twice
    assert c.post("/v5/order/create", dict(ORDER, orderLinkId="lost"))["retCode"] == 170141


def test_timeout_after_accept_close_mode(sim, account):
    sim.control.inject_fault("timeout_after_accept", count=1, path="/v5/order/create", mode="close")
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    with pytest.raises(requests.exceptions.ConnectionError):
        c.post("/v5/order/create", dict(ORDER, orderLinkId="dropped"))
    r = c.get("/v5/order/realtime", "category=spot&orderLinkId=dropped")
    assert r["result"]["list"][0]["orderLinkId"] == "dropped"


def test_clear_faults_and_control_token(sim, account):
    sim.control.inject_fault("http_error")  # until cleared
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    with pytest.raises(ValueError):
        c.get("/v5/market/time")
    sim.control.clear_faults()
    assert c.get("/v5/market/time")["retCode"] == 0
    r = requests.post(f"{sim.base_url}/control/accounts", json={}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    r = requests.post(f"{sim.base_url}/control/accounts", json={})
    assert r.status_code == 401


def test_unknown_route_and_bad_json(sim, account):
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    assert c.get("/v5/nope")["retCode"] == 10017
    with socket.create_connection(("127.0.0.1", sim.port)) as s:
        s.sendall(b"POST /v5/order/create HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{x}")
        data = s.recv(4096)
    assert b'"retCode": 10001' in data and b"200 OK" in data


def test_optional_ip_limit_answers_http_403(tmp_path):
    from exchanges.simulator.testing import running_simulator

    with running_simulator(state_path=str(tmp_path / "s.sqlite3"), ip_limit=5) as small:
        acc = small.control.create_account()
        http = pybit_http(small, acc)
        for _ in range(4):  # the control call above does not count: only /v5/ traffic does
            http.get_server_time()
        http.get_wallet_balance(accountType="UNIFIED")
        with pytest.raises(FailedRequestError) as exc:
            http.get_server_time()
        assert exc.value.status_code == 403
