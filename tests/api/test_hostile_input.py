"""Hostile input on every endpoint of the API (docs/api-contract.md, walked from the URL conf so a
new endpoint joins the table by itself), anonymous and signed in: never a 5xx, always the
contract's error body {"detail", "code"} with a sentence a person can read; nothing half-written.
Then the specific holes of issue 9 item 5, one test each."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from bots.models import Bot
from exchanges.models import ExchangeAccount
from tests.api.conftest import cookie_client, make_trading_bot
from trading.models import Trade

pytestmark = pytest.mark.django_db

HUGE_IDS = (str(2**64), str(2**70), "9" * 300)
DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000
DIGITS_5000 = "9" * 5000

# Bodies no endpoint may answer with a 5xx (raw JSON text: some cannot be produced by json.dumps).
HOSTILE_BODIES = {
    "deep-array": DEEP_ARRAY,
    "deep-object": DEEP_OBJECT,
    "nan": '{"email": NaN, "password": Infinity, "label": -Infinity, "config": {"lower_price": NaN}}',
    "huge-exponent": '{"email": 1e999999999, "exchange_account": 1e999999999, "label": 1e999999999}',
    "5000-digits": f'{{"exchange_account": {DIGITS_5000}, "label": {DIGITS_5000}, "session_id": {DIGITS_5000}}}',
    "not-an-object": "[1, 2, 3]",
    "scalar": "12",
    "not-json": '{"email": ',
    "nul": json.dumps({"email": "a\x00b@example.com", "label": "\x00", "name": "\x00", "code": "\x00"}),
    "huge-ids": json.dumps({"exchange_account": 2**70, "bot": 2**64, "account": 2**70, "id": 2**70}),
    "config-decimals": json.dumps(
        {
            "name": "x",
            "exchange_account": 1,
            "symbol": "BTCUSDT",
            "category": "spot",
            "config": {
                "strategy": "spot_grid",
                "lower_price": "1e999999999",
                "upper_price": "-1e999999999",
                "grid_count": DIGITS_5000,
                "investment": DIGITS_5000,
                "leverage": "NaN",
            },
        }
    ),
}


def _cursor(keys) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": keys, "r": False}).encode()).decode().rstrip("=")


# Query strings tried on every GET.
HOSTILE_QUERIES = {
    "limit-2**63": f"limit={2**63}&offset=0",
    "offset-2**63": f"offset={2**63}",
    "limit-5000-digits": f"limit={DIGITS_5000}&page_size={DIGITS_5000}",
    "page-size-2**63": f"page_size={2**63}",
    "cursor-junk": "cursor=%%%%%%",
    "cursor-2**70": "cursor=" + _cursor(["2026-01-01T00:00:00+00:00", 2**70]),
    "cursor-id-2**70": "cursor=" + _cursor([2**70]),
    "cursor-year-0": "cursor=" + _cursor(["0001-01-01T00:00:00+14:00", 1]),
    "cursor-year-10000": "cursor=" + _cursor(["9999-12-31T23:59:59-14:00", 1]),
    "cursor-naive": "cursor=" + _cursor(["2026-01-01T00:00:00", 1]),
    "dates-out-of-range": "date_from=0001-01-01T00:00:00%2B14:00&date_to=9999-12-31T23:59:59-14:00",
    "ids-2**70": f"bot={2**70}&account={2**70}&exchange_account={2**70}",
    "ids-1e999": "bot=1e999999999&account=1e999999999&exchange_account=1e999999999",
    "symbol-junk": "symbol=%00%FF" + "A" * 300 + "&category=%00&interval=%00&status=%00&side=%00",
}


def api_endpoints() -> list[tuple[str, str, list[str]]]:
    """(path template, view name, HTTP methods) of every /api/ route except the schema pages."""
    out = []

    def walk(patterns, prefix):
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern) and (prefix + route).startswith("api/"):
                view = getattr(p.callback, "view_class", None) or getattr(p.callback, "cls", None)
                if view is None or (prefix + route).startswith(("api/schema", "api/docs")):
                    continue
                methods = [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]
                out.append(("/" + prefix + route, view.__name__, methods))

    walk(get_resolver().url_patterns, "")
    return out


def fill(template: str, value: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", value, template)


def assert_readable_error(response, where: str) -> None:
    # 503 is the one honest 5xx: a dependency that is down (here the paper-trading simulator,
    # which this test does not start), said as such.
    unavailable = response.status_code == 503 and response.json().get("code") == "exchange_unavailable"
    assert response.status_code < 500 or unavailable, f"{where} -> {response.status_code}: {response.content[:300]!r}"
    if response.status_code < 400:
        return
    assert response["Content-Type"].startswith("application/json"), f"{where}: {response['Content-Type']}"
    body = response.json()
    assert isinstance(body.get("detail"), str) and len(body["detail"]) > 3, f"{where}: {body}"
    assert isinstance(body.get("code"), str) and body["code"], f"{where}: {body}"
    assert "Traceback" not in body["detail"] and "sys.set_int_max_str_digits" not in body["detail"], body


@pytest.fixture
def world(user, fake_exchange):
    bot = make_trading_bot(user)
    return {"bot": bot, "counts": lambda: (Bot.objects.count(), ExchangeAccount.objects.count(), Trade.objects.count())}


def _clients(user):
    """An anonymous client and a freshly signed-in one (logout/password change in the table
    may end the previous session)."""
    from rest_framework.test import APIClient

    anonymous = APIClient(enforce_csrf_checks=True)
    anonymous.cookies["csrftoken"] = "a" * 32
    anonymous.defaults["HTTP_X_CSRFTOKEN"] = "a" * 32
    user.refresh_from_db()
    return {"anonymous": anonymous, "signed-in": cookie_client(user)}


def contract_paths() -> set[str]:
    """Every path of docs/api-contract.md's tables, ids as {id}."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "api-contract.md").read_text()
    out, prefix = set(), "/api/"
    for line in text.splitlines():
        section = re.match(r"^## .*`(/api/[\w/]*)`", line)
        if section:
            prefix = section.group(1)
        row = re.match(r"^\| ((?:GET|POST|PATCH|DELETE|/)+) ([^ |]+)", line)
        if row:
            for path in row.group(2).split(","):
                path = path.strip().split("?")[0]
                out.add(prefix + re.sub(r"\{\w+\}", "{id}", path.lstrip("/")))
    return out


