"""Build the exchange client (and private stream) of an exchange account.

Bybit accounts go through the pybit adapter, every other venue (exchanges/venues.py) through
the ccxt adapter. Paper accounts talk to that venue's twin (settings.SETKA_SIMULATOR_URL for
Bybit, SETKA_VENUE_SIMULATOR_URLS for the others); real accounts to the venue's hosts or a
configured endpoint, and a ccxt request may only go to SETKA_EXCHANGE_ALLOWED_HOSTS. The rest of
Setka receives an ExchangeClient and never knows which. A key that cannot be decrypted raises UndecryptableSecret, marks the account
`undecryptable`, and nothing is sent anywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from exchanges.client import ExchangeClient
from exchanges.fields import UndecryptableSecret
from exchanges.models import ExchangeAccount
from exchanges.ratelimit import CacheWindowStore, RateLimiter

Env = ExchangeAccount.Environment


def simulator_ws_url() -> str:
    explicit = getattr(settings, "SETKA_SIMULATOR_WS_URL", "")
    if explicit:
        return explicit.rstrip("/")
    url = settings.SETKA_SIMULATOR_URL.rstrip("/")
    return "ws://" + url.split("://", 1)[1] if url.startswith("http://") else "wss://" + url.split("://", 1)[1]


def _limiter(account_key: str) -> RateLimiter:
    return RateLimiter(
        account_key=account_key,
        store=CacheWindowStore(cache),
        max_wait=getattr(settings, "SETKA_EXCHANGE_RATELIMIT_MAX_WAIT", 5.0),
    )


def venue_simulator_url(venue_code: str) -> str:
    """The twin of a venue that paper accounts trade on."""
    if venue_code == "bybit":
        return settings.SETKA_SIMULATOR_URL
    url = getattr(settings, "SETKA_VENUE_SIMULATOR_URLS", {}).get(venue_code)
    if not url:
        raise ValueError(f"No simulator configured for {venue_code} (SETKA_VENUE_SIMULATOR_URLS)")
    return url


def allowed_hosts() -> frozenset[str] | None:
    hosts = tuple(getattr(settings, "SETKA_EXCHANGE_ALLOWED_HOSTS", ("127.0.0.1", "localhost", "::1")))
    return None if "*" in hosts else frozenset(h.lower() for h in hosts)


def _ccxt_client(*, venue_code: str, environment: str, api_key: str, api_secret: str, passphrase: str,
                 limiter: RateLimiter, timeout: float) -> ExchangeClient:
    from exchanges.adapters.ccxt_adapter import CcxtClient

    if environment == Env.PAPER:
        base_url = venue_simulator_url(venue_code)
    else:
        base_url = getattr(settings, "SETKA_VENUE_ENDPOINTS", {}).get(venue_code, {}).get(environment)
    return CcxtClient(venue_code=venue_code, api_key=api_key, api_secret=api_secret, passphrase=passphrase,
                      base_url=base_url, timeout=timeout, limiter=limiter,
                      broker_id=getattr(settings, "SETKA_BROKER_IDS", {}).get(venue_code, ""),
                      allowed_hosts=allowed_hosts())


def client_for_keys(*, environment: str, api_key: str, api_secret: str, account_key: str | None = None,
                    exchange: str = "bybit", passphrase: str = "") -> ExchangeClient:
    """A client for keys that are not stored yet (validation before binding)."""
    from exchanges.adapters.bybit import BybitClient

    timeout = float(getattr(settings, "SETKA_EXCHANGE_TIMEOUT", 10.0))
    limiter = _limiter(account_key or f"keys:{exchange}:{environment}:{api_key[:6]}")
    if exchange != "bybit":
        return _ccxt_client(venue_code=exchange, environment=environment, api_key=api_key, api_secret=api_secret,
                            passphrase=passphrase, limiter=limiter, timeout=timeout)
    broker_id = getattr(settings, "SETKA_BROKER_IDS", {}).get("bybit", "")
    if environment == Env.PAPER:
        return BybitClient(api_key=api_key, api_secret=api_secret, environment="paper",
                           base_url=settings.SETKA_SIMULATOR_URL, timeout=timeout, limiter=limiter, rules_cache=cache,
                           broker_id=broker_id)
    override = getattr(settings, "SETKA_BYBIT_ENDPOINTS", {}).get(environment)
    return BybitClient(api_key=api_key, api_secret=api_secret, environment=environment, timeout=timeout,
                       base_url=override[0] if override else None, limiter=limiter, rules_cache=cache,
                       broker_id=broker_id)


def account_credentials(account: ExchangeAccount) -> tuple[str, str]:
    """The decrypted key pair, or UndecryptableSecret (and the account flagged)."""
    try:
        return account.api_key, account.api_secret
    except UndecryptableSecret:
        _flag_undecryptable(account)
        raise


def account_passphrase(account: ExchangeAccount) -> str:
    try:
        return account.api_passphrase or ""
    except UndecryptableSecret:
        _flag_undecryptable(account)
        raise


def _flag_undecryptable(account: ExchangeAccount) -> None:
    reason = "The stored key cannot be decrypted (encryption key missing). Re-bind the keys."
    ExchangeAccount.objects.filter(pk=account.pk).update(status=ExchangeAccount.Status.UNDECRYPTABLE,
                                                         status_reason=reason)
    account.status, account.status_reason = ExchangeAccount.Status.UNDECRYPTABLE, reason


def client_for_account(account: ExchangeAccount) -> ExchangeClient:
    api_key, api_secret = account_credentials(account)
    code = account.exchange.code
    return client_for_keys(environment=account.environment, api_key=api_key, api_secret=api_secret,
                           account_key=f"account:{account.pk}", exchange=code,
                           passphrase=account_passphrase(account) if code != "bybit" else "")


def stream_for_account(
    account: ExchangeAccount,
    on_event: Callable[[str, list], None],
    on_reconnect: Callable[[], None] | None = None,
):
    """The private WebSocket of the account (order, execution, wallet, position), already
    connected and subscribed. Call `.close()` to stop it. See BybitPrivateStream."""
    from exchanges.adapters.bybit import BybitPrivateStream

    code = account.exchange.code
    if code != "bybit":
        return _ccxt_stream(account, on_event, on_reconnect)
    api_key, api_secret = account_credentials(account)
    if account.environment == Env.PAPER:
        return BybitPrivateStream(api_key=api_key, api_secret=api_secret, on_event=on_event,
                                  on_reconnect=on_reconnect, ws_base=simulator_ws_url())
    override = getattr(settings, "SETKA_BYBIT_ENDPOINTS", {}).get(account.environment)
    return BybitPrivateStream(api_key=api_key, api_secret=api_secret, on_event=on_event, on_reconnect=on_reconnect,
                              environment=account.environment, ws_base=override[1] if override else None)


def _ccxt_stream(account: ExchangeAccount, on_event, on_reconnect):
    """OKX and Binance (spot): the venue's private stream through ccxt.pro. MEXC (its spot stream
    is protobuf) and KuCoin (no twin yet to check a stream against): RestOnlyStream."""
    from exchanges.adapters.ccxt_adapter import STREAM_VENUES, CcxtPrivateStream

    code = account.exchange.code
    if code not in STREAM_VENUES:
        return RestOnlyStream(account_id=account.pk)
    api_key, api_secret = account_credentials(account)
    if account.environment == Env.PAPER:
        base_url = venue_simulator_url(code)
    else:
        base_url = getattr(settings, "SETKA_VENUE_ENDPOINTS", {}).get(code, {}).get(account.environment)
    return CcxtPrivateStream(venue_code=code, api_key=api_key, api_secret=api_secret,
                             passphrase=account_passphrase(account), base_url=base_url, on_event=on_event,
                             on_reconnect=on_reconnect,
                             broker_id=getattr(settings, "SETKA_BROKER_IDS", {}).get(code, ""),
                             allowed_hosts=allowed_hosts(),
                             timeout=float(getattr(settings, "SETKA_EXCHANGE_TIMEOUT", 10.0)))


class RestOnlyStream:
    """The stand-in for venues whose private WebSocket Setka does not hold (MEXC, whose spot
    stream is protobuf; KuCoin): no events arrive, so the bot's periodic tick and its REST reconciliation (orders,
    fills by cursor) are what keep it in sync; nothing is missed, only noticed a tick later."""

    auth_failed = False

    def __init__(self, *, account_id: int):
        self.account_id = account_id
        self.closed = False

    def is_connected(self) -> bool:
        return not self.closed

    def wait_ready(self, timeout: float = 0.0) -> bool:
        return True

    def close(self) -> None:
        self.closed = True
