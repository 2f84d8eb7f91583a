"""Staff in admin: the form shows the preview and what blocks the post; the Schedule action
refuses a post that fails the checklist and schedules one that passes."""

import pytest

from announcements.models import Announcement
from tests.announcements.test_publish import TICKED

pytestmark = pytest.mark.django_db


def _make(**overrides):
    fields = {
        "title_ru": "Обучение: шаг сетки",
        "title_en": "Education: the grid step",
        "body_ru": "Чем меньше шаг, тем чаще сделки и больше комиссий. Бот может терять деньги.",
        "body_en": "A smaller step means more trades and more fees. A bot can lose money.",
        **TICKED,
        **overrides,
    }
    return Announcement.objects.create(**fields)


def test_form_shows_preview_and_checklist(admin_client):
    post = _make(check_no_income_promises=False)
    page = admin_client.get(f"/admin/announcements/announcement/{post.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Чем меньше шаг" in text and "check_no_income_promises" in text
    assert admin_client.get("/admin/announcements/announcement/add/").status_code == 200


def test_schedule_action_enforces_the_checklist(admin_client):
    bad = _make(body_ru="Гарантированный доход каждый месяц")
    good = _make()
    response = admin_client.post(
        "/admin/announcements/announcement/",
        {"action": "schedule", "_selected_action": [bad.pk, good.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "no promises of income" in response.content.decode()
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.status == Announcement.Status.DRAFT
    assert good.status == Announcement.Status.SCHEDULED and good.publish_at is not None
