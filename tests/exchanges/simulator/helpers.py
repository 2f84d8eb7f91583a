"""Small clients for the simulator tests: a raw signed HTTP client (compact JSON, unsorted query,
optional sign-type header) and pybit clients pointed at the simulator."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests
from pybit.unified_trading import HTTP, WebSocket


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class RawClient:
    """Signs exactly what it sends: the query string in the order given, the body bytes as serialized."""

    def __init__(self, base_url, api_key, api_secret, *, compact=True, sign_type=False, recv_window=5000):
        self.base_url = base_url
        self.api_key = api_key
        self.api_secret = api_secret
        self.compact = compact
        self.sign_type = sign_type
        self.recv_window = recv_window
        self.session = requests.Session()
        self.session.trust_env = False
        self.last_response = None

    def _headers(self, payload: str, ts: int | None = None, secret: str | None = None) -> dict:
        ts = ts if ts is not None else int(time.time() * 1000)
        h = {
            "X-BAPI-API-KEY": self.api_key,
            "X-BAPI-TIMESTAMP": str(ts),
            "X-BAPI-RECV-WINDOW": str(self.recv_window),
            "X-BAPI-SIGN": sign(secret or self.api_secret, f"{ts}{self.api_key}{self.recv_window}{payload}"),
            "Content-Type": "application/json",
        }
        if self.sign_type:
            h["X-BAPI-SIGN-TYPE"] = "2"
        return h

    def get(self, path: str, query: str = "", **kw) -> dict:
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        self.last_response = self.session.get(url, headers=self._headers(query, **kw), timeout=10)
        return self.last_response.json()

    def post(self, path: str, body: dict, *, timeout=10, **kw) -> dict:
        raw = json.dumps(body, separators=(",", ":")) if self.compact else json.dumps(body, indent=1)
        self.last_response = self.session.post(
            f"{self.base_url}{path}", data=raw.encode(), headers=self._headers(raw, **kw), timeout=timeout
        )
        return self.last_response.json()


def pybit_http(sim, account, **kw) -> HTTP:
    http = HTTP(api_key=account.api_key, api_secret=account.api_secret, **kw)
    http.endpoint = sim.base_url
    http.client.trust_env = False
    return http


def pybit_ws(sim, channel_type: str, account=None, **kw) -> WebSocket:
    base = sim.ws_url

    class LocalWebSocket(WebSocket):
        def _connect(self, url):
            for tpl in ("wss://{SUBDOMAIN}.{DOMAIN}.{TLD}", "wss://{SUBDOMAIN}.{DOMAIN}.com"):
                url = url.replace(tpl, base)
            return super()._connect(url)

    keys = {"api_key": account.api_key, "api_secret": account.api_secret} if account else {}
    return LocalWebSocket(channel_type=channel_type, testnet=False, **keys, **kw)


def wait_for(predicate, timeout=5.0, interval=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
