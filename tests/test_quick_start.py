"""The quick start (scripts/run -> scripts/stack.py) says what it is doing: each process is
announced when it starts and again when it is ready, with its address and the time it took."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _stack_module():
    spec = importlib.util.spec_from_file_location("setka_quick_start", ROOT / "scripts" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_each_process_says_when_it_is_ready_and_where(capsys):
    stack = _stack_module()
    port = _free_port()
    supervisor = stack.Supervisor(env={"PATH": "/usr/bin:/bin"})
    try:
        served = stack.Proc(
            "fakeweb",
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            ready_port=port,
            url=f"http://127.0.0.1:{port}/",
        )
        supervisor.start(served, ready_timeout=30)
        supervisor.start(stack.Proc("fakeworker", [sys.executable, "-c", "import time; time.sleep(30)"]))
    finally:
        supervisor.stop()
    out = capsys.readouterr().out
    assert "== starting fakeweb (waiting for port" in out
    assert f"== fakeweb ready at http://127.0.0.1:{port}/ (" in out
    assert "== fakeworker started (pid" in out


def test_the_run_script_reports_progress_of_long_steps(tmp_path):
    """scripts/run's heartbeat: a long step prints that it is still working."""
    script = (ROOT / "scripts" / "run").read_text()
    helper = script[script.index("with_heartbeat() {") : script.index("\n}\n", script.index("with_heartbeat() {")) + 3]
    probe = tmp_path / "probe.sh"
    probe.write_text(f"set -euo pipefail\n{helper}\nwith_heartbeat 'sleeping' sleep 5\necho finished\n")
    env = {"PATH": "/usr/bin:/bin", "SETKA_RUN_HEARTBEAT": "2"}
    out = subprocess.run(["bash", str(probe)], capture_output=True, text=True, timeout=60, check=True, env=env).stdout
    assert "... still sleeping (2s)" in out and "... still sleeping (4s)" in out and out.rstrip().endswith("finished")
    for step in ("1. Python venv and npm packages", "2. building the frontend"):
        assert step in script
