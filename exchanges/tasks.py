"""Celery tasks of exchange accounts. Thin: ids in, one service call, retry policy only."""

from __future__ import annotations

from celery import shared_task

# For `manage.py setup_schedules` (the one place that writes django-celery-beat rows):
# task name (Celery's default: module.function) -> interval in seconds.
PERIODIC_TASKS = {"exchanges.tasks.exchange_accounts_recheck_task": 6 * 60 * 60}


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def exchange_accounts_recheck_task() -> dict:
    """Re-check every stored key: flag expired, revoked or over-privileged ones."""
    from exchanges.services import exchange_accounts_recheck_all

    return exchange_accounts_recheck_all()


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50,
             autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def exchange_account_recheck_task(account_id: int) -> str | None:
    from exchanges.models import ExchangeAccount
    from exchanges.services import exchange_account_recheck

    account = ExchangeAccount.objects.filter(pk=account_id).first()
    if account is None:
        return None
    return exchange_account_recheck(account=account).status
