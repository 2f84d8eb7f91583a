"""Billing's periodic jobs (scheduled in bots/management/commands/setup_schedules.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300, expires=240)
def billing_reconcile_task() -> dict:
    """Inbox leftovers, unsent payments and pending/credited payments vs the provider."""
    from billing.services import payments_reconcile

    return payments_reconcile()


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
