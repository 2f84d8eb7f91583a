"""A small synchronous client of the simulator's control API (used by tests, fixtures and paper accounts).

Outside development a client with a weak or well-known token is refused (ControlError): paper
accounts must not be pointed at a simulator that anyone who read this repository can control."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import requests

from .controlchecks import require_strong_token

log = logging.getLogger("exchanges.simulator")


@dataclass(frozen=True)
class SimKey:
    api_key: str
    api_secret: str
    passphrase: str = ""

    def __repr__(self) -> str:  # never print the secret
        return f"SimKey(api_key={self.api_key!r})"


@dataclass(frozen=True)
class SimAccount:
    uid: int
    api_key: str
    api_secret: str
    passphrase: str = ""  # OKX and KuCoin twins sign with it

    def __repr__(self) -> str:
        return f"SimAccount(uid={self.uid}, api_key={self.api_key!r})"


class ControlError(RuntimeError):
    pass


def _perm_body(spot_trade, contract_trade, read_only, withdraw, ip_whitelist, expires_at) -> dict:
    return {
        "spot_trade": spot_trade,
        "contract_trade": contract_trade,
        "read_only": read_only,
        "withdraw": withdraw,
        "ip_whitelist": list(ip_whitelist),
        "expires_at_ms": int(expires_at.timestamp() * 1000) if expires_at is not None else None,
    }


class SimulatorControl:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0, production: bool | None = None):
        try:
            require_strong_token(token, production=production)
        except RuntimeError as exc:
            log.error("%s", exc)
            raise ControlError(str(exc)) from None
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # loopback: never through a proxy
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        resp = self.session.request(method, f"{self.base_url}/control{path}", json=body, timeout=self.timeout)
        try:
            data = resp.json()
        except ValueError:
            data = {"error": resp.text}
        if resp.status_code != 200:
            raise ControlError(f"{method} /control{path}: HTTP {resp.status_code}: {data.get('error', data)}")
        return data

    def create_account(
        self,
        *,
        funding: dict | None = None,
        spot_trade=True,
        contract_trade=True,
        read_only=False,
        withdraw=False,
        ip_whitelist=(),
        expires_at: datetime | None = None,
    ) -> SimAccount:
        funding = {"USDT": "10000"} if funding is None else funding
        body = {
            "funding": {c: str(v) for c, v in funding.items()},
            **_perm_body(spot_trade, contract_trade, read_only, withdraw, ip_whitelist, expires_at),
        }
        d = self._call("POST", "/accounts", body)
        return SimAccount(d["uid"], d["api_key"], d["api_secret"], d.get("passphrase", ""))

    def create_api_key(
        self,
        uid: int,
        *,
        spot_trade=True,
        contract_trade=True,
        read_only=False,
        withdraw=False,
        ip_whitelist=(),
        expires_at: datetime | None = None,
    ) -> SimKey:
        d = self._call(
            "POST",
            f"/accounts/{uid}/keys",
            _perm_body(spot_trade, contract_trade, read_only, withdraw, ip_whitelist, expires_at),
        )
        return SimKey(d["api_key"], d["api_secret"], d.get("passphrase", ""))

    def fund(self, uid: int, coin: str, amount) -> dict:
        return self._call("POST", f"/accounts/{uid}/fund", {"coin": coin, "amount": str(amount)})

    def set_fees(self, uid: int, **rates) -> dict:
        return self._call("POST", f"/accounts/{uid}/fees", {k: str(v) for k, v in rates.items()})

    def set_rate_limit(self, uid: int, multiplier: int) -> dict:
        """Multiply this account's per-endpoint limits (1 = Bybit's non-VIP defaults)."""
        return self._call("POST", f"/accounts/{uid}/limits", {"multiplier": multiplier})

    def set_price(self, symbol: str, price, *, volume=None, category: str | None = None) -> dict:
        return self._call(
            "POST",
            "/price",
            {
                "symbol": symbol,
                "price": str(price),
                "volume": None if volume is None else str(volume),
                "category": category,
            },
        )

    def set_path(self, symbol: str, prices, *, volume=None, category: str | None = None) -> dict:
        return self._call(
            "POST",
            "/path",
            {
                "symbol": symbol,
                "prices": [str(p) for p in prices],
                "volume": None if volume is None else str(volume),
                "category": category,
            },
        )

    def price(self, symbol: str, category: str | None = None) -> Decimal:
        d = self._call("GET", f"/price/{symbol}")
        return Decimal(d["prices"][category] if category else d["price"])

    def start_replay(
        self, symbol: str, *, csv_path: str | None = None, speed: float = 0, start=None, categories=None
    ) -> dict:
        start_ms = int(start.timestamp() * 1000) if isinstance(start, datetime) else start
        return self._call(
            "POST",
            "/replay/start",
            {
                "symbol": symbol,
                "csv_path": None if csv_path is None else str(csv_path),
                "speed": speed,
                "start_ms": start_ms,
                "categories": categories,
            },
        )

    def advance(self, symbol: str, candles: int = 1) -> dict:
        return self._call("POST", "/replay/advance", {"symbol": symbol, "candles": candles})

    def stop_replay(self, symbol: str) -> dict:
        return self._call("POST", "/replay/stop", {"symbol": symbol})

    def settle_funding(self, symbol: str, rate=None) -> dict:
        """Settle funding of `symbol` now on every open position (`rate`, signed, becomes the
        symbol's rate). Returns {"symbol", "rate", "executions": [the Funding rows charged]}."""
        return self._call("POST", "/funding/settle", {"symbol": symbol, "rate": None if rate is None else str(rate)})

    def ledger(self, uid: int) -> dict:
        return self._call("GET", f"/accounts/{uid}/ledger")

    def inject_fault(self, kind: str, **params) -> dict:
        return self._call("POST", "/faults", {"kind": kind, **params})

    def clear_faults(self) -> dict:
        return self._call("DELETE", "/faults")

    def status(self) -> dict:
        return self._call("GET", "/status")
