"""Bybit V5 request authentication: HMAC-SHA256 over timestamp + key + recv_window + raw payload."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import unquote

from .models import ApiKey, BybitError


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def authenticate(keys: dict[str, ApiKey], headers, raw_payload: str, *, now_ms: int, remote_ip: str | None) -> ApiKey:
    """Check a REST request's X-BAPI-* headers against the raw query string (GET) or body (POST)."""
    api_key = headers.get("X-BAPI-API-KEY") or ""
    key = keys.get(api_key)
    if key is None:
        raise BybitError(10003, "API key is invalid.")
    if key.expires_ms is not None and key.expires_ms <= now_ms:
        raise BybitError(33004, "Your api key has expired.")
    ts_raw = headers.get("X-BAPI-TIMESTAMP") or ""
    rw_sent = headers.get("X-BAPI-RECV-WINDOW")
    rw_raw = rw_sent or "5000"
    try:
        ts = int(ts_raw)
        recv_window = int(rw_raw)
    except ValueError:
        raise BybitError(10002, "invalid request, please check your timestamp or recv_window param") from None
    if not (now_ms - recv_window <= ts < now_ms + 1000):
        raise BybitError(
            10002,
            f"invalid request, please check your server timestamp or recv_window param. req_timestamp[{ts}],"
            f"server_timestamp[{now_ms}],recv_window[{recv_window}]",
        )
    got = (headers.get("X-BAPI-SIGN") or "").lower()
    candidates = [raw_payload]
    if "%" in raw_payload:  # the client signed the unencoded query but its HTTP library percent-encoded it
        candidates.append(unquote(raw_payload))
    windows = [rw_raw] if rw_sent else ["", rw_raw]  # a client that omits the header may sign with "" or the default
    if not any(
        hmac.compare_digest(sign(key.secret, f"{ts_raw}{api_key}{rw}{p}"), got) for p in candidates for rw in windows
    ):
        raise BybitError(10004, "error sign! origin_string[...]")
    if key.ips and remote_ip not in key.ips and "*" not in key.ips:
        raise BybitError(10010, f"Unmatched IP, please check your API key's bound IP addresses. ({remote_ip})")
    return key


def authenticate_ws(keys: dict[str, ApiKey], args: object, *, now_ms: int) -> ApiKey:
    """WS auth args = [api_key, expires (int or str, ms), hex HMAC(secret, 'GET/realtime' + expires)]."""
    if not isinstance(args, list) or len(args) < 3:
        raise BybitError(10001, "error:request param invalid")
    api_key, expires, signature = args[0], args[1], args[2]
    key = keys.get(str(api_key))
    if key is None:
        raise BybitError(10003, "error:api key invalid")
    if key.expires_ms is not None and key.expires_ms <= now_ms:
        raise BybitError(33004, "error:api key expired")
    try:
        exp = int(str(expires))
    except ValueError:
        raise BybitError(10001, "error:expires invalid") from None
    if exp <= now_ms - 1000:  # a little slack: pybit sends now + 1 s
        raise BybitError(10002, "error:request expired")
    if not hmac.compare_digest(sign(key.secret, f"GET/realtime{expires}"), str(signature).lower()):
        raise BybitError(10004, "error:signature verification failed")
    return key
