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
