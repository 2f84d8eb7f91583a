"""OAuth discovery and dynamic client registration on the web app: RFC 8414 metadata, RFC 7591
registration (PKCE public clients, redirect URIs https or loopback only, a budget per IP), and
the consent page listing the scopes in the user's language."""

from __future__ import annotations

import json

import pytest
from django.test import Client as DjangoClient
from oauth2_provider.models import get_application_model

pytestmark = pytest.mark.django_db
LOOPBACK = "http://127.0.0.1:33418/callback"


def _register(body, client=None):
    client = client or DjangoClient()
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post("/o/register/", raw, content_type="application/json")


def test_authorization_server_metadata(settings):
    settings.MCP_ISSUER_URL = "https://setka.example"
    meta = DjangoClient().get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == "https://setka.example"
    assert meta["authorization_endpoint"] == "https://setka.example/o/authorize/"
    assert meta["token_endpoint"] == "https://setka.example/o/token/"
    assert meta["registration_endpoint"] == "https://setka.example/o/register/"
    assert meta["scopes_supported"] == ["read", "trade"]
    assert meta["response_types_supported"] == ["code"]
    assert set(meta["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "none" in meta["token_endpoint_auth_methods_supported"]


def test_a_public_client_registers_and_gets_no_secret():
    answer = _register(
        {
            "redirect_uris": [LOOPBACK, "https://app.example/cb"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": "Claude Desktop",
            "scope": "read trade",
        }
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert "client_secret" not in body and body["token_endpoint_auth_method"] == "none"
    app = get_application_model().objects.get(client_id=body["client_id"])
    assert app.client_type == "public" and app.authorization_grant_type == "authorization-code"
    assert app.redirect_uris.split() == [LOOPBACK, "https://app.example/cb"] and app.name == "Claude Desktop"
    assert not app.skip_authorization


def test_a_confidential_client_gets_its_secret_once_stored_hashed():
    body = _register({"redirect_uris": ["https://app.example/cb"]}).json()
    assert body["token_endpoint_auth_method"] == "client_secret_basic" and len(body["client_secret"]) > 30
    app = get_application_model().objects.get(client_id=body["client_id"])
    assert app.client_type == "confidential" and body["client_secret"] not in app.client_secret


@pytest.mark.parametrize(
    "uris",
    [
        ["http://evil.example/cb"],
        ["javascript:alert(1)"],
        ["cursor://callback"],
        ["https://app.example/cb#frag"],
        ["https://user:pw@app.example/cb"],
        ["/relative"],
        [],
        ["https://a.example/cb"] * 6,
        "https://app.example/cb",
        [12],
        ["http://127.0.0.1:99999999/cb"],
    ],
)
def test_bad_redirect_uris_are_refused_and_nothing_is_created(uris):
    answer = _register({"redirect_uris": uris, "token_endpoint_auth_method": "none"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_redirect_uri" and answer.json()["error_description"]
    assert not get_application_model().objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "[1, 2]",
        "not json",
        "[" * 100_000 + "]" * 100_000,
        {"redirect_uris": [LOOPBACK], "grant_types": ["client_credentials"]},
        {"redirect_uris": [LOOPBACK], "grant_types": ["implicit"]},
        {"redirect_uris": [LOOPBACK], "response_types": ["token"]},
        {"redirect_uris": [LOOPBACK], "token_endpoint_auth_method": "private_key_jwt"},
        {"redirect_uris": [LOOPBACK], "scope": "admin"},
    ],
)
def test_bad_client_metadata_is_a_400_in_words(body):
    answer = _register(body)
    assert answer.status_code == 400 and answer.json()["error_description"]
    assert not get_application_model().objects.exists()


def test_registration_is_rate_limited_per_ip(settings):
    settings.MCP_OAUTH_REGISTRATIONS_PER_HOUR = 3
    ok = {"redirect_uris": [LOOPBACK], "token_endpoint_auth_method": "none"}
    here, there = DjangoClient(REMOTE_ADDR="10.0.0.1"), DjangoClient(REMOTE_ADDR="10.0.0.2")
    assert [_register(ok, here).status_code for _ in range(4)] == [201, 201, 201, 429]
    assert _register(ok, there).status_code == 201
    assert get_application_model().objects.count() == 4


@pytest.mark.parametrize(
    ("language", "read_words", "trade_words", "allow"),
    [
        ("ru", "Чтение ваших ботов", "Создание, запуск и остановка", "Разрешить"),
        ("en", "Read your bots", "Create, start and stop your bots", "Allow"),
    ],
)
def test_the_consent_page_lists_the_scopes_in_the_users_language(user, language, read_words, trade_words, allow):
    user.language = language
    user.save(update_fields=["language"])
    client_id = _register({"redirect_uris": [LOOPBACK], "token_endpoint_auth_method": "none"}).json()["client_id"]
    browser = DjangoClient()
    browser.force_login(user)
    query = {
        "client_id": client_id,
        "redirect_uri": LOOPBACK,
        "response_type": "code",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "state": "s",
    }
    page = browser.get("/o/authorize/", {**query, "scope": "read trade"}).content.decode()
    assert read_words in page and trade_words in page and allow in page and user.email in page
    only_read = browser.get("/o/authorize/", {**query, "scope": "read"}).content.decode()
    assert read_words in only_read and trade_words not in only_read