def test_the_table_covers_every_endpoint_of_the_contract():
    ours = {re.sub(r"<(?:\w+:)?\w+>", "{id}", path) for path, _view, _methods in api_endpoints()}
    contract = contract_paths()
    assert len(contract) >= 30
    assert contract <= ours, contract - ours


@pytest.mark.slow
def test_hostile_bodies_on_every_endpoint_never_5xx_and_write_nothing(user, world):
    bot = world["bot"]
    before = world["counts"]()
    checked = 0
    for template, view, methods in api_endpoints():
        for method in [m for m in methods if m != "get"]:
            # the real row's id (a huge id is refused before the body is read); DELETE never on it
            for id_value in (HUGE_IDS[1],) if method == "delete" else (str(bot.pk),):
                path = fill(template, id_value)
                for name, raw in HOSTILE_BODIES.items():
                    for who, client in _clients(user).items():
                        response = getattr(client, method)(path, data=raw, content_type="application/json")
                        assert_readable_error(response, f"{who} {method.upper()} {path} [{name}] ({view})")
                        checked += 1
                if "<" not in template:
                    break  # no id in this path: one pass is enough
    assert checked > 400
    assert world["counts"]() == before  # nothing half-written


@pytest.mark.slow
def test_hostile_queries_and_ids_on_every_endpoint_never_5xx(user, world):
    bot = world["bot"]
    checked = 0
    for template, view, methods in api_endpoints():
        if "get" not in methods:
            continue
        ids = (*HUGE_IDS, "0", str(bot.pk)) if "<" in template else ("",)
        for id_value in ids:
            path = fill(template, id_value)
            # every hostile query on a real row's path; the other ids with a plain and one hostile query
            queries = HOSTILE_QUERIES if id_value in ("", str(bot.pk)) else dict(list(HOSTILE_QUERIES.items())[:1])
            for name, query in {"plain": "", **queries}.items():
                for who, client in _clients(user).items():
                    response = client.get(f"{path}?{query}")
                    if response.streaming:
                        b"".join(response)
                    assert_readable_error(response, f"{who} GET {path}?{name} ({view})")
                    checked += 1
    assert checked > 600


