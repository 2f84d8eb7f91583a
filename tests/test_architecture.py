"""The import direction of the house style, checked on every test run (import-linter).

The grid engine imports no Django and no I/O; only exchanges/adapters/bybit.py imports pybit;
the simulator knows nothing of the product. pyproject.toml holds the contracts."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_apps_point_one_way():
    """The layers contract (pyproject.toml): bots > metrics > trading > exchanges | apicommon >
    accounts > live. A lower app tells an upper one through a signal, never by importing it."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--contract", "apps_point_one_way"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_status_lists_below_bots_are_the_bots_own():
    """metrics and exchanges sit below bots and name the active statuses themselves; they must
    stay bots.models.Bot.ACTIVE_STATUSES."""
    from bots.models import Bot
    from exchanges.services import BOT_ACTIVE_STATUSES
    from metrics.selectors import ACTIVE_STATUSES

    assert list(ACTIVE_STATUSES) == list(BOT_ACTIVE_STATUSES) == [str(s) for s in Bot.ACTIVE_STATUSES]
