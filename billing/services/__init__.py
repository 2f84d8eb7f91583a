"""Billing services (writes). Interfaces (APIs, tasks, admin, other apps' services) call these."""

from billing.services.charges import charge_invoice, charge_payment
from billing.services.entitlements import PlanLimitError, entitlement_check
from billing.services.payments import (
    checkout_create,
    checkout_quote,
    event_process,
    payment_apply,
    payment_refresh,
    payment_refund,
    payment_send,
    payments_reconcile,
    webhook_receive,
)
from billing.services.profit_share import (
    profit_share_accrue,
    profit_share_accrue_all,
    profit_share_fee,
    profit_share_invoice,
    profit_share_invoice_due,
    profit_watermarks_start,
)
from billing.services.subscriptions import (
    holds_sync,
    prorate,
    subscription_advance,
    subscription_comp,
    subscription_downgrade,
    subscription_extend,
    subscription_locked,
    subscription_profit_share_join,
    subscription_trial_start,
    subscriptions_advance_due,
    subscriptions_remind_due,
)

__all__ = [
    "PlanLimitError",
    "charge_invoice",
    "charge_payment",
    "checkout_create",
    "checkout_quote",
    "entitlement_check",
    "event_process",
    "holds_sync",
    "payment_apply",
    "payment_refresh",
    "payment_refund",
    "payment_send",
    "payments_reconcile",
    "profit_share_accrue",
    "profit_share_accrue_all",
    "profit_share_fee",
    "profit_share_invoice",
    "profit_share_invoice_due",
    "profit_watermarks_start",
    "prorate",
    "subscription_advance",
    "subscription_comp",
    "subscription_downgrade",
    "subscription_extend",
    "subscription_locked",
    "subscription_profit_share_join",
    "subscription_trial_start",
    "subscriptions_advance_due",
    "subscriptions_remind_due",
    "webhook_receive",
]
