"""A tiny threaded HTTP server on 127.0.0.1 shared by the fakes (stdlib only)."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOOPBACK = "127.0.0.1"


class Request:
    def __init__(self, handler: BaseHTTPRequestHandler, body: bytes):
        parts = urlsplit(handler.path)
        self.method = handler.command
        self.path = parts.path
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.headers = {k.lower(): v for k, v in handler.headers.items()}
        self.body = body

    def json(self) -> dict:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {}

    def form(self) -> dict:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}


class Response:
    def __init__(
        self, status: int = 200, body: bytes | str | dict | list = b"", content_type="application/json", headers=None
    ):
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.status, self.body, self.content_type, self.headers = status, body, content_type, headers or {}


class FakeServer:
    """Subclasses implement handle(request) -> Response."""

    def __init__(self, *, port: int = 0):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                response = fake.handle(Request(self, self.rfile.read(length) if length else b""))
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, format, *args):  # noqa: A002 - quiet
                pass

        self.httpd = ThreadingHTTPServer((LOOPBACK, port), Handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.lock = threading.RLock()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError


def post(url: str, body: bytes, headers: dict, *, timeout: float = 10) -> int:
    """POST a callback the way a provider does (the fakes deliver only to loopback addresses,
    so the callback comes from 127.0.0.1). Returns the HTTP status (0 when nobody answered)."""
    host = urlsplit(url).hostname
    if host not in (LOOPBACK, "localhost"):
        raise ValueError(f"the fakes deliver callbacks only to {LOOPBACK}, not {host}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0