# --- one test per hole --------------------------------------------------------------------------
@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_json_nested_100000_deep_on_anonymous_login_is_a_400(api_client, body):
    response = api_client.post(
        "/api/auth/login/", data=body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"
    assert "nested too deeply" in response.json()["detail"]
    russian = api_client.post("/api/auth/login/", data=body, content_type="application/json")
    assert russian.json()["detail"] == "Тело запроса вложено слишком глубоко."


def test_json_nested_moderately_deep_is_refused_before_any_view_walks_it(owner_client):
    body = json.dumps({"name": "x", "config": json.loads("[" * 200 + "]" * 200)})
    response = owner_client.post("/api/bots/preview/", data=body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "json_too_deep"


def test_a_huge_json_number_is_a_400_that_says_so(owner_client):
    response = owner_client.post(
        "/api/bots/preview/", data='{"exchange_account": 1e999999999}', content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"] == "number_not_finite"
    assert "слишком большое число" in response.json()["detail"]  # this user reads Russian


def test_a_body_over_the_size_limit_is_a_413(owner_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = owner_client.post(
        "/api/bots/preview/", data=json.dumps({"name": "x" * 2000}), content_type="application/json"
    )
    assert response.status_code == 413 and response.json()["code"] == "request_too_large", response.content


@pytest.fixture
def built_frontend(settings, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>Setka</title>")
    settings.FRONTEND_DIST = tmp_path
    return tmp_path


@pytest.mark.parametrize("path", ["/%00", "/bots/%00", "/api/%00", "/api/bots/1%00/", "/%0A%0D"])
def test_nul_and_control_characters_in_the_path_are_a_400(client, built_frontend, path):
    response = client.get(path)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json()["code"] == "invalid_path"


@pytest.mark.parametrize("path", ["/" + "a" * 256, "/bots/" + "b" * 300, "/api/" + "c" * 300 + "/"])
def test_a_path_segment_over_255_characters_is_a_404(client, built_frontend, path):
    assert client.get(path).status_code == 404


def test_the_single_page_app_still_answers_ordinary_paths(client, built_frontend):
    response = client.get("/bots/12")
    assert response.status_code == 200 and b"Setka" in b"".join(response.streaming_content)


@pytest.mark.parametrize("value", [str(2**63), str(2**64), "9" * 40])
def test_ids_beyond_64_bits_in_urls_are_a_json_404(owner_client, trading_bot, value):
    for path in (
        f"/api/bots/{value}/",
        f"/api/bots/{value}/orders/",
        f"/api/exchange-accounts/{value}/",
        f"/api/auth/sessions/{value}/",
    ):
        response = owner_client.get(path)
        assert response.status_code in (404, 405), path
        if response.status_code == 404:
            assert response.json()["code"] == "not_found"


def test_largest_64_bit_id_is_an_ordinary_404(owner_client):
    response = owner_client.get(f"/api/bots/{2**63 - 1}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lower_price", "1e999999999", "too large"),
        ("upper_price", "-1e999999999", "too large"),
        ("lower_price", "1e-999999999", "decimal places"),
        ("investment", DIGITS_5000, "too large"),
        ("lower_price", "NaN", "number"),
        ("lower_price", "Infinity", "number"),
        ("take_profit_roi", "1E-999999999", "decimal places"),
        ("grid_count", DIGITS_5000, "between"),
        ("grid_count", "1" + "0" * 4000, "between"),
    ],
)
def test_absurd_decimals_in_the_bot_config_are_a_400_on_the_field(owner_client, trading_bot, field, value, message):
    config = {
        "strategy": "spot_grid",
        "lower_price": "50000",
        "upper_price": "60000",
        "grid_count": 10,
        "investment": "1000",
        field: value,
    }
    body = {
        "name": "x",
        "exchange_account": trading_bot.exchange_account_id,
        "symbol": "BTCUSDT",
        "category": "spot",
        "config": config,
    }
    before = Bot.objects.count()
    for url in ("/api/bots/preview/", "/api/bots/"):
        response = owner_client.post(url, body, format="json")
        assert response.status_code == 400, (url, response.content[:300])
        fields = response.json()["fields"]
        flat = json.dumps(fields)
        assert field in flat and message in flat.lower(), fields
    assert Bot.objects.count() == before


@pytest.mark.parametrize(
    "raw",
    [
        '{"strategy": "spot_grid", "lower_price": 1e999999999, "upper_price": 2, "grid_count": 10, "investment": 5}',
        '{"strategy": "spot_grid", "lower_price": 1, "upper_price": 2, "grid_count": DIGITS, "investment": 5}',
        '{"strategy": "spot_grid", "lower_price": 1, "upper_price": 2, "grid_count": 10, "investment": DIGITS}',
    ],
)
def test_absurd_json_numbers_in_the_bot_config_are_a_400(owner_client, trading_bot, raw):
    config = raw.replace("DIGITS", DIGITS_5000)
    body = f'{{"exchange_account": {trading_bot.exchange_account_id}, "symbol": "BTCUSDT", "config": {config}}}'
    response = owner_client.post("/api/bots/preview/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_an_exchange_account_id_beyond_64_bits_in_a_body_is_a_400_on_the_field(owner_client):
    response = owner_client.post(
        "/api/bots/preview/", {"exchange_account": 2**64, "symbol": "BTCUSDT", "config": {}}, format="json"
    )
    assert response.status_code == 400 and "exchange_account" in response.json()["fields"]


def test_limit_2_pow_63_is_clamped_not_a_500(owner_client, trading_bot):
    for url in (f"/api/bots/?limit={2**63}", f"/api/exchange-accounts/?limit={2**63}"):
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert len(response.json()["results"]) == 1
    response = owner_client.get(f"/api/bots/?limit=1&offset={2**64}")
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize(
    "keys",
    [
        ["0001-01-01T00:00:00+14:00", 1],
        ["9999-12-31T23:59:59-14:00", 1],
        ["1900-01-01T00:00:00+00:00", 1],
        ["2026-01-01T00:00:00", 1],
        ["2026-01-01T00:00:00+00:00", 2**70],
        ["2026-01-01T00:00:00+00:00", -1],
    ],
)
def test_cursors_out_of_range_are_a_400(owner_client, trading_bot, keys):
    response = owner_client.get("/api/trades/?cursor=" + _cursor(keys))
    assert response.status_code == 400
    assert response.json()["fields"] == {"cursor": ["Invalid cursor."]}


def test_event_cursor_beyond_64_bits_is_a_400(owner_client, trading_bot):
    response = owner_client.get(f"/api/bots/{trading_bot.pk}/events/?cursor=" + _cursor([2**70]))
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "date_from=0001-01-01T00:00:00%2B14:00",
        "date_to=9999-12-31T23:59:59-14:00",
        "date_from=1800-01-01",
        f"bot={2**70}",
    ],
)
def test_trade_filters_out_of_range_are_a_400_on_the_list_and_the_export(owner_client, trading_bot, query):
    for url in (f"/api/trades/?{query}", f"/api/trades/export.csv?{query}"):
        response = owner_client.get(url)
        assert response.status_code == 400, url  # the export never answers 200 and then fails
        assert not response.streaming
        assert response.json()["fields"]


def test_the_export_reads_its_first_rows_before_answering(owner_client, trading_bot, monkeypatch):
    """A selection the database refuses fails while a 4xx/5xx can still be sent, not after a 200."""
    import trading.export as export

    calls = []
    real = export._chunk
    monkeypatch.setattr(export, "_chunk", lambda qs, after: calls.append(after) or real(qs, after))
    response = owner_client.get("/api/trades/export.csv")
    assert calls == [None]  # read before the response object existed
    assert response.status_code == 200
    lines = b"".join(response).decode().splitlines()
    assert lines[0].startswith("id,bot,symbol") and len(lines) == 1 + Trade.objects.filter(bot=trading_bot).count()


@pytest.mark.parametrize(
    ("key", "secret", "field"),
    [
        ("ключключключключ", "SECRET0123456789SECRET0123456789", "api_key"),
        ("KEY0123456789ABCD", "секретсекретсекрет", "api_secret"),
        ("KEYé0123456789", "SECRET0123456789", "api_key"),
        ("KEY 0123456789", "SECRET0123456789", "api_key"),
    ],
)
def test_an_api_key_with_non_latin_characters_is_a_400_about_the_key(owner_client, monkeypatch, key, secret, field):
    """Not a 503 "exchange not answering": the key is refused before any request is made."""
    import exchanges.services as services

    def no_network(**kwargs):
        raise AssertionError("a malformed key must be refused before a client is built")

    monkeypatch.setattr(services, "_client_for_keys", no_network)
    before = ExchangeAccount.objects.count()
    response = owner_client.post(
        "/api/exchange-accounts/",
        {"label": "Main", "environment": "testnet", "api_key": key, "api_secret": secret},
        format="json",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_key_format" and field in body["fields"]
    assert "Latin layout" in body["detail"]
    assert ExchangeAccount.objects.count() == before


def test_unknown_api_paths_answer_the_contract_json_404(owner_client):
    response = owner_client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.slow
def test_quick_start_sqlite_answers_huge_ids_dates_and_cursors_without_5xx(tmp_path):
    """The same hostile ids, dates and cursors through the ORM on SQLite (the quick start's
    database), where a number beyond 64 bits raises OverflowError instead of matching nothing."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(SETKA_VAR_DIR=str(tmp_path), DJANGO_ENV="test", PYTHONPATH=str(root))
    done = subprocess.run(
        [sys.executable, "-m", "tests.api.sqlite_edge"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(answers) >= 37
    assert {request: status for request, status in answers.items() if status >= 500} == {}


def test_every_new_error_code_has_a_text_in_both_languages():
    root = Path(__file__).resolve().parents[2] / "frontend" / "i18n" / "locales"
    for lang in ("ru", "en"):
        errors = json.loads((root / f"{lang}.json").read_text())["errors"]
        for code in ("invalid_path", "request_too_large", "bad_request", "invalid_key_format"):
            assert errors.get(code), (lang, code)


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_export_refuses_bad_filters_before_its_200_and_nul_paths_are_400(user):
    """The way daphne serves it: the CSV is an async stream, so a late failure would come after the
    200 and its headers (a download that hangs or breaks). Bad filters answer 400 up front."""
    from asgiref.sync import sync_to_async
    from asgiref.testing import ApplicationCommunicator
    from django.core.asgi import get_asgi_application

    from accounts.tokens import ACCESS_COOKIE, access_token_issue

    app = get_asgi_application()
    token = await sync_to_async(access_token_issue)(user=user)
    headers = [(b"host", b"localhost"), (b"cookie", f"{ACCESS_COOKIE}={token}".encode())]

    async def get(path, query=b""):
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "headers": headers,
            "client": ("127.0.0.1", 5000),
            "server": ("x", 80),
        }
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(10)
        body = b""
        while True:
            message = await communicator.receive_output(10)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await communicator.wait(10)
        return {"status": start["status"], "body": body}

    bad = await get("/api/trades/export.csv", b"date_from=0001-01-01T00:00:00%2B14:00")
    assert bad["status"] == 400, bad["body"][:500]
    assert json.loads(bad["body"])["fields"]["date_from"]
    ok = await get("/api/trades/export.csv")
    assert ok["status"] == 200 and ok["body"].decode().startswith("id,bot,symbol")
    nul = await get("/api/\x00")
    assert nul["status"] == 400 and json.loads(nul["body"])["code"] == "invalid_path"


# --- the edge validators themselves (no database: the same answer on SQLite and PostgreSQL) -------
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/bots/12/", None),
        (f"/api/bots/{2**63 - 1}/", None),
        (f"/api/bots/{2**63}/", 404),
        (f"/admin/bots/bot/{2**64}/change/", 404),
        (f"/bots/{2**64}", None),  # the app's router answers its own paths
        ("/api/\x00", 400),
        ("/x\x7f", 400),
        ("/" + "a" * 255, None),
        ("/" + "a" * 256, 404),
        ("/api/bots/١٢٣/", None),  # non-ASCII digits are no id: the URL conf answers 404 itself
    ],
)
def test_path_problem(path, status):
    from config.middleware import path_problem

    problem = path_problem(path)
    assert (problem[0] if problem else None) == status


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("[" * 33 + "]" * 33, "nested too deeply"),
        ("[" * 100_000, "nested too deeply"),
        ('{"a": 1e400}', "too large"),
        ('{"a": -Infinity}', "too large or not a number"),
        ('{"a": NaN}', "not a number"),
        (b'{"a": "\xff"}', "UTF-8"),
        ('{"a": ', "not valid JSON"),
    ],
)
def test_safe_json_loads_refuses_with_a_reason(raw, words):
    from django.utils import translation
    from rest_framework.exceptions import ParseError

    from config.parsers import safe_json_loads

    with translation.override("en"), pytest.raises(ParseError) as info:
        safe_json_loads(raw)
    assert words in str(info.value.detail)


def test_safe_json_loads_keeps_ordinary_documents_and_turns_huge_integers_into_decimals():
    from decimal import Decimal

    from config.parsers import safe_json_loads

    assert safe_json_loads('{"a": [1, 2.5, "x", {"b": null}]}') == {"a": [1, 2.5, "x", {"b": None}]}
    assert safe_json_loads("[" * 32 + "]" * 32)
    value = safe_json_loads("9" * 5000)
    assert isinstance(value, Decimal) and value == Decimal("9" * 5000)
