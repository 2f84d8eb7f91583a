from __future__ import annotations

import importlib

import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _articles(db):
    """The knowledge base's seeded articles (a flushing test elsewhere may have wiped them)."""
    from django.apps import apps

    importlib.import_module("support.migrations.0002_seed_articles").seed(apps, None)
    importlib.import_module("support.migrations.0004_seed_help_articles").seed(apps, None)
