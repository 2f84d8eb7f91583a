"""Billing's periodic jobs (scheduled in bots/management/commands/setup_schedules.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300, expires=240)
def billing_reconcile_task() -> dict:
    """Inbox leftovers, unsent payments and pending/credited payments vs the provider."""
    from billing.services import payments_reconcile, payouts_reconcile

    counts = payments_reconcile()
    counts["payouts"] = payouts_reconcile()
    return counts


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90, max_retries=0)
def payout_send_task(payout_id: int) -> str:
    """Send one written payout (started on commit). A lost answer leaves it pending: the
    reconciliation above settles it with the same idempotency key."""
    from billing.services import payout_send

    return payout_send(payout_id=payout_id)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300, expires=240)
def billing_subscriptions_advance_task() -> int:
    """The clock (past due, grace, expiry) and the renewal reminders before a period ends."""
    from billing.services import subscriptions_advance_due, subscriptions_remind_due

    subscriptions_remind_due()
    return subscriptions_advance_due()


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300, expires=1800)
def billing_profit_share_accrue_task() -> int:
    from billing.services import profit_share_accrue_all, profit_share_invoice_due

    accrued = profit_share_accrue_all()
    profit_share_invoice_due()  # finished months' fees become USDT invoices
    return accrued
