"""Bot services (writes). Interfaces (API views, tasks, admin, commands) call only these."""

from bots.services.common import lease_acquire, lease_release, trading_halted, trading_switch
from bots.services.create import bot_create, bot_delete, bot_preview, bot_reconfigure
from bots.services.relaunch import bot_relaunch, bot_restart_preview
from bots.services.restart import bot_restart, bots_restart_due
from bots.services.start import bot_start, enqueue_tick
from bots.services.stop import (
    bot_cancel_now,
    bot_emergency_stop,
    bot_stop,
    bots_stop_for_user,
    trading_resume,
)
from bots.services.stop_run import (
    bots_emergency_stop_many,
    bots_stop_all,
    stop_run_continue,
    stop_run_get,
    stop_run_progress,
    stopped_orders_sweep,
)
from bots.services.tick import TickResult, bot_tick

__all__ = [
    "TickResult",
    "bot_cancel_now",
    "bot_create",
    "bot_delete",
    "bot_emergency_stop",
    "bot_preview",
    "bot_reconfigure",
    "bot_relaunch",
    "bot_restart",
    "bot_restart_preview",
    "bot_start",
    "bot_stop",
    "bot_tick",
    "bots_restart_due",
    "bots_emergency_stop_many",
    "bots_stop_all",
    "bots_stop_for_user",
    "enqueue_tick",
    "lease_acquire",
    "lease_release",
    "stop_run_continue",
    "stop_run_get",
    "stop_run_progress",
    "stopped_orders_sweep",
    "trading_halted",
    "trading_resume",
    "trading_switch",
]
