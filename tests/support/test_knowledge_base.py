"""The knowledge base: seeded articles in Russian and English, found by Russian full-text
search (word forms match: 'ключа' finds 'ключ'), and linked from the troubleshooter."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from support.causes import CAUSES
from support.models import Article
from support.selectors import articles_search

pytestmark = pytest.mark.django_db


def test_every_cause_has_an_article_in_both_languages():
    for cause, spec in CAUSES.items():
        for language in ("ru", "en"):
            assert Article.objects.filter(slug=spec["article"], language=language).exists(), (cause, language)


@pytest.mark.parametrize(
    ("query", "language", "slug"),
    [
        ("истёкшего ключа", "ru", "api-key-problems"),
        ("недостаточно денег на счёте", "ru", "insufficient-balance"),
        ("цена ушла выше диапазона", "ru", "price-out-of-range"),
        ("минимальная сумма ордера", "ru", "order-minimum"),
        ("expired key", "en", "api-key-problems"),
    ],
)
def test_full_text_search_finds_the_article(query, language, slug):
    found = [a.slug for a in articles_search(query=query, language=language)]
    assert found and found[0] == slug, found


def test_search_and_article_api_are_public_and_in_the_asked_language():
    api = APIClient()
    rows = api.get("/api/support/articles/", {"q": "тариф", "lang": "ru"}).json()
    assert rows[0]["slug"] == "plan-limits"
    article = api.get("/api/support/articles/plan-limits/", {"lang": "en"}).json()
    assert article["title"] == "Plan limits" and "Pricing page" in article["body"]
    assert api.get("/api/support/articles/no-such/").status_code == 404
