"""Start Setka's real processes as subprocesses for end-to-end tests and benchmarks.

    with Stack(env={"DATABASE_URL": ..., "REDIS_URL": ...}) as stack:
        sim = stack.start("simulator")            # manage.py run_simulator on a free port
        web = stack.start("web")                  # daphne on a free port -> web.url
        stack.start("worker", concurrency=2)      # celery worker
        stack.start("beat")                       # celery beat (django-celery-beat scheduler)
        stack.start("streams")                    # manage.py run_exchange_streams
        stack.kill("worker")                      # kill -9 (the whole process group)
        stack.start("worker")                     # start it again
        print(stack.logs("worker"))
    # leaving the block stops everything (SIGTERM, then SIGKILL)

Every process gets os.environ + `env` (+ per-process `env=`), its own session (so kill -9
reaches celery's pool children), and a log file; start() waits until the process says it is
ready (a log line or an open port) and raises with the log's tail if it dies or times out."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = (
    str(BASE_DIR / ".venv" / "bin" / "python") if (BASE_DIR / ".venv" / "bin" / "python").exists() else sys.executable
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


@dataclass
class Proc:
    name: str
    kind: str
    args: list[str]
    env: dict
    log_path: Path
    popen: subprocess.Popen | None = None
    port: int | None = None
    ready_pattern: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


class Stack:
    def __init__(self, env: dict | None = None, *, log_dir: str | Path | None = None):
        self.env = {**os.environ, **(env or {})}
        self.env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.env["NO_PROXY"] = self.env["no_proxy"] = "127.0.0.1,localhost"
        # config.settings_test installs config/socket_guard.py in every process started here:
        # a connection or name lookup beyond loopback raises (and says so in the process log).
        self.env.setdefault("SETKA_SOCKET_GUARD", "loopback")
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="setka-stack-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, Proc] = {}

    # --- command lines ---------------------------------------------------------------------
    def _command(self, kind: str, port: int | None, options: dict) -> tuple[list[str], str | None]:
        manage = [PYTHON, str(BASE_DIR / "manage.py")]
        if kind == "web":
            return [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"], None
        if kind == "worker":
            queues = options.get("queues")
            return [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "-n",
                f"{options.get('node', 'w')}-{os.getpid()}-{port}@%h",
                "--concurrency",
                str(options.get("concurrency", 2)),
                "-P",
                options.get("pool", "prefork"),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *(["--purge"] if options.get("purge") else []),
                *(["-Q", queues] if queues else []),
            ], r"ready\."
        if kind == "beat":
            schedule = str(self.log_dir / f"beat-{port}.schedule")
            return [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "-l",
                "info",
                "-s",
                schedule,
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--max-interval",
                str(options.get("max_interval", 1)),
            ], r"beat: Starting"
        if kind == "streams":
            return [
                *manage,
                "run_exchange_streams",
                "--refresh-seconds",
                str(options.get("refresh_seconds", 1)),
            ], r"run_exchange_streams: ready"
        if kind == "simulator":
            args = [
                *manage,
                "run_simulator",
                "--port",
                str(port),
                "--state",
                options.get("state", ""),
                "--replay",
                options.get("replay", ""),
            ]
            if "speed" in options:
                args += ["--speed", str(options["speed"])]
            if options.get("venue"):
                args += ["--venue", options["venue"]]
            return args, None
        if kind == "manage":
            return [*manage, *options["args"]], options.get("ready")
        raise ValueError(f"unknown process kind {kind!r}")

    # --- lifecycle -------------------------------------------------------------------------
    def start(
        self,
        name: str,
        kind: str | None = None,
        *,
        env: dict | None = None,
        timeout: float = 60,
        port: int | None = None,
        **options,
    ) -> Proc:
        kind = kind or name
        existing = self.procs.get(name)
        if existing is not None and existing.alive:
            raise RuntimeError(f"{name} is already running")
        if port is None and kind in ("web", "simulator"):
            port = existing.port if existing is not None and existing.port else free_port()
        args, ready = self._command(kind, port or free_port(), options)
        log_path = self.log_dir / f"{name}.log"
        proc = Proc(
            name=name,
            kind=kind,
            args=args,
            env={**self.env, **(env or {})},
            log_path=log_path,
            port=port,
            ready_pattern=ready,
            extra=options,
        )
        offset = log_path.stat().st_size if log_path.exists() else 0
        handle = open(log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        proc.popen = subprocess.Popen(
            args, cwd=BASE_DIR, env=proc.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        self.procs[name] = proc
        self._wait_ready(proc, offset, timeout)
        return proc

    def _wait_ready(self, proc: Proc, offset: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pattern = re.compile(proc.ready_pattern) if proc.ready_pattern else None
        while time.monotonic() < deadline:
            if not proc.alive:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log()[-4000:]}")
            if pattern is not None:
                if pattern.search(proc.log()[offset:]):
                    return
            elif proc.port and port_open(proc.port):
                return
            time.sleep(0.1)
        raise TimeoutError(f"{proc.name} not ready after {timeout}s:\n{proc.log()[-4000:]}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """kill -9 (by default) the process and its children (its whole session)."""
        proc = self.procs[name]
        if proc.alive:
            try:
                os.killpg(proc.popen.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(10)

    def restart(self, name: str, **kwargs) -> Proc:
        proc = self.procs[name]
        self.kill(name)
        return self.start(name, proc.kind, port=proc.port, **{**proc.extra, **kwargs})

    def logs(self, name: str) -> str:
        return self.procs[name].log()

    def all_logs(self) -> str:
        return "\n".join(f"===== {name} =====\n{p.log()[-3000:]}" for name, p in self.procs.items())

    def stop(self, name: str, timeout: float = 10) -> None:
        proc = self.procs[name]
        if not proc.alive:
            return
        try:
            os.killpg(proc.popen.pid, signal.SIGTERM)
            proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(name)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()
