"""Outside development the simulator's control API never runs, and paper accounts are never pointed
at it, with a missing, short, well-known or predictable token: whoever holds the token can mint
money on every paper account and read their keys."""

from __future__ import annotations

import secrets

import pytest
from django.core.management import CommandError, call_command

from exchanges.simulator.control import ControlError, SimulatorControl
from exchanges.simulator.controlchecks import control_token_problem, require_strong_token
from exchanges.simulator.server import Simulator

STRONG = secrets.token_urlsafe(32)
WEAK = [
    "",
    "setka-dev-control-token",  # the development default in config/settings.py
    "test-token",
    "short-but-random-Zq8",
    "a" * 64,
    "abababababababababababababababababababab",
    "0123456789012345678901234567890123456789",
    "0000000000000000ffffffffffffffff",  # no short period, but 32 bits by its own characters
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
]


@pytest.mark.parametrize("token", WEAK)
def test_weak_tokens_are_named_as_such(token):
    assert control_token_problem(token)


@pytest.mark.parametrize(
    "make",
    [lambda: secrets.token_urlsafe(32), lambda: secrets.token_hex(32), lambda: secrets.token_hex(16)],
    ids=["token_urlsafe(32)", "token_hex(32)", "openssl-rand-hex-16"],
)
def test_random_tokens_are_strong(make):
    for _ in range(200):  # the estimate must not refuse a random token by bad luck
        token = make()
        assert control_token_problem(token) is None, token


@pytest.mark.parametrize("token", WEAK)
def test_production_refuses_to_build_a_simulator_with_a_weak_token(monkeypatch, token):
    monkeypatch.setenv("DJANGO_ENV", "production")
    with pytest.raises(RuntimeError, match="Refusing to run the paper-trading simulator in production"):
        Simulator(control_token=token).app()


def test_production_builds_a_simulator_with_a_strong_token_and_development_with_any(monkeypatch):
    monkeypatch.setenv("DJANGO_ENV", "production")
    assert Simulator(control_token=STRONG).app() is not None
    monkeypatch.setenv("DJANGO_ENV", "development")
    assert Simulator(control_token="setka-dev-control-token").app() is not None


def test_the_message_says_how_to_make_a_token():
    with pytest.raises(RuntimeError) as info:
        require_strong_token("setka-dev-control-token", production=True)
    assert "well-known" in str(info.value) and "secrets.token_urlsafe(32)" in str(info.value)


@pytest.mark.parametrize("how", ["env", "settings"])
def test_run_simulator_refuses_a_weak_token_in_production(monkeypatch, settings, how):
    import exchanges.management.commands.run_simulator as command

    started = []
    monkeypatch.setattr(command, "run_from_args", started.append)
    if how == "env":
        monkeypatch.setenv("DJANGO_ENV", "production")
    else:
        settings.PRODUCTION = True
    settings.SETKA_SIMULATOR_CONTROL_TOKEN = "setka-dev-control-token"
    with pytest.raises(CommandError, match="well-known"):
        call_command("run_simulator", "--port", "0", "--state", "")
    with pytest.raises(CommandError, match="shorter than 32"):
        call_command("run_simulator", "--port", "0", "--state", "", "--control-token", "abc123")
    assert started == []
    call_command("run_simulator", "--port", "0", "--state", "", "--control-token", STRONG)
    assert len(started) == 1 and started[0].control_token == STRONG


def test_run_simulator_starts_with_the_dev_token_in_development(monkeypatch, settings):
    import exchanges.management.commands.run_simulator as command

    started = []
    monkeypatch.setattr(command, "run_from_args", started.append)
    monkeypatch.setenv("DJANGO_ENV", "development")
    settings.PRODUCTION = False
    settings.SETKA_SIMULATOR_CONTROL_TOKEN = "setka-dev-control-token"
    call_command("run_simulator", "--port", "0", "--state", "")
    assert started[0].control_token == "setka-dev-control-token"


def test_production_refuses_to_point_paper_accounts_at_a_weak_token(monkeypatch):
    monkeypatch.setenv("DJANGO_ENV", "production")
    with pytest.raises(ControlError, match="well-known"):
        SimulatorControl("http://127.0.0.1:9", "setka-dev-control-token")
    assert SimulatorControl("http://127.0.0.1:9", STRONG).base_url == "http://127.0.0.1:9"


@pytest.mark.django_db
def test_paper_account_in_production_with_the_dev_token_is_refused_and_nothing_is_created(monkeypatch, settings, user):
    from exchanges.models import ExchangeAccount
    from exchanges.simulator.testing import running_simulator
    from tests.api.conftest import cookie_client

    # A simulator that does accept the development token (started before "production" begins).
    with running_simulator(control_token="setka-dev-control-token") as sim:
        settings.SETKA_SIMULATOR_URL = sim.base_url
        settings.SETKA_SIMULATOR_CONTROL_TOKEN = "setka-dev-control-token"
        monkeypatch.setenv("DJANGO_ENV", "production")
        response = cookie_client(user).post("/api/exchange-accounts/paper/", {}, format="json")
        assert response.status_code == 503
        assert ExchangeAccount.objects.filter(user=user).count() == 0
        monkeypatch.setenv("DJANGO_ENV", "test")
        assert sim.control.status()["accounts"] == 0  # the simulator was never asked


def test_production_settings_have_no_default_control_token(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "SETKA_ENCRYPTION_KEYS": secrets.token_urlsafe(32),
        "SETKA_VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(root),
    }
    code = "import config.settings as s; print(repr(s.SETKA_SIMULATOR_CONTROL_TOKEN))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=root, check=True)
    assert out.stdout.strip() == "''"
