"""`manage.py run_simulator` starts the standalone server (the Django command is only a wrapper)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[3]


def test_run_simulator_command_serves_rest_and_replays(tmp_path):
    state = tmp_path / "var" / "sim.sqlite3"
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_simulator",
            "--port",
            "0",
            "--state",
            str(state),
            "--control-token",
            "cmd-token",
            "--replay",
            "BTCUSDT",
            "--speed",
            "6000",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ},
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("Bybit V5 simulator on http://127.0.0.1:"), line
        base = line.split()[4]
        s = requests.Session()
        s.trust_env = False
        assert s.get(f"{base}/v5/market/time", timeout=5).json()["retCode"] == 0
        status = s.get(f"{base}/control/status", headers={"Authorization": "Bearer cmd-token"}, timeout=5).json()
        assert status["replays"]["BTCUSDT"]["running"] is True and status["replays"]["BTCUSDT"]["speed"] == 6000
        assert s.get(f"{base}/control/status", timeout=5).status_code == 401
        assert state.exists()
    finally:
        proc.terminate()
        proc.wait(10)
