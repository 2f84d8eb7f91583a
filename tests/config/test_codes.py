"""Every message a user sees has a code the app says in their language.

- every code the source can emit (API errors, stop reasons, bot log lines) is in config/codes.py;
- both locales (frontend/i18n/locales/{ru,en}.json) have a text for each, and the same keys;
- the server's own `detail` follows the user's language (profile, else Accept-Language)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from django.utils import translation

from config.codes import ERRORS, EVENTS, STOP_REASONS

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "bots", "config", "exchanges", "metrics", "trading")
# Calls whose `code=` is an API error code, and classes whose `code`/`default_code` is one.
ERROR_CALLS = {"DomainError", "ConflictError", "field_error", "Throttled", "PermissionDenied", "ValidationError"}
ERROR_BASES = {"DomainError", "ConflictError", "APIException", "BasePermission", "TokenError", "ExchangeUnavailable"}
# Internal exchange-port errors carry codes too; they never reach a person as such.
SKIP = ("exchanges/adapters/", "exchanges/simulator/", "exchanges/errors.py", "exchanges/ratelimit.py", "migrations/")


def _locale(lang: str) -> dict:
    return json.loads((ROOT / "frontend/i18n/locales" / f"{lang}.json").read_text())


def _keys(tree: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in tree.items():
        out |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"}
    return out


def _name(node) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _consts(node) -> list[str]:
    """The string constants an expression can be: "a", or "a" if x else "b"."""
    if isinstance(node, ast.IfExp):
        return _consts(node.body) + _consts(node.orelse)
    return [node.value] if isinstance(node, ast.Constant) and isinstance(node.value, str) else []


def _const(node) -> str | None:
    values = _consts(node)
    return values[0] if len(values) == 1 else None


def emitted_codes() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"errors": set(), "stop": set(), "events": set()}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if any(part in rel for part in SKIP):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    for kw in node.keywords:
                        for value in _consts(kw.value):
                            if kw.arg == "code" and _name(node.func) in ERROR_CALLS:
                                found["errors"].add(value)
                            elif kw.arg == "code" and _name(node.func) in {"bot_event", "_bot_log"}:  # trading's lines
                                found["events"].add(value)
                            elif kw.arg == "stop_code" and value:
                                found["stop"].add(value)
                            elif kw.arg == "code" and _name(node.func) in {"bot_stop", "bots_stop_for_user"}:
                                found["stop"].add(value)
                elif isinstance(node, ast.ClassDef) and {_name(b) for b in node.bases} & ERROR_BASES:
                    for item in node.body:
                        if isinstance(item, ast.Assign) and {_name(t) for t in item.targets} & {"code", "default_code"}:
                            if (value := _const(item.value)) is not None:
                                found["errors"].add(value)
                elif isinstance(node, ast.FunctionDef) and rel == "bots/services/stop.py":
                    for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True):
                        if arg.arg == "code" and (value := _const(default)):
                            found["stop"].add(value)
    return found


def test_the_scan_finds_codes_in_every_family():
    found = emitted_codes()
    assert {"invalid_credentials", "trading_halted", "no_access", "token_expired"} <= found["errors"]
    assert {"user", "halt", "errors", "access_revoked", "emergency"} <= found["stop"]
    assert {"filled", "stopped", "error_restart", "order_refused"} <= found["events"]


def test_every_code_the_server_emits_is_in_the_registry():
    found = emitted_codes()
    assert found["errors"] - set(ERRORS) == set()
    assert found["stop"] - set(STOP_REASONS) == set()
    assert found["events"] - set(EVENTS) == set()
    # the targets of the engine stop a bot with their kind as the stop code
    from bots.engine import targets

    assert {"take_profit", "stop_loss"} <= set(STOP_REASONS), targets.__name__


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_both_locales_have_a_text_for_every_code(lang):
    keys = _keys(_locale(lang))
    for section, codes in (("errors", ERRORS), ("stop", STOP_REASONS), ("events", EVENTS)):
        missing = sorted(f"{section}.{code}" for code in codes if f"{section}.{code}" not in keys)
        assert missing == [], f"{lang}.json lacks {missing}"


def test_both_locales_have_the_same_keys_and_no_empty_text():
    ru, en = _locale("ru"), _locale("en")
    assert _keys(ru) ^ _keys(en) == set()

    def empty(tree, prefix=""):
        for key, value in tree.items():
            if isinstance(value, dict):
                yield from empty(value, f"{prefix}{key}.")
            elif not str(value).strip():
                yield prefix + key

    assert list(empty(ru)) == [] and list(empty(en)) == []


def test_the_server_has_a_russian_text_for_every_error_and_stop_reason():
    with translation.override("ru"):
        untranslated = [
            text for text in [*ERRORS.values(), *STOP_REASONS.values()] if translation.gettext(text) == text
        ]
    assert untranslated == []


# --- the API's `detail` in the user's language ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "expected"), [("en-US,en;q=0.9", "Wrong email or password."), ("ru-RU,ru", "Неверный email или пароль.")]
)
def test_a_failed_login_answers_in_the_language_of_the_page(api_client, user, accept, expected):
    response = api_client.post(
        "/api/auth/login/",
        {"email": user.email, "password": "wrong-password-1"},
        format="json",
        HTTP_ACCEPT_LANGUAGE=accept,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert response.json()["detail"] == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "expected"), [("en", "No Bot matches the given query."), ("ru", "Не найдено.")])
def test_a_domain_error_follows_the_profile_language_over_the_browser(user_client, user, language, expected):
    user.language = language
    user.save(update_fields=["language"])
    response = user_client.post("/api/bots/999999/stop/", {}, format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"] == expected
    assert response["Content-Language"] == language


@pytest.mark.django_db
def test_a_russian_text_never_reaches_an_english_user(user_client, user):
    from config.exceptions import localized_detail

    assert localized_detail("Неверный email или пароль.", code="invalid_credentials", language="en") == (
        "Wrong email or password."
    )
    assert localized_detail("No such bot.", code="not_found", language="en") == "No such bot."
