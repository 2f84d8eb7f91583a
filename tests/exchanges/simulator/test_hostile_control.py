"""The simulator refuses what it cannot take, the way its clients expect: the control API answers a
malformed body or an absurd number with HTTP 400 {"error": "<what is wrong>"} (never a 500 or
a half-applied change), the V5 API answers absurd order numbers with Bybit's 10001 "params
error" (never 10016 "Internal server error"), and the replay reads only its data folder."""

from __future__ import annotations

import json
import os

import pytest
import requests

from .helpers import RawClient

DEEP = "[" * 50_000 + "]" * 50_000
DIGITS = "9" * 5000


def control(sim, method: str, path: str, raw: str | None = None) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.request(
        method,
        f"{sim.base_url}/control{path}",
        data=None if raw is None else raw.encode(),
        headers={"Authorization": f"Bearer {sim.control_token}", "Content-Type": "application/json"},
        timeout=10,
    )


MALFORMED = {
    "list": "[1, 2]",
    "scalar": '"x"',
    "deep": DEEP,
    "nan": '{"amount": NaN, "price": NaN, "symbol": "BTCUSDT", "coin": "USDT", "candles": NaN}',
    "5000-digits": f'{{"amount": {DIGITS}, "price": {DIGITS}, "symbol": "BTCUSDT", "candles": {DIGITS}}}',
    "not-json": '{"symbol": ',
    "wrong-types": '{"symbol": ["BTCUSDT"], "coin": {"a": 1}, "amount": [], "price": {}, "prices": "1,2",'
    ' "funding": [1], "fees": 3, "spot_trade": "yes", "multiplier": "many", "candles": "x", "kind": 5, "speed": "fast"}',
}


def routes(uid: int) -> list[tuple[str, str]]:
    return [
        ("POST", "/accounts"),
        ("POST", f"/accounts/{uid}/keys"),
        ("POST", f"/accounts/{uid}/fund"),
        ("POST", f"/accounts/{uid}/fees"),
        ("POST", f"/accounts/{uid}/limits"),
        ("POST", "/price"),
        ("POST", "/path"),
        ("POST", "/replay/start"),
        ("POST", "/replay/advance"),
        ("POST", "/replay/stop"),
        ("POST", "/faults"),
    ]


def test_malformed_control_bodies_are_a_400_with_a_message_and_change_nothing(sim, account):
    before = sim.control.ledger(account.uid)
    price = sim.control.price("BTCUSDT")
    answers = []
    for method, path in routes(account.uid):
        for name, raw in MALFORMED.items():
            response = control(sim, method, path, raw)
            answers.append((method, path, name, response.status_code))
            assert response.status_code == 400, (method, path, name, response.text[:300])
            assert response.json()["error"], (method, path, name)
    assert len(answers) == len(routes(0)) * len(MALFORMED)
    assert sim.control.ledger(account.uid)["balances"] == before["balances"]
    assert sim.control.price("BTCUSDT") == price
    assert sim.control.status()["accounts"] == 1  # the account fixture's only
    assert control(sim, "GET", "/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/fund", {"coin": "USDT", "amount": "1e999999999"}, "at most"),
        ("/fund", {"coin": "USDT", "amount": "1e30"}, "at most"),
        ("/fund", {"coin": "USDT", "amount": "-5"}, "negative"),
        ("/fund", {"coin": "USDT", "amount": "0." + "0" * 30 + "1"}, "decimal places"),
        ("/fund", {"coin": "USDT", "amount": "Infinity"}, "finite"),
        ("/fund", {"coin": "us dt", "amount": "1"}, "coin"),
        ("/fees", {"spot_maker": "1e999999999"}, "at most"),
        ("/fees", {"spot_maker": "2"}, "rate"),
        ("/limits", {"multiplier": 10**30}, "between"),
        ("/limits", {"multiplier": "lots"}, "whole number"),
        ("/keys", {"ip_whitelist": "everyone"}, "ip_whitelist"),
        ("/keys", {"expires_at_ms": 10**30}, "between"),
    ],
)
def test_absurd_account_values_are_a_400_that_names_the_value(sim, account, path, body, words):
    before = sim.control.ledger(account.uid)["balances"]
    response = control(sim, "POST", f"/accounts/{account.uid}{path}", json.dumps(body))
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]
    assert sim.control.ledger(account.uid)["balances"] == before


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/price", {"symbol": "BTCUSDT", "price": "1e999999999"}, "at most"),
        ("/price", {"symbol": "BTCUSDT", "price": "-1"}, "greater than zero"),
        ("/price", {"symbol": "BTCUSDT", "price": "100", "volume": "1e999999"}, "at most"),
        ("/price", {"symbol": "NOPE", "price": "100"}, "unknown symbol"),
        ("/price", {"symbol": "BTCUSDT", "price": "100", "category": "options"}, "category"),
        ("/path", {"symbol": "BTCUSDT", "prices": ["50000", "1e999999999"]}, "at most"),
        ("/replay/start", {"symbol": "BTCUSDT", "speed": "1e999999999"}, "at most"),
        ("/replay/start", {"symbol": "BTCUSDT", "categories": ["futures"]}, "categories"),
        ("/replay/advance", {"symbol": "BTCUSDT", "candles": 10**30}, "between"),
        ("/faults", {"kind": "meltdown"}, "unknown fault kind"),
        ("/faults", {"kind": "latency", "ms": "slow"}, "whole number"),
        ("/faults", {"kind": "http_error", "status": 200}, "between"),
        ("/faults", {"kind": "latency", "surprise": 1}, "unknown parameter"),
    ],
)
def test_absurd_market_values_are_a_400_and_the_market_does_not_move(sim, path, body, words):
    price = sim.control.price("BTCUSDT")
    response = control(sim, "POST", path, json.dumps(body))
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]
    assert sim.control.price("BTCUSDT") == price  # a path is checked whole before the first step
    assert control(sim, "GET", "/faults").json() == {"faults": []}


