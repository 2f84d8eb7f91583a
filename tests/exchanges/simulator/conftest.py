import os

import pytest

from exchanges.simulator.testing import running_simulator

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def sim(tmp_path):
    with running_simulator(state_path=str(tmp_path / "sim.sqlite3")) as handle:
        yield handle


@pytest.fixture
def account(sim):
    return sim.control.create_account(funding={"USDT": "100000", "BTC": "1", "ETH": "10"})
