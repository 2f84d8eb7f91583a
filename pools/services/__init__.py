"""Pool services (writes). APIs, tasks and admin call only these."""

from pools.services.charges import pool_fee_charge_settled, pool_fee_invoice, pool_fees_invoice_due
from pools.services.follow import pool_follow, pool_manager_bot_changed, pools_follow_all
from pools.services.ledger import pool_fees_accrue, pool_value, pools_value_all
from pools.services.manage import (
    manager_approved,
    manager_check,
    pool_approve,
    pool_close,
    pool_create,
    pool_suspend,
    trades_paper,
)
from pools.services.managers import manager_apply, manager_approve, manager_reject, manager_revoke
from pools.services.members import member_amount_change, member_join, member_leave, member_preview

__all__ = [
    "manager_apply",
    "manager_approve",
    "manager_approved",
    "manager_check",
    "manager_reject",
    "manager_revoke",
    "member_amount_change",
    "member_join",
    "member_leave",
    "member_preview",
    "pool_approve",
    "pool_close",
    "pool_create",
    "pool_fee_charge_settled",
    "pool_fee_invoice",
    "pool_fees_accrue",
    "pool_fees_invoice_due",
    "pool_follow",
    "pool_manager_bot_changed",
    "pool_suspend",
    "pool_value",
    "pools_follow_all",
    "pools_value_all",
    "trades_paper",
]
