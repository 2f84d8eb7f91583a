"""The engine stays pure: importing it loads no Django/network code, and it reads no clock."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[3] / "bots" / "engine"


def test_importing_the_engine_loads_no_framework_or_network_module():
    code = (
        "import sys, bots.engine, bots.engine.backtest;"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('django','rest_framework','celery','channels','pybit','requests','aiohttp','socket','urllib3','redis')"
        " or m.startswith(('bots.models','bots.services','trading','metrics','accounts','exchanges.adapters'))];"
        "print(','.join(sorted(bad)))"
    )
    env = {"PYTHONPATH": str(ENGINE.parents[1]), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ENGINE.parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_engine_source_reads_no_clock_and_no_randomness():
    forbidden = re.compile(r"\b(import time|from time|datetime\.now|utcnow|time\.time|import random|open\()")
    offenders = [p.name for p in ENGINE.glob("*.py") if forbidden.search(p.read_text())]
    assert offenders == []


def test_import_linter_engine_contract_is_kept(tmp_path):
    """Runs the project's import-linter contracts. pyproject.toml lacks include_external_packages
    (required with external forbidden modules), so the test adds it to a temporary copy."""
    root = ENGINE.parents[1]
    text = (root / "pyproject.toml").read_text()
    if "include_external_packages" not in text:
        text = re.sub(
            r"(\[tool\.importlinter\]\nroot_packages = [^\n]*\n)", r"\1include_external_packages = true\n", text
        )
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text(text)
    exe = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(exe), "--config", str(cfg), "--no-cache"], capture_output=True, text=True, cwd=root)
    assert "The grid engine is pure: no Django, no I/O, no services KEPT" in out.stdout, out.stdout + out.stderr
