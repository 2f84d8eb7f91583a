"""Schemathesis over our part of the OpenAPI schema, in-process through the WSGI app, signed in
as a user who has a trading bot (so ids hit real rows half the time): no answer is a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.api.conftest import make_trading_bot

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

OUR_PATHS = r"^/api/(bots|trades|dashboard|metrics)"
EXAMPLES = 12


@pytest.fixture
def keep_db_connection():
    """The WSGI handler closes the connection after each request; the test transaction needs it
    open (Django's own test client does the same)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_fuzz_finds_no_server_error(user, fake_exchange, keep_db_connection):
    from django.core.wsgi import get_wsgi_application

    from accounts.tokens import ACCESS_COOKIE, access_token_issue

    bot = make_trading_bot(user)
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app).include(path_regex=OUR_PATHS)
    cookies = {ACCESS_COOKIE: access_token_issue(user=user), "csrftoken": "b" * 32}
    headers = {"X-CSRFToken": "b" * 32}
    failures: list[str] = []
    calls = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16

    def fuzz(operation, mode):
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            nonlocal calls
            if case.path_parameters and "id" in case.path_parameters and mode is GenerationMode.POSITIVE:
                case.path_parameters["id"] = bot.pk
            response = case.call(headers=headers, cookies=cookies)
            calls += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")

        try:
            run()
        except Unsatisfiable:  # e.g. no invalid input exists for a parameterless GET
            assert mode is GenerationMode.NEGATIVE

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode)
    assert calls > 200
    assert failures == []