@pytest.mark.parametrize("uid", ["abc", str(2**70), "-1", "0"])
def test_bad_uids_are_a_400(sim, uid):
    response = control(sim, "GET", f"/accounts/{uid}/ledger")
    assert response.status_code == 400 and response.json()["error"]


# --- V5: absurd order numbers -----------------------------------------------------------------
def order(**over) -> dict:
    return {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001",
            "price": "50000", "orderLinkId": "hostile-1", **over}


ABSURD = ["1e30", "1E+30", "9" * 5000, "0." + "0" * 30 + "1", "1" * 16, "0x10", "NaN", "Infinity", " "]


@pytest.mark.parametrize("category", ["spot", "linear"])
@pytest.mark.parametrize("field", ["qty", "price"])
@pytest.mark.parametrize("value", ABSURD, ids=lambda v: v[:12])
def test_absurd_order_numbers_are_params_error_10001(sim, account, category, field, value):
    raw = RawClient(sim.base_url, account.api_key, account.api_secret)
    body = order(category=category, **{field: value})
    answer = raw.post("/v5/order/create", body)
    assert answer["retCode"] == 10001, answer
    assert "params error" in answer["retMsg"]
    assert sim.control.ledger(account.uid)["open_orders"] == []


def test_a_json_number_1e30_as_qty_is_params_error_10001(sim, account):
    raw = RawClient(sim.base_url, account.api_key, account.api_secret)
    body = json.dumps(order()).replace('"qty": "0.001"', '"qty": 1e30')
    assert '"qty": 1e30' in body
    answer = raw.post("/v5/order/create", json.loads(body))  # json floats: sent as 1e+30
    assert answer["retCode"] == 10001 and "qty" in answer["retMsg"]


def test_absurd_numbers_in_amend_and_batch_are_params_error(sim, account):
    raw = RawClient(sim.base_url, account.api_key, account.api_secret)
    assert raw.post("/v5/order/create", order())["retCode"] == 0
    amend = raw.post("/v5/order/amend", {"category": "spot", "symbol": "BTCUSDT", "orderLinkId": "hostile-1",
                                         "qty": "1e30"})
    assert amend["retCode"] == 10001, amend
    batch = raw.post("/v5/order/create-batch", {"category": "spot", "request": [
        order(orderLinkId="b-1", qty="1e30"), order(orderLinkId="b-2", price="9" * 5000), order(orderLinkId="b-3"),
    ]})
    assert [i["code"] for i in batch["retExtInfo"]["list"]] == [10001, 10001, 0], batch


def test_v5_body_nested_deeply_is_params_error(sim, account):
    raw = RawClient(sim.base_url, account.api_key, account.api_secret)
    session = requests.Session()
    session.trust_env = False
    response = session.post(f"{sim.base_url}/v5/order/create", data=DEEP.encode(), headers=raw._headers(DEEP),
                            timeout=10)
    assert response.status_code == 200 and response.json()["retCode"] == 10001


# --- the replay reads only its data folder ------------------------------------------------------
CANDLES = "timestamp_ms,open,high,low,close,volume\n1000,100,110,97,105,8\n61000,105,106,104,105.5,4\n"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "ltc.csv").write_text(CANDLES)
    (folder / "notes.txt").write_text("not candles")
    outside = tmp_path / "secret.csv"
    outside.write_text("timestamp_ms,open,high,low,close,volume\n1000,1,1,1,1,1\n")
    (folder / "link.csv").symlink_to(outside)
    monkeypatch.setenv("SETKA_SIMULATOR_DATA", str(folder))
    return folder


@pytest.mark.parametrize(
    ("csv_path", "words"),
    [
        ("/etc/passwd", "outside"),
        ("../secret.csv", "outside"),
        ("../../../../../../etc/hostname", "outside"),
        ("link.csv", "outside"),  # a symlink inside pointing out
        ("notes.txt", ".csv"),
        ("missing.csv", "no candle file"),
        ("a" * 5000, "csv_path"),
        ("ltc.csv\x00.gz", "csv_path"),
    ],
)
def test_replay_csv_path_outside_the_data_folder_is_a_400(sim, data_dir, csv_path, words):
    response = control(sim, "POST", "/replay/start", json.dumps({"symbol": "LTCUSDT", "csv_path": csv_path}))
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]
    assert "LTCUSDT" not in sim.control.status()["replays"]


def test_replay_reads_files_of_its_data_folder_by_name_or_absolute_path(sim, data_dir):
    by_name = sim.control.start_replay("LTCUSDT", csv_path="ltc.csv")
    assert by_name["csv"] == os.path.realpath(data_dir / "ltc.csv")
    by_path = sim.control.start_replay("LTCUSDT", csv_path=str(data_dir / "ltc.csv"))
    assert by_path["csv"] == by_name["csv"]
    packaged = sim.control.start_replay("BTCUSDT", csv_path="binance_spot_BTCUSDT_1m_2021-04-20_2021-05-20.csv")
    assert packaged["csv"].endswith(".csv.gz")
    assert sim.control.advance("LTCUSDT", 1)["index"] == 1
