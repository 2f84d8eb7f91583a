"""tests/stack.py itself: start the web process, kill it with -9, start it again."""

from __future__ import annotations

import os

import pytest
import requests

from tests.stack import Stack, port_open


@pytest.mark.e2e
def test_stack_starts_kills_and_restarts_a_process(tmp_path):
    env = {"DATABASE_URL": os.environ.get("DATABASE_URL", ""), "REDIS_URL": os.environ.get("REDIS_URL", "")}
    with Stack(env=env, log_dir=tmp_path) as stack:
        web = stack.start("web")
        session = requests.Session()
        session.trust_env = False
        assert session.get(f"{web.url}/admin/login/", timeout=10).status_code == 200
        pid = web.popen.pid
        stack.kill("web")
        assert not web.alive and not port_open(web.port)
        again = stack.restart("web")
        assert again.port == web.port and again.popen.pid != pid
        assert session.get(f"{again.url}/admin/login/", timeout=10).status_code == 200
        assert (tmp_path / "web.log").exists()
    assert not again.alive
