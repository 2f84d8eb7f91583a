from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=90, time_limit=120)
def backtest_run_task(backtest_id: int) -> None:
    from analytics.services import backtest_run

    backtest_run(backtest_id=backtest_id)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=330)
def candles_refresh_task() -> None:
    """Periodic: new candles of every downloaded series through the venues' ports, then the
    screener over everything stored."""
    from analytics.services import candles_refresh_all, screener_refresh
    from exchanges.factory import client_for_keys

    candles_refresh_all(
        client_for_venue=lambda venue: client_for_keys(
            environment="paper", api_key="", api_secret="", exchange=venue, account_key=f"market-data:{venue}"
        ),
        budget_seconds=200,  # of the 300 s soft limit: the rest for the screener; left-overs go next run
    )
    screener_refresh()
