"""What each venue's twin really receives with an order: Setka's own deterministic client order
id, unchanged, and Setka's broker tag from settings, or no broker tag at all when none is set.
ccxt would otherwise send its own (OKX `6b9ad766b55dBCDE`, Binance `x-TKT5PX2F`, MEXC and
Bybit `CCXT`, KuCoin partner `ccxt`), and the venue would pay the rebates on our users' volume to ccxt."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from exchanges.client import Category, OrderType, PlaceOrder, Side
from tests.exchanges.conftest import make_client, make_venue_client

CCXT_IDS = ("6b9ad766b55dBCDE", "x-TKT5PX2F", "x-cvBPrNm9", "CCXT")
CID = "sk42g3o17B5"  # the engine's format (bots/engine/ids.py): fits OKX's 32 alphanumerics


def _order(category=Category.SPOT) -> PlaceOrder:
    return PlaceOrder(
        category=category,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("0.01") if category == Category.LINEAR else D("0.001"),
        price=D("40000"),
        client_order_id=CID,
    )


def _received(handle) -> list[dict]:
    sim = handle.sim
    return list(sim.dialect.received if sim.dialect is not None else sim.received)


def _received_since(handle, mark: dict | None) -> list[dict]:
    """The requests the twin recorded after `mark` (its log keeps the last 200, so a count of
    entries stops growing once the shared twin has served that many)."""
    log = _received(handle)
    if mark is None:
        return log
    last = max(i for i, r in enumerate(log) if r is mark)
    return log[last + 1 :]


def _sent(handle, account, broker_id, category=Category.SPOT) -> dict:
    handle.control.set_price("BTCUSDT", "50000")
    if handle.venue == "bybit":
        client = make_client(handle, account, broker_id=broker_id)
    else:
        client = make_venue_client(handle, account, broker_id=broker_id)
    mark = (_received(handle) or [None])[-1]
    client.place_order(_order(category))
    [request] = [r for r in _received_since(handle, mark) if "cancel" not in r["path"]]
    client.cancel_all(category=category, symbol="BTCUSDT")
    return request


def _twin(request, simulator, venue_simulators):
    return simulator if request.param == "bybit" else venue_simulators[request.param]


@pytest.fixture(params=["bybit", "okx", "binance", "mexc", "kucoin"])
def twin(request, simulator, venue_simulators):
    return _twin(request, simulator, venue_simulators)


def _client_id_and_tag(handle, req) -> tuple[str, str | None]:
    p, h = req["params"], req["headers"]
    if handle.venue == "okx":
        [item] = p.get("__list__") or [p]  # ccxt's OKX client creates through batch-orders
        return item.get("clOrdId"), item.get("tag")
    if handle.venue == "bybit":
        return p.get("orderLinkId"), h.get("Referer")
    if handle.venue == "mexc":
        return p.get("newClientOrderId"), h.get("source")
    if handle.venue == "kucoin":
        return p.get("clientOid"), h.get("KC-API-PARTNER")
    return p.get("newClientOrderId"), None  # Binance's broker tag would be a prefix of this id


@pytest.mark.parametrize("broker_id", ["SetkaBRK1", ""])
def test_the_twin_receives_setkas_client_id_and_broker_tag_or_none(twin, broker_id):
    account = twin.control.create_account(funding={"USDT": "10000"})
    req = _sent(twin, account, broker_id)
    client_id, tag = _client_id_and_tag(twin, req)
    assert client_id == CID
    expected = broker_id or None
    if twin.venue in ("binance", "kucoin"):  # KuCoin: an id without its partner secret is not sent
        expected = None
    assert tag == expected
    text = repr(req)
    assert not any(ccxt_id in text for ccxt_id in CCXT_IDS), text


def test_okx_swap_order_carries_the_tag_too(venue_simulators):
    okx = venue_simulators["okx"]
    account = okx.control.create_account(funding={"USDT": "10000"})
    req = _sent(okx, account, "SetkaBRK1", Category.LINEAR)
    [item] = req["params"].get("__list__") or [req["params"]]
    assert (item["clOrdId"], item["tag"]) == (CID, "SetkaBRK1")


def test_kucoin_partner_headers_only_with_setkas_id_and_secret(venue_simulators):
    """KuCoin's partner headers are signed with the partner's secret (configured as
    "id:secret"): with both, KC-API-PARTNER names Setka and its signature checks out; ccxt's
    own partner (`ccxt`) is never sent."""
    import base64
    import hashlib
    import hmac

    kucoin = venue_simulators["kucoin"]
    account = kucoin.control.create_account(funding={"USDT": "10000"})
    req = _sent(kucoin, account, "SetkaBRK1:partner-secret")
    h = req["headers"]
    assert (req["params"]["clientOid"], h["KC-API-PARTNER"], h["KC-API-PARTNER-VERIFY"]) == (CID, "SetkaBRK1", "true")
    # the signature over timestamp + partner id + api key, with Setka's partner secret
    payload = f"{h['KC-API-TIMESTAMP']}SetkaBRK1{account.api_key}".encode()
    expected = base64.b64encode(hmac.new(b"partner-secret", payload, hashlib.sha256).digest()).decode()
    assert expected in kucoin.sim.dialect.partner_signatures
    plain = _sent(kucoin, account, "")
    assert not any(k.upper().startswith("KC-API-PARTNER") for k in plain["headers"]), plain["headers"]
    assert "ccxt" not in repr(plain["headers"]).lower()
