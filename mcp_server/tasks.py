from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=270)
def regime_watch_task() -> dict:
    """Periodic: the market regime of every running bot's pair; an alert when it turns into a trend."""
    from mcp_server.insights.watch import regime_watch_all

    return regime_watch_all()
