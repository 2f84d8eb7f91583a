"""Loopback-only networking for test processes (issue 9, "tests never leave the machine").

`install()` wraps the socket module so that resolving a name that is not a loopback name and
connecting (or sending a datagram) to an address that is not a loopback address raise
`NetworkGuardError` BEFORE anything is resolved or sent. Loopback names and addresses
(localhost, 127.0.0.0/8, ::1), the unspecified address (binding a server) and Unix sockets pass.

config.settings_test installs it when SETKA_SOCKET_GUARD=loopback (its default there), so the
pytest process and every process a test starts with the test settings (daphne, celery, the
streams runner, the simulator: tests/stack.py) refuse to reach the outside world. The error is
a RuntimeError on purpose: client libraries retry or swallow OSErrors, not this; every blocked
attempt is also kept in `blocked` and logged, so a test that swallowed it still fails
(tests/conftest.py checks `blocked` after each test).

It guards Python's socket module only: C libraries that resolve and connect by themselves
(libpq) are pointed at 127.0.0.1 by the test settings instead.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys

logger = logging.getLogger("setka.socket_guard")

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
blocked: list[str] = []
_installed = False


class NetworkGuardError(RuntimeError):
    """A test process tried to reach a host that is not this machine."""


def _host_text(host) -> str | None:
    if host is None:
        return None
    if isinstance(host, bytes | bytearray):
        return bytes(host).decode("ascii", "replace")
    return host if isinstance(host, str) else None


def is_loopback(host) -> bool:
    """True for loopback names and addresses, the unspecified address and no host at all."""
    if host is None:
        return True
    text = _host_text(host)
    if text is None:
        return False
    text = text.strip().rstrip(".").lower()
    if text in ("", "<broadcast>"):
        return text == ""
    if text in LOOPBACK_NAMES or text.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_loopback or address.is_unspecified


def _refuse(what: str, host) -> None:
    message = f"{what} to {host!r} refused: test processes may only reach 127.0.0.1 / ::1 (config/socket_guard.py)"
    blocked.append(message)
    logger.error("SETKA_SOCKET_GUARD %s", message)
    print(f"SETKA_SOCKET_GUARD {message}", file=sys.stderr, flush=True)
    raise NetworkGuardError(message)


def _check_address(sock, address, what: str) -> None:
    family = getattr(sock, "family", None)
    if family not in (socket.AF_INET, socket.AF_INET6):
        return  # Unix, netlink...: never leaves the machine
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback(host):
        _refuse(what, host)


def install() -> None:
    """Wrap the current socket functions (idempotent per wrapper layer: safe to call again
    after another tool, e.g. pytest-socket, restored the originals)."""
    global _installed
    current_connect = socket.socket.connect
    if getattr(current_connect, "_setka_guard", False):
        return

    def connect(self, address, /):
        _check_address(self, address, "connect")
        return current_connect(self, address)

    current_connect_ex = socket.socket.connect_ex

    def connect_ex(self, address, /):
        _check_address(self, address, "connect")
        return current_connect_ex(self, address)

    current_sendto = socket.socket.sendto

    def sendto(self, data, *args):
        address = args[-1] if args else None
        _check_address(self, address, "sendto")
        return current_sendto(self, data, *args)

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if not is_loopback(host):
            _refuse("name lookup", host)
        return real_getaddrinfo(host, *args, **kwargs)

    real_gethostbyname = socket.gethostbyname

    def gethostbyname(host):
        if not is_loopback(host):
            _refuse("name lookup", host)
        return real_gethostbyname(host)

    real_gethostbyname_ex = socket.gethostbyname_ex

    def gethostbyname_ex(host):
        if not is_loopback(host):
            _refuse("name lookup", host)
        return real_gethostbyname_ex(host)

    for wrapper in (connect, connect_ex, sendto, getaddrinfo, gethostbyname, gethostbyname_ex):
        wrapper._setka_guard = True  # type: ignore[union-attr]  # a marker attribute on our own functions
    # Each function is wrapped once: pytest-socket swaps connect() back and forth around every
    # test, but not connect_ex/sendto, which would otherwise gain a layer per call (recursion).
    socket.socket.connect = connect  # type: ignore[method-assign]
    if not getattr(current_connect_ex, "_setka_guard", False):
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    if not getattr(current_sendto, "_setka_guard", False):
        socket.socket.sendto = sendto  # type: ignore[method-assign]
    if not getattr(socket.getaddrinfo, "_setka_guard", False):
        socket.getaddrinfo = getaddrinfo
    if not getattr(socket.gethostbyname, "_setka_guard", False):
        socket.gethostbyname = gethostbyname
    if not getattr(socket.gethostbyname_ex, "_setka_guard", False):
        socket.gethostbyname_ex = gethostbyname_ex
    _installed = True


def installed() -> bool:
    return _installed and getattr(socket.socket.connect, "_setka_guard", False)
