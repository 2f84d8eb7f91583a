"""Run the simulator inside the current process, in a background thread with its own event loop.

with running_simulator() as sim:
    acc = sim.control.create_account(funding={"USDT": "10000"})
    http = pybit.unified_trading.HTTP(api_key=acc.api_key, api_secret=acc.api_secret)
    http.endpoint = sim.base_url
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator

from .control import SimulatorControl
from .server import Simulator, start


class SimulatorHandle:
    def __init__(
        self,
        *,
        state_path: str,
        control_token: str,
        replay,
        speed: float,
        data: dict | None = None,
        ip_limit: int = 0,
        venue: str = "bybit",
    ):
        self.venue = venue
        self.ip_limit = ip_limit
        self.state_path = state_path
        self.control_token = control_token
        self._replay = list(replay or [])
        self._speed = speed
        self._data = data or {}
        self.port = 0
        self.sim: Simulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner = None
        self.control: SimulatorControl | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        ready = threading.Event()
        error: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop

            async def boot():
                self.sim = Simulator(
                    state_path=self.state_path,
                    control_token=self.control_token,
                    ip_limit=self.ip_limit,
                    venue=self.venue,
                )
                for symbol in self._replay:
                    if symbol not in self.sim.engine.replays:
                        self.sim.engine.replay_start(symbol, csv_path=self._data.get(symbol), speed=self._speed)
                self.sim.engine.commit()
                self._runner, self.port = await start(self.sim, "127.0.0.1", self.port)

            try:
                loop.run_until_complete(boot())
            except BaseException as exc:  # surface bind errors to the caller
                error.append(exc)
                self._loop = None
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            assert self._runner is not None and self.sim is not None  # set before `ready`
            loop.run_until_complete(self._runner.cleanup())
            self.sim.store.close()
            loop.close()

        self._thread = threading.Thread(target=run, name="setka-simulator", daemon=True)
        self._thread.start()
        ready.wait(30)
        if error:
            raise error[0]
        self.control = SimulatorControl(self.base_url, self.control_token)

    def call(self, fn, *args):
        """Run fn(*args) on the simulator's loop thread (engine access from tests) and return its result."""

        async def wrapper():
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(30)

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None  # started with the loop
        self._thread.join(30)
        self._loop = None

    def restart(self) -> None:
        """Stop and start again on the same port with the same state file (state must survive)."""
        self.stop()
        self.start()


@contextlib.contextmanager
def running_simulator(
    *,
    state_path: str | None = None,
    control_token: str = "test-token",
    symbols=None,
    replay=None,
    speed: float = 0,
    data: dict | None = None,
    ip_limit: int = 0,
    venue: str = "bybit",
) -> Iterator[SimulatorHandle]:
    """`symbols` is accepted for API stability (BTCUSDT, ETHUSDT and LTCUSDT are always listed); `replay` lists
    symbols whose candle replay is prepared (and runs in real time when speed > 0; speed=0: use control.advance)."""
    tmpdir = None
    if state_path is None:
        tmpdir = tempfile.TemporaryDirectory(prefix="setka-sim-")
        state_path = os.path.join(tmpdir.name, "state.sqlite3")
    handle = SimulatorHandle(
        state_path=str(state_path),
        control_token=control_token,
        replay=replay,
        speed=speed,
        data=data,
        ip_limit=ip_limit,
        venue=venue,
    )
    handle.start()
    try:
        yield handle
    finally:
        handle.stop()
        if tmpdir is not None:
            tmpdir.cleanup()
