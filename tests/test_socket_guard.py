"""Tests never leave the machine (issue 9, item 7): the socket guard refuses, before anything is
resolved or sent, every connection and name lookup beyond loopback, in the pytest process and
in the processes tests start with the test settings; every Bybit environment points at the
simulator."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from pytest_socket import SocketConnectBlockedError

from config import socket_guard
from tests.stack import BASE_DIR, PYTHON

OUTSIDE = ("10.255.255.1", 443)  # never actually contacted: the guard raises first


@pytest.fixture
def expect_refusals():
    """The refusals these tests provoke are expected; do not fail them at teardown."""
    yield
    socket_guard.blocked.clear()


def test_guard_is_on_in_the_test_process():
    assert os.environ.get("SETKA_SOCKET_GUARD") == "loopback"
    assert socket_guard.installed()


def test_connect_beyond_loopback_is_refused_before_any_packet(expect_refusals, monkeypatch):
    """The guard decides before the call reaches whatever is beneath it (pytest-socket, then
    the kernel): a recorder put beneath the guard is never called for an outside address."""
    reached = []
    underlying = socket.socket.connect

    def recorder(sock, address):
        reached.append(address)
        return underlying(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recorder)
    socket_guard.install()  # the guard on top of the recorder
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(socket_guard.NetworkGuardError):
            sock.connect(OUTSIDE)
    with pytest.raises(socket_guard.NetworkGuardError):
        socket.create_connection(OUTSIDE, timeout=0.1)
    assert reached == []
    with socket.socket() as server:  # loopback goes through to the recorder (and the kernel)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        address = server.getsockname()
        with socket.create_connection(address, timeout=2):
            pass
    assert reached == [address]


def test_pytest_socket_refuses_outside_connections_too(expect_refusals):
    """Underneath, pytest-socket (--allow-hosts in pyproject.toml) refuses on its own."""
    from pytest_socket import _true_connect

    assert socket.socket.connect is not _true_connect
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises((socket_guard.NetworkGuardError, SocketConnectBlockedError)):
            sock.connect(OUTSIDE)


def test_name_lookup_of_an_outside_host_is_refused(expect_refusals):
    for host in ("api.bybit.com", "stream.bybit.com", "api.telegram.org", "example.com"):
        with pytest.raises(socket_guard.NetworkGuardError):
            socket.getaddrinfo(host, 443)
        with pytest.raises(socket_guard.NetworkGuardError):
            socket.gethostbyname(host)
    assert any("api.bybit.com" in line for line in socket_guard.blocked)


def test_loopback_still_works():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
    assert socket.getaddrinfo("localhost", 80)
    for host in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "::ffff:127.0.0.1", None):
        assert socket_guard.is_loopback(host), host
    for host in ("10.255.255.1", "192.168.0.1", "8.8.8.8", "api.bybit.com", "127.0.0.1.nip.io"):
        assert not socket_guard.is_loopback(host), host


def test_a_swallowed_refusal_still_fails_the_test(expect_refusals):
    """Client libraries catch errors; the refusal is recorded and tests/conftest.py fails the
    test at teardown (checked here on the record itself)."""
    try:
        socket.getaddrinfo("api-testnet.bybit.com", 443)
    except Exception:  # noqa: BLE001 - what a sloppy client would do
        pass
    assert socket_guard.blocked and "api-testnet.bybit.com" in socket_guard.blocked[-1]


@pytest.mark.slow
def test_processes_started_with_the_test_settings_are_guarded():
    """A subprocess with the test settings (as tests/stack.py starts daphne, celery, streams)
    refuses too, and says so in its output."""
    code = (
        "import socket, django; django.setup()\n"
        "from config import socket_guard\n"
        "assert socket_guard.installed()\n"
        "for call in (lambda: socket.create_connection(('10.255.255.1', 443), timeout=0.1),\n"
        "             lambda: socket.getaddrinfo('api.bybit.com', 443)):\n"
        "    try:\n"
        "        call()\n"
        "    except socket_guard.NetworkGuardError:\n"
        "        print('refused')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    env.pop("SETKA_SOCKET_GUARD", None)  # on by default with the test settings
    result = subprocess.run(
        [PYTHON, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["refused", "refused"]
    assert "SETKA_SOCKET_GUARD" in result.stderr


def test_every_bybit_environment_resolves_to_the_simulator(db, settings):
    from exchanges import factory
    from tests.factories import ExchangeAccountFactory

    settings.SETKA_SIMULATOR_URL = "http://127.0.0.1:18999"
    settings.SETKA_SIMULATOR_WS_URL = ""
    for env in ("mainnet", "testnet", "demo"):
        client = factory.client_for_account(ExchangeAccountFactory(environment=env))
        assert client.base_url == "http://127.0.0.1:18999", env
        keys_client = factory.client_for_keys(environment=env, api_key="k" * 18, api_secret="s" * 36)
        assert keys_client.base_url == "http://127.0.0.1:18999", env
    assert settings.SETKA_BYBIT_ENDPOINTS.get("mainnet") == ("http://127.0.0.1:18999", "ws://127.0.0.1:18999")


def test_stack_processes_get_the_guard():
    from tests.stack import Stack

    stack = Stack(env={})
    assert stack.env["SETKA_SOCKET_GUARD"] == "loopback"
    assert stack.env["DJANGO_SETTINGS_MODULE"] == "config.settings_test"
    assert sys.modules["config.settings_test"]  # the settings that install the guard


def test_installing_again_never_stacks_the_wrappers():
    """The guard is re-installed around every test (after pytest-socket swaps connect back):
    each socket function must stay wrapped exactly once, or a long run ends in RecursionError."""
    import socket

    from config import socket_guard

    socket_guard.install()
    before = (socket.socket.connect_ex, socket.socket.sendto, socket.getaddrinfo)
    for _ in range(50):
        socket_guard.install()
    assert (socket.socket.connect_ex, socket.socket.sendto, socket.getaddrinfo) == before
