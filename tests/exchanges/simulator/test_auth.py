"""Signing and key checks exactly as Bybit does them, for pybit-style and other clients."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import websocket
from pybit.exceptions import InvalidRequestError

from .helpers import RawClient, pybit_http, sign

ORDER = {
    "category": "spot",
    "symbol": "BTCUSDT",
    "side": "Buy",
    "orderType": "Limit",
    "qty": "0.001",
    "price": "30000",
    "orderLinkId": "auth-1",
}


def test_pybit_signed_get_and_post_are_accepted(sim, account):
    http = pybit_http(sim, account)
    placed = http.place_order(**ORDER)  # pybit: sorted query, JSON with ", " and ": " separators
    assert placed["retCode"] == 0
    got = http.get_open_orders(category="spot", symbol="BTCUSDT", orderLinkId="auth-1")
    assert got["result"]["list"][0]["orderId"] == placed["result"]["orderId"]


@pytest.mark.parametrize("compact,sign_type", [(True, False), (False, True), (True, True)])
def test_compact_spaced_unsorted_clients_are_accepted(sim, account, compact, sign_type):
    c = RawClient(sim.base_url, account.api_key, account.api_secret, compact=compact, sign_type=sign_type)
    body = dict(ORDER, orderLinkId=f"raw-{compact}-{sign_type}")
    assert c.post("/v5/order/create", body)["retCode"] == 0
    # unsorted query string, signed as sent
    r = c.get("/v5/order/realtime", f"symbol=BTCUSDT&orderLinkId=raw-{compact}-{sign_type}&category=spot")
    assert r["retCode"] == 0 and r["result"]["list"][0]["orderLinkId"] == body["orderLinkId"]
    r = c.get("/v5/account/wallet-balance", "coin=USDT,BTC&accountType=UNIFIED")
    assert r["retCode"] == 0
    assert {x["coin"] for x in r["result"]["list"][0]["coin"]} == {"USDT", "BTC"}


def test_recv_window_header_may_be_omitted(sim, account):
    ts = str(int(time.time() * 1000))
    for signed_window in ("", "5000"):
        headers = {
            "X-BAPI-API-KEY": account.api_key,
            "X-BAPI-TIMESTAMP": ts,
            "X-BAPI-SIGN": sign(account.api_secret, f"{ts}{account.api_key}{signed_window}accountType=UNIFIED"),
        }
        c = RawClient(sim.base_url, account.api_key, account.api_secret)
        r = c.session.get(f"{sim.base_url}/v5/account/wallet-balance?accountType=UNIFIED", headers=headers).json()
        assert r["retCode"] == 0


def test_signature_over_reserialized_body_is_rejected(sim, account):
    """The server must verify the raw bytes: a signature over different whitespace does not match."""
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    raw = json.dumps(ORDER, separators=(",", ":"))
    ts = int(time.time() * 1000)
    headers = c._headers(json.dumps(ORDER), ts=ts)  # signed the spaced form, sends the compact form
    r = c.session.post(f"{sim.base_url}/v5/order/create", data=raw, headers=headers).json()
    assert r["retCode"] == 10004


def test_error_codes(sim, account):
    c = RawClient(sim.base_url, account.api_key, account.api_secret)
    assert c.get("/v5/account/wallet-balance", "accountType=UNIFIED", secret="wrong")["retCode"] == 10004
    old = int(time.time() * 1000) - 60_000
    r = c.get("/v5/account/wallet-balance", "accountType=UNIFIED", ts=old)
    assert r["retCode"] == 10002
    future = int(time.time() * 1000) + 5_000
    assert c.get("/v5/account/wallet-balance", "accountType=UNIFIED", ts=future)["retCode"] == 10002
    unknown = RawClient(sim.base_url, "NOPE", "x")
    assert unknown.get("/v5/account/wallet-balance", "accountType=UNIFIED")["retCode"] == 10003
    # business errors and auth errors are HTTP 200
    assert c.last_response.status_code == 200


def test_pybit_raises_invalid_request_with_retcode(sim, account):
    http = pybit_http(sim, account)
    http.api_secret = "bad-secret"
    with pytest.raises(InvalidRequestError) as exc:
        http.get_wallet_balance(accountType="UNIFIED")
    assert exc.value.status_code == 10004


def test_permissions_read_only_and_missing_trade_rights(sim):
    ro = sim.control.create_account(read_only=True)
    nospot = sim.control.create_account(spot_trade=False)
    for acc in (ro, nospot):
        c = RawClient(sim.base_url, acc.api_key, acc.api_secret)
        assert c.post("/v5/order/create", ORDER)["retCode"] == 10005
        assert c.get("/v5/account/wallet-balance", "accountType=UNIFIED")["retCode"] == 0
    linear = dict(ORDER, category="linear", qty="0.001", price="30000.0")
    assert RawClient(sim.base_url, nospot.api_key, nospot.api_secret).post("/v5/order/create", linear)["retCode"] == 0
    info = pybit_http(sim, ro).get_api_key_information()["result"]
    assert info["readOnly"] == 1 and info["secret"] == ""


def test_expired_key_and_ip_binding(sim):
    expired = sim.control.create_account(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    c = RawClient(sim.base_url, expired.api_key, expired.api_secret)
    r = c.get("/v5/user/query-api")
    assert r["retCode"] == 33004 and "expired" in r["retMsg"]
    bound = sim.control.create_account(ip_whitelist=["10.1.2.3"])
    assert RawClient(sim.base_url, bound.api_key, bound.api_secret).get("/v5/user/query-api")["retCode"] == 10010
    local = sim.control.create_account(
        ip_whitelist=["127.0.0.1"], withdraw=True, expires_at=datetime.now(UTC) + timedelta(days=30)
    )
    info = RawClient(sim.base_url, local.api_key, local.api_secret).get("/v5/user/query-api")["result"]
    assert info["ips"] == ["127.0.0.1"]
    assert "Withdraw" in info["permissions"]["Wallet"]
    assert info["permissions"]["Spot"] == ["SpotTrade"]
    assert info["deadlineDay"] in (29, 30) and info["expiredAt"]


def _ws_auth(sim, account, expires, secret=None):
    ws = websocket.create_connection(f"{sim.ws_url}/v5/private", timeout=5)
    sig = sign(secret or account.api_secret, f"GET/realtime{expires}")
    ws.send(json.dumps({"req_id": "a1", "op": "auth", "args": [account.api_key, expires, sig]}))
    reply = json.loads(ws.recv())
    ws.close()
    return reply


def test_ws_auth_expires_as_int_or_string(sim, account):
    now = int(time.time() * 1000)
    assert _ws_auth(sim, account, now + 1000)["success"] is True
    assert _ws_auth(sim, account, str(now + 10_000))["success"] is True
    bad = _ws_auth(sim, account, now + 1000, secret="wrong")
    assert bad["success"] is False and bad["op"] == "auth"
    assert _ws_auth(sim, account, now - 60_000)["success"] is False
