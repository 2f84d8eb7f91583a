"""Pool tasks: thin, they take ids and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=100, time_limit=120, expires=600)
def pool_follow_task(pool_id: int) -> None:
    """Followers of one pool catch up with their manager (queued on commit of a change)."""
    from pools.services import pool_follow

    pool_follow(pool_id=pool_id)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300, expires=600)
def pools_follow_all_task() -> int:
    from pools.services import pools_follow_all

    return pools_follow_all()


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300, expires=1800)
def pools_value_all_task() -> int:
    """NAV, high-water marks and fees of every pool."""
    from pools.services import pool_fees_invoice_due, pools_value_all

    count = pools_value_all()
    pool_fees_invoice_due()  # accrued fees become the investors' invoices (once each)
    return count
