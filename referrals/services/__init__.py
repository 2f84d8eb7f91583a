"""Referral services (writes). Billing calls `referral_payment_succeeded`/`referral_payment_reversed`
and `referral_first_payment_discount`; the Telegram bot calls `referral_attribute(source="telegram")`."""

from referrals.services.codes import (
    click_record,
    code_create_custom,
    partner_device_seen,
    partner_ensure,
    referral_attribute,
)
from referrals.services.ledger import UnbalancedEntry, ledger_post
from referrals.services.payouts import payout_decide, payout_request, referral_payout_settled
from referrals.services.rewards import (
    attribution_review,
    referral_first_payment_discount,
    referral_payment_reversed,
    referral_payment_succeeded,
    reward_amount,
    rewards_mature,
)

__all__ = [
    "UnbalancedEntry",
    "attribution_review",
    "click_record",
    "code_create_custom",
    "ledger_post",
    "partner_device_seen",
    "partner_ensure",
    "payout_decide",
    "payout_request",
    "referral_attribute",
    "referral_first_payment_discount",
    "referral_payment_reversed",
    "referral_payment_succeeded",
    "referral_payout_settled",
    "reward_amount",
    "rewards_mature",
]
