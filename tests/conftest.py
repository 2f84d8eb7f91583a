"""Fixtures shared by every test package. App-specific fixtures live in tests/<app>/conftest.py."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

# --- the socket guard (issue 9: tests never leave the machine) --------------------------------
# pytest-socket (--allow-hosts in pyproject.toml) guards connect() during each test and restores
# the real socket functions after it; config.socket_guard (installed by config.settings_test)
# also refuses non-loopback name lookups. Re-wrap after pytest-socket so both stay on all the
# time, and fail a test whose code swallowed a refusal.


def _guard_on() -> bool:
    import os

    return os.environ.get("SETKA_SOCKET_GUARD") == "loopback"


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item):
    if _guard_on():
        from config import socket_guard

        socket_guard.install()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if _guard_on():
        from config import socket_guard

        socket_guard.install()


@pytest.fixture(autouse=True)
def _no_outside_connection():
    from config import socket_guard

    before = len(socket_guard.blocked)
    yield
    refused = socket_guard.blocked[before:]
    del socket_guard.blocked[before:]
    assert not refused, f"the test tried to reach another machine: {refused}"


@pytest.fixture(scope="session", autouse=True)
def _refuse_sqlite(django_db_setup, django_db_blocker):
    """The product runs on PostgreSQL; a test that passes only on SQLite proves nothing."""
    from django.db import connection

    assert connection.vendor == "postgresql", "Tests run on PostgreSQL only: set DATABASE_URL (see README)."


def _seed_reference_rows() -> None:
    """Rows that data migrations create (the exchanges list, the plans, the default partner
    tier). A transactional test flushes the database after itself, so they are written again
    before each such test. Read first and write only what is missing: a write here would hold
    row locks for the whole test transaction, and a process of the browser stack (or a helper
    thread) that inserts a row pointing at a plan would wait on them until the test gave up.
    (Restoring them with serialized_rollback collides with the content types flush re-creates.)"""
    import importlib

    from django.apps import apps

    from billing.models import Plan
    from exchanges.models import Exchange
    from referrals.models import PartnerTier

    exchanges = importlib.import_module("exchanges.migrations.0002_seed_exchanges")
    venues = importlib.import_module("exchanges.migrations.0003_passphrase_and_venues")
    present = dict(Exchange.objects.values_list("code", "is_active"))
    for code, name, active in exchanges.EXCHANGES:
        if code not in present:
            Exchange.objects.create(code=code, name=name, is_active=active)
    if any(not present.get(code) for code in venues.READY):
        venues.activate(apps, None)
    kucoin = importlib.import_module("exchanges.migrations.0004_activate_kucoin")
    if any(not present.get(code) for code in kucoin.READY):
        kucoin.activate(apps, None)
    plans = importlib.import_module("billing.migrations.0002_seed_plans")
    if Plan.objects.filter(code__in=[row[0] for row in plans.PLANS]).count() < len(plans.PLANS):
        plans.seed(apps, None)
    if not PartnerTier.objects.filter(is_default=True).exists():
        importlib.import_module("referrals.migrations.0002_guards_and_default_tier").seed(apps, None)


@pytest.fixture(autouse=True)
def _reference_rows(request):
    """Before every test that uses the database: a transactional test before it in the same
    process flushed every table, data-migration rows included."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        _seed_reference_rows()
    elif marker is not None or "db" in request.fixturenames:
        request.getfixturevalue("db")
        _seed_reference_rows()
    yield


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle counters and lockouts live in Redis; every test starts without them."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


# The API answers in the user's language (Russian by default); these users read English.
@pytest.fixture
def user(db):
    return UserFactory(language="en")


@pytest.fixture
def other_user(db):
    return UserFactory(language="en")


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


@pytest.fixture
def other_client(other_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(other_user)
    client.user = other_user
    return client
