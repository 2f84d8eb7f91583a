from __future__ import annotations

from django.db.models import QuerySet

from announcements.models import Announcement


def news_list() -> QuerySet[Announcement]:
    """Published posts, newest first (what the app's news page and the RSS feed show)."""
    return Announcement.objects.filter(published_at__isnull=False).order_by("-published_at", "-id")


def news_get(*, announcement_id: int) -> Announcement | None:
    return news_list().filter(pk=announcement_id).first()
