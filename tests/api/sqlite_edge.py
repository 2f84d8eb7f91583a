"""Run by test_hostile_input.test_quick_start_sqlite_*: the hostile ids, dates and cursors against the
quick start's own database, SQLite, where a number beyond 64 bits raises OverflowError (a 500
that PostgreSQL never shows). Prints {"request": status} as JSON on its last line.

Usage: DATABASE_URL unset, SETKA_VAR_DIR=<tmp>, DJANGO_ENV=test, REDIS_URL=...:
    python -m tests.api.sqlite_edge
"""

from __future__ import annotations

import base64
import json
import os


def _cursor(keys) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": keys, "r": False}).encode()).decode().rstrip("=")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    assert connection.vendor == "sqlite", connection.vendor
    call_command("migrate", verbosity=0)

    from rest_framework.test import APIClient

    import bots.services.common as common
    import bots.services.create as create
    from accounts.tokens import ACCESS_COOKIE, access_token_issue
    from tests.api.conftest import FakeClient, make_trading_bot
    from tests.factories import UserFactory

    fake = FakeClient()
    create.client_for_account = lambda account: fake
    common.client_for_account = lambda account: fake

    user = UserFactory()
    bot = make_trading_bot(user)
    client = APIClient(raise_request_exception=False)
    client.cookies[ACCESS_COOKIE] = access_token_issue(user=user)
    big, bigger = 2**64, 2**70
    gets = [
        f"/api/bots/{big}/",
        f"/api/bots/{bigger}/orders/",
        f"/api/bots/{big}/events/",
        f"/api/exchange-accounts/{big}/",
        f"/api/auth/sessions/{big}/",
        f"/api/trades/?bot={bigger}",
        f"/api/trades/export.csv?bot={bigger}",
        f"/api/bots/?exchange_account={bigger}",
        f"/api/market/ticker/?account={bigger}&symbol=BTCUSDT",
        f"/api/bots/?limit={2**63}",
        f"/api/bots/?offset={2**64}",
        f"/api/exchange-accounts/?limit={2**63}&offset={2**64}",
        "/api/trades/?date_from=0001-01-01T00:00:00%2B14:00",
        "/api/trades/?date_to=9999-12-31T23:59:59-14:00",
        "/api/trades/export.csv?date_from=0001-01-01T00:00:00%2B14:00",
        "/api/trades/?cursor=" + _cursor(["2026-01-01T00:00:00+00:00", bigger]),
        "/api/trades/?cursor=" + _cursor(["0001-01-01T00:00:00+14:00", 1]),
        "/api/trades/?cursor=" + _cursor(["9999-12-31T23:59:59-14:00", 1]),
        f"/api/bots/{bot.pk}/events/?cursor=" + _cursor([bigger]),
        f"/api/bots/{bot.pk}/orders/?cursor=" + _cursor([bigger]),
        # the stage 2-6 apps
        f"/api/analytics/backtests/?ids={bigger},{big},1",
        f"/api/analytics/backtests/{big}/",
        f"/api/support/tickets/{big}/",
        f"/api/support/attachments/{bigger}/",
        f"/api/billing/payments/{big}/",
        f"/api/news/{big}/",
        f"/api/mcp/study/bots/{big}/",
    ]
    out = {}
    for url in gets:
        try:
            response = client.get(url)
            status = response.status_code
            if response.streaming:
                b"".join(response)
        except Exception:  # noqa: BLE001 - a body that fails after its 200 is a 5xx to the user
            status = 599
        out[f"GET {url}"] = status
    bodies = [
        ("/api/bots/preview/", {"exchange_account": bigger, "symbol": "BTCUSDT", "config": {}}),
        ("/api/bots/", {"name": "x", "exchange_account": bigger, "symbol": "BTCUSDT", "config": {}}),
        (f"/api/bots/{big}/start/", {}),
        (f"/api/bots/{big}/stop/", {"close_action": "keep"}),
        (f"/api/exchange-accounts/{big}/revalidate/", {}),
        (
            "/api/analytics/backtests/",
            {
                "series_id": bigger,
                "config": {},
                "period_start": "2026-01-01T00:00:00Z",
                "period_end": "2026-01-02T00:00:00Z",
            },
        ),
        ("/api/support/tickets/", {"subject": "x", "body": "y", "queue": "bots", "bot": bigger}),
        ("/api/notifications/read/", {"ids": [bigger, big]}),
        (f"/api/support/tickets/{big}/messages/", {"body": "y"}),
        (f"/api/mcp/tokens/{big}/revoke/", {}),
    ]
    for url, body in bodies:
        out[f"POST {url}"] = client.post(url, body, format="json").status_code
    out[f"DELETE /api/auth/sessions/{big}/"] = client.delete(f"/api/auth/sessions/{big}/").status_code
    print(json.dumps(out))


if __name__ == "__main__":
    main()
