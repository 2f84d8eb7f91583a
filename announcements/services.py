"""Announcements: the editorial checklist, scheduling, and publishing to every outlet once."""

from __future__ import annotations

import logging
import re

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from announcements import outlets
from announcements.models import Announcement, Publication
from config.errors import DomainError

logger = logging.getLogger(__name__)

CHECKLIST = (
    "check_product_or_education",
    "check_no_income_promises",
    "check_no_buy_calls",
    "check_risk_stated",
)
# Words that do not belong in product news or education (a promise of income, a call to buy).
FORBIDDEN = re.compile(
    r"гарантир|пассивн\w* доход|без риска|иксы|\bx\d{1,3}\b|купите|покупайте|успей\w* купить|"
    r"guarantee|risk[- ]free|passive income|buy now|to the moon|\d+\s?% (a|per) (day|week|month)",
    re.IGNORECASE,
)
OUTLETS = (Publication.Outlet.TELEGRAM, Publication.Outlet.VK, Publication.Outlet.NEWS, Publication.Outlet.RSS)


def announcement_problems(*, announcement: Announcement) -> dict[str, list[str]]:
    """What keeps the post from going out: unticked checklist boxes and forbidden phrases."""
    problems: dict[str, list[str]] = {}
    for name in CHECKLIST:
        if not getattr(announcement, name):
            problems[name] = ["Tick this after checking the text."]
    for name in ("title_ru", "title_en", "body_ru", "body_en"):
        text = getattr(announcement, name) or ""
        if not text.strip():
            problems.setdefault(name, []).append("Required.")
        match = FORBIDDEN.search(text)
        if match:
            problems.setdefault(name, []).append(
                f"“{match.group(0)}”: no promises of income and no calls to buy in official posts."
            )
    return problems


def announcement_schedule(*, announcement: Announcement, publish_at=None) -> Announcement:
    """Schedule the post (now if no time is given). Refused while the checklist is not met."""
    problems = announcement_problems(announcement=announcement)
    if problems:
        raise DomainError("The post does not pass the checklist.", code="invalid", fields=problems)
    with transaction.atomic():
        locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if locked.status == Announcement.Status.PUBLISHED:
            raise DomainError("This post is already published.", code="conflict", status_code=409)
        locked.publish_at = publish_at or locked.publish_at or timezone.now()
        locked.status = Announcement.Status.SCHEDULED
        locked.save(update_fields=["publish_at", "status"])
    announcement.refresh_from_db()
    return announcement


def announcement_unschedule(*, announcement: Announcement) -> None:
    Announcement.objects.filter(pk=announcement.pk, status=Announcement.Status.SCHEDULED).update(
        status=Announcement.Status.DRAFT
    )


def channel_text(*, announcement: Announcement, language: str = "ru") -> str:
    title = getattr(announcement, f"title_{language}")
    body = getattr(announcement, f"body_{language}")
    return "\n\n".join(part for part in (title, body, announcement.link) if part)


def _send(outlet: str, announcement: Announcement) -> str:
    if outlet == Publication.Outlet.TELEGRAM:
        return outlets.telegram_channel_post(text=channel_text(announcement=announcement))
    if outlet == Publication.Outlet.VK:
        return outlets.vk_wall_post(message=channel_text(announcement=announcement))
    return ""  # in-app news and RSS read published announcements from the database


def announcement_publish(*, announcement_id: int, now=None) -> list[str]:
    """Publish to every outlet not yet done; returns the outlets published by this call. Each
    outlet's row is locked across its send and marked done in the same transaction, so a
    duplicated or concurrent run sends nothing twice; a failed outlet is retried next run.
    (A crash between an outlet's answer and the commit can repeat that one post: the outlets
    offer no idempotency key.)"""
    now = now or timezone.now()
    announcement = Announcement.objects.filter(pk=announcement_id).first()
    if announcement is None or announcement.status == Announcement.Status.DRAFT:
        return []
    done: list[str] = []
    for outlet in OUTLETS:
        Publication.objects.get_or_create(announcement=announcement, outlet=outlet)
        with transaction.atomic():
            row = (
                Publication.objects.select_for_update(skip_locked=True)
                .filter(announcement=announcement, outlet=outlet)
                .exclude(status=Publication.Status.DONE)
                .first()
            )
            if row is None:
                continue
            row.attempts += 1
            try:
                row.external_id = _send(outlet, announcement)
            except outlets.OutletError as exc:
                row.status, row.error = Publication.Status.FAILED, str(exc)[:300]
                row.save(update_fields=["status", "error", "attempts"])
                logger.warning("announcement %s to %s failed: %s", announcement.pk, outlet, exc)
                continue
            row.status, row.error, row.published_at = Publication.Status.DONE, "", now
            row.save(update_fields=["status", "error", "attempts", "external_id", "published_at"])
            done.append(outlet)
    if not Publication.objects.filter(announcement=announcement).exclude(status=Publication.Status.DONE).exists():
        Announcement.objects.filter(pk=announcement.pk).exclude(status=Announcement.Status.PUBLISHED).update(
            status=Announcement.Status.PUBLISHED, published_at=Coalesce("published_at", Value(now))
        )
    elif Publication.objects.filter(
        announcement=announcement, outlet=Publication.Outlet.NEWS, status=Publication.Status.DONE
    ).exists():
        # the app's news shows it even while another outlet is being retried
        Announcement.objects.filter(pk=announcement.pk, published_at__isnull=True).update(published_at=now)
    return done


def announcements_publish_due(*, now=None) -> int:
    """Publish every scheduled post whose time has come (beat runs this every 15 s)."""
    now = now or timezone.now()
    ids = list(
        Announcement.objects.filter(status=Announcement.Status.SCHEDULED, publish_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    count = 0
    for announcement_id in ids:
        count += len(announcement_publish(announcement_id=announcement_id, now=now))
    return count
