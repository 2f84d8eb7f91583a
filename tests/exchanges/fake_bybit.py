"""A scripted Bybit-V5-shaped HTTP server on a free loopback port, for adapter unit tests that
need exact control of each answer (status, retCode, headers, delays). The full behaviour is
tested against the real simulator in test_contract.py."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


def ok(result=None, **extra):
    return {"retCode": 0, "retMsg": "OK", "result": result or {}, "retExtInfo": extra.get("ext", {}), "time": 0}


def err(code, msg="error"):
    return {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 0}


class FakeBybit:
    def __init__(self):
        self.scripts: dict[str, deque] = defaultdict(deque)
        self.defaults: dict[str, tuple] = {}
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                record = {
                    "method": self.command,
                    "path": parts.path,
                    "query": dict(parse_qsl(parts.query)),
                    "body": json.loads(body) if body else {},
                    "headers": dict(self.headers),
                    "at": time.time(),
                }
                fake.requests.append(record)
                script = fake.scripts[parts.path]
                step = script.popleft() if script else fake.defaults.get(parts.path, (200, ok(), {}, 0))
                status, payload, headers, delay = (list(step) + [{}, 0])[:4]
                if callable(payload):
                    payload = payload(record)
                if delay:
                    time.sleep(delay)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, str(value))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _serve
            do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def script(self, path: str, *steps):
        for step in steps:
            self.scripts[path].append(step)

    def calls(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
