"""Referral fixtures: the default partner tier (a transactional test elsewhere may have flushed
the data migration's row) and billing's fake YooKassa with callback delivery."""

from __future__ import annotations

import importlib

import pytest

from tests.billing.conftest import (  # noqa: F401 - fixtures
    _cryptopay_server,
    _yookassa_server,
    cryptopay,
    hook,
    payouts_sent_inline,
    yookassa,
)
from tests.e2e.conftest import browser, page, shot, viewport  # noqa: F401 - the browser test's fixtures


@pytest.fixture(autouse=True)
def _default_tier(request):
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        from django.apps import apps

        from referrals.models import PartnerTier

        if not PartnerTier.objects.filter(is_default=True).exists():  # never lock the row (the stack reads it)
            importlib.import_module("referrals.migrations.0002_guards_and_default_tier").seed(apps, None)
