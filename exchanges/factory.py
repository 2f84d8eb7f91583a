"""Build the exchange client (and private stream) of an exchange account.

Paper accounts talk to the Setka simulator (settings.SETKA_SIMULATOR_URL); mainnet, testnet and
demo accounts to Bybit's own hosts. The rest of Setka receives an ExchangeClient and never knows
which. A key that cannot be decrypted raises UndecryptableSecret, marks the account
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


def client_for_keys(*, environment: str, api_key: str, api_secret: str, account_key: str | None = None) -> ExchangeClient:
    """A client for keys that are not stored yet (validation before binding)."""
    from exchanges.adapters.bybit import BybitClient

    timeout = float(getattr(settings, "SETKA_EXCHANGE_TIMEOUT", 10.0))
    limiter = _limiter(account_key or f"keys:{environment}:{api_key[:6]}")
    if environment == Env.PAPER:
        return BybitClient(api_key=api_key, api_secret=api_secret, environment="paper",
                           base_url=settings.SETKA_SIMULATOR_URL, timeout=timeout, limiter=limiter, rules_cache=cache)
    override = getattr(settings, "SETKA_BYBIT_ENDPOINTS", {}).get(environment)
    return BybitClient(api_key=api_key, api_secret=api_secret, environment=environment, timeout=timeout,
                       base_url=override[0] if override else None, limiter=limiter, rules_cache=cache)


def account_credentials(account: ExchangeAccount) -> tuple[str, str]:
    """The decrypted key pair, or UndecryptableSecret (and the account flagged)."""
    try:
        return account.api_key, account.api_secret
    except UndecryptableSecret:
        reason = "The stored key cannot be decrypted (encryption key missing). Re-bind the keys."
        ExchangeAccount.objects.filter(pk=account.pk).update(
            status=ExchangeAccount.Status.UNDECRYPTABLE, status_reason=reason
        )
        account.status, account.status_reason = ExchangeAccount.Status.UNDECRYPTABLE, reason
        raise


def client_for_account(account: ExchangeAccount) -> ExchangeClient:
    api_key, api_secret = account_credentials(account)
    return client_for_keys(environment=account.environment, api_key=api_key, api_secret=api_secret,
                           account_key=f"account:{account.pk}")


def stream_for_account(
    account: ExchangeAccount,
    on_event: Callable[[str, list], None],
    on_reconnect: Callable[[], None] | None = None,
):
    """The private WebSocket of the account (order, execution, wallet, position), already
    connected and subscribed. Call `.close()` to stop it. See BybitPrivateStream."""
    from exchanges.adapters.bybit import BybitPrivateStream

    api_key, api_secret = account_credentials(account)
    if account.environment == Env.PAPER:
        return BybitPrivateStream(api_key=api_key, api_secret=api_secret, on_event=on_event,
                                  on_reconnect=on_reconnect, ws_base=simulator_ws_url())
    override = getattr(settings, "SETKA_BYBIT_ENDPOINTS", {}).get(account.environment)
    return BybitPrivateStream(api_key=api_key, api_secret=api_secret, on_event=on_event, on_reconnect=on_reconnect,
                              environment=account.environment, ws_base=override[1] if override else None)
