"""A process that sends `count` requests to the simulator through the Bybit adapter, its
account's and its IP's budgets kept in Redis (what every worker and streams process does).
Started with multiprocessing's spawn: nothing of Django is imported before setup."""

from __future__ import annotations


def run(
    *, base_url: str, api_key: str, api_secret: str, account_key: str, ip_key: str, ip_limit: int, count: int, queue
) -> None:
    import django

    django.setup()
    from django.core.cache import cache

    from exchanges.adapters.bybit import BybitClient
    from exchanges.client import Category
    from exchanges.ratelimit import CacheWindowStore, RateLimiter

    limiter = RateLimiter(
        account_key=account_key,
        store=CacheWindowStore(cache, prefix=f"test:{ip_key}"),
        max_wait=60.0,
        ip_key=ip_key,
        ip_limit=ip_limit,
    )
    client = BybitClient(
        api_key=api_key, api_secret=api_secret, environment="paper", base_url=base_url, limiter=limiter, max_attempts=1
    )
    sent = failed = 0
    errors: list[str] = []
    for _ in range(count):
        try:
            client.ticker(category=Category.SPOT, symbol="BTCUSDT")
            sent += 1
        except Exception as exc:  # noqa: BLE001 - counted: the test says what failed
            failed += 1
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
    queue.put({"sent": sent, "failed": failed, "errors": errors[:3]})
