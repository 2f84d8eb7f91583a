"""Referrals' periodic job (schedule it next to billing's in setup_schedules)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300, expires=1800)
def referral_rewards_mature_task() -> int:
    """Rewards past the refund window become available."""
    from referrals.services import rewards_mature

    return rewards_mature()
