from __future__ import annotations

from notifications.events import CHANNELS, EVENTS
from notifications.models import Notification, Preference, QuietHours


def notifications_of(*, user):
    return Notification.objects.filter(user=user, in_app=True).order_by("-created_at", "-id")


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).count()


def preferences_of(*, user) -> list[dict]:
    """Every (event, channel) with the user's choice or the event's default."""
    chosen = {(p.event, p.channel): p.enabled for p in Preference.objects.filter(user=user)}
    return [
        {"event": event, "channel": channel, "enabled": chosen.get((event, channel), spec.defaults.get(channel, False))}
        for event, spec in EVENTS.items()
        for channel in CHANNELS
    ]


def quiet_hours_of(*, user) -> dict:
    quiet = QuietHours.objects.filter(user=user).first()
    if quiet is None:
        return {"enabled": False, "start": "23:00", "end": "08:00", "timezone": "Europe/Moscow"}
    return {
        "enabled": quiet.enabled,
        "start": f"{quiet.start:%H:%M}" if hasattr(quiet.start, "hour") else str(quiet.start)[:5],
        "end": f"{quiet.end:%H:%M}" if hasattr(quiet.end, "hour") else str(quiet.end)[:5],
        "timezone": quiet.timezone,
    }
