"""Announcements: the checklist keeps posts to product news and education; a scheduled post goes
out at its time to the Telegram channel, the VK wall, the in-app news and the RSS feed, once
each, even when the publisher runs again or one outlet fails and is retried."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from announcements.models import Announcement, Publication
from announcements.services import announcement_schedule, announcements_publish_due
from config.errors import DomainError
from tests.announcements.conftest import CHANNEL, GROUP_ID

pytestmark = pytest.mark.django_db

TICKED = {
    "check_product_or_education": True,
    "check_no_income_promises": True,
    "check_no_buy_calls": True,
    "check_risk_stated": True,
}


def _post(**overrides) -> Announcement:
    fields = {
        "title_ru": "Новое в Сетке: остановка из Telegram",
        "title_en": "New in Setka: stop from Telegram",
        "body_ru": "Команда /stop N останавливает бота после подтверждения. Сеточный бот может терять деньги.",
        "body_en": "The /stop N command stops a bot after you confirm. A grid bot can lose money.",
        **TICKED,
        **overrides,
    }
    return Announcement.objects.create(**fields)


def test_checklist_must_be_ticked_and_the_text_clean(outlets):
    with pytest.raises(DomainError) as unticked:
        announcement_schedule(announcement=_post(check_no_buy_calls=False))
    assert "check_no_buy_calls" in unticked.value.fields
    with pytest.raises(DomainError) as promise:
        announcement_schedule(announcement=_post(body_ru="Гарантированный доход 5% в день с нашими ботами"))
    assert "no promises of income" in promise.value.fields["body_ru"][0]
    with pytest.raises(DomainError):
        announcement_schedule(announcement=_post(body_en="Buy now before it goes to the moon"))
    assert announcements_publish_due(now=timezone.now() + timedelta(days=1)) == 0
    assert not Announcement.objects.filter(status=Announcement.Status.SCHEDULED).exists()


def test_scheduled_post_reaches_all_four_outlets_once_at_its_time(outlets, client):
    telegram, vk = outlets
    at = timezone.now() + timedelta(hours=2)
    post = announcement_schedule(announcement=_post(), publish_at=at)
    channel_before, wall_before = len(telegram.sent(CHANNEL)), len(vk.posts())

    assert announcements_publish_due(now=at - timedelta(seconds=1)) == 0  # not yet
    assert client.get("/api/news/").json() == []

    assert announcements_publish_due(now=at) == 4
    assert announcements_publish_due(now=at + timedelta(seconds=15)) == 0  # the next beat run: nothing again

    channel = telegram.sent(CHANNEL)[channel_before:]
    assert [m["text"].split("\n\n")[0] for m in channel] == ["Новое в Сетке: остановка из Telegram"]
    wall = vk.posts()[wall_before:]
    assert len(wall) == 1 and wall[0]["from_group"] and wall[0]["owner_id"] == -GROUP_ID
    assert "Сеточный бот может терять деньги" in wall[0]["message"]

    news = client.get("/api/news/").json()
    assert [n["title_en"] for n in news] == ["New in Setka: stop from Telegram"]
    assert client.get(f"/api/news/{post.pk}/").status_code == 200

    rss = client.get("/news/rss.xml")
    assert rss["Content-Type"].startswith("application/rss+xml")
    items = ElementTree.fromstring(rss.content).findall("./channel/item")
    assert [i.findtext("title") for i in items] == ["Новое в Сетке: остановка из Telegram"]

    post.refresh_from_db()
    assert post.status == Announcement.Status.PUBLISHED
    assert set(post.publications.values_list("outlet", "status")) == {
        (outlet, Publication.Status.DONE) for outlet in Publication.Outlet.values
    }


def test_a_failed_outlet_is_retried_without_repeating_the_others(outlets, client):
    telegram, vk = outlets
    post = announcement_schedule(announcement=_post(title_ru="Обучение: как выбрать диапазон"))
    channel_before, wall_before = len(telegram.sent(CHANNEL)), len(vk.posts())
    vk.control("fail", error_code=15, count=1)  # VK: access denied (vk-api itself retries 6)

    assert announcements_publish_due() == 3
    failed = post.publications.get(outlet=Publication.Outlet.VK)
    assert failed.status == Publication.Status.FAILED and "Access denied" in failed.error
    assert len(client.get("/api/news/").json()) == 1  # the app shows it already

    assert announcements_publish_due() == 1  # the next run: only VK
    assert len(telegram.sent(CHANNEL)) == channel_before + 1
    assert len(vk.posts()) == wall_before + 1
    post.refresh_from_db()
    assert post.status == Announcement.Status.PUBLISHED


def test_drafts_are_not_news(outlets, client):
    _post()  # written, never scheduled
    assert announcements_publish_due(now=timezone.now() + timedelta(days=30)) == 0
    assert client.get("/api/news/").json() == []
    assert client.get("/api/news/999999/").status_code == 404


def test_vk_callback_api_confirms_and_checks_the_secret(outlets, live_server):
    _, vk = outlets
    url = f"{live_server.url}/api/announcements/vk/callback/"
    answer = vk.control("callback", url=url, group_id=GROUP_ID)
    assert answer == {"confirmed": True, "event": [200, "ok"]}
    forged = vk.control("callback", url=url, group_id=GROUP_ID, secret="guess")
    assert forged["event"][0] == 403
