import contextlib
import os
import subprocess
import time

import pytest
from django.conf import settings
from django.db import connection

from billing.models import Plan
from billing.services import subscription_comp
from tests.factories import BotFactory, ExchangeAccountFactory
from tests.stack import BASE_DIR, PYTHON, free_port, port_open


@contextlib.contextmanager
def mcp_process(django_db_blocker, log_dir, **extra_env):
    """The MCP server as it runs in production: its own uvicorn process (mcp_server.asgi) on the
    test database. Yields its port once it accepts connections; stopped on exit."""
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    db = settings.DATABASES["default"]
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}",
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        **{key: value(port) if callable(value) else value for key, value in extra_env.items()},
    }
    log = log_dir / "uvicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [PYTHON, "-m", "uvicorn", "mcp_server.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the MCP process did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def pro_user(user):
    subscription_comp(user=user, plan=Plan.objects.get(code="pro"), days=30)
    return user


@pytest.fixture
def pro_other(other_user):
    subscription_comp(user=other_user, plan=Plan.objects.get(code="pro"), days=30)
    return other_user


@pytest.fixture
def account(pro_user):
    return ExchangeAccountFactory(user=pro_user)


@pytest.fixture
def draft_bot(pro_user, account):
    return BotFactory(user=pro_user, exchange_account=account)


@pytest.fixture
def others_bot(pro_other):
    return BotFactory(user=pro_other)
