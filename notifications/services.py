"""The one notification service. Everything the platform tells a user goes through notify():

    notify(user=user, event="bot_stopped", params={...}, dedupe_key=f"bot_stopped:{bot.pk}:{gen}")

It stores the notification once per (user, dedupe_key) (the in-app feed), and for each outside
channel the user wants for this event (preferences, else the event's defaults) one outbox row
(Delivery). Deliveries are sent by a worker after commit; quiet hours hold non-urgent ones until
they end; a retryable failure is tried again with backoff; a final one is recorded."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import DomainError
from notifications.channels import FinalSendError, OutgoingMessage, RetryableSendError, channel_get
from notifications.events import CHANNELS, EVENTS, event_render, help_path
from notifications.models import Delivery, Notification, Preference, QuietHours

logger = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def _language(user) -> str:
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    return language if language in ("ru", "en") else "ru"


def preference_enabled(*, user, event: str, channel: str) -> bool:
    row = Preference.objects.filter(user=user, event=event, channel=channel).values_list("enabled", flat=True).first()
    if row is not None:
        return row
    return EVENTS[event].defaults.get(channel, False)


def quiet_until(*, user, now: datetime) -> datetime | None:
    """When the user's quiet hours end, if `now` is inside them; else None."""
    quiet = QuietHours.objects.filter(user=user, enabled=True).first()
    if quiet is None or quiet.start == quiet.end:
        return None
    try:
        zone = ZoneInfo(quiet.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Europe/Moscow")
    local = now.astimezone(zone)
    t = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= t < quiet.end
    else:  # over midnight, e.g. 23:00-08:00
        inside = t >= quiet.start or t < quiet.end
    if not inside:
        return None
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(ZoneInfo("UTC"))


def notify(
    *, user, event: str, params: dict, dedupe_key: str, urgent: bool | None = None, now=None
) -> Notification | None:
    """Tell `user` about `event`. Idempotent: a second call with the same dedupe_key for the
    same user does nothing and returns None. Params must be JSON-serialisable (strings for
    money). Returns the new notification; its deliveries are queued after commit."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    now = now or timezone.now()
    language = _language(user)
    title, body, path = event_render(event=event, params=params, language=language)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                event=event,
                params=params,
                dedupe_key=dedupe_key[:200],
                language=language,
                title=title[:300],
                body=body,
                url=path,
                in_app=preference_enabled(user=user, event=event, channel="inapp"),
            )
    except IntegrityError:
        return None  # told already
    urgent = EVENTS[event].urgent if urgent is None else urgent
    hold = None if urgent else quiet_until(user=user, now=now)
    deliveries = [
        Delivery(notification=notification, channel=channel, next_attempt_at=hold or now)
        for channel in CHANNELS
        if channel != "inapp"
        and channel_get(channel) is not None
        and preference_enabled(user=user, event=event, channel=channel)
    ]
    Delivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        if hold is None:
            delivery_id = delivery.pk
            transaction.on_commit(partial(_enqueue, delivery_id))
    return notification


def _enqueue(delivery_id: int) -> None:
    from notifications.tasks import delivery_send_task

    delivery_send_task.delay(delivery_id)


def delivery_send(*, delivery_id: int, now=None) -> str:
    """Send one outbox row if it is due. The row is locked for the send and marked in the same
    transaction, so a duplicated or retried task never sends it twice. Returns its status."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification__user__profile")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "busy"
        if delivery.status != Delivery.Status.PENDING or delivery.next_attempt_at > now:
            return delivery.status
        sender = channel_get(delivery.channel)
        notification = delivery.notification
        address = sender.address(notification.user) if sender is not None else None
        if address is None:
            delivery.status = Delivery.Status.SKIPPED
            delivery.save(update_fields=["status"])
            return delivery.status
        assert sender is not None  # an address implies a sender
        delivery.attempts += 1
        base = settings.SETKA_PUBLIC_URL.rstrip("/")
        message = OutgoingMessage(
            notification_id=notification.pk,
            user_id=notification.user_id,
            channel=delivery.channel,
            address=address,
            event=notification.event,
            language=notification.language,
            title=notification.title,
            body=notification.body,
            url=f"{base}{notification.url}" if notification.url else "",
            params=notification.params,
            help_url=f"{base}{path}" if (path := help_path(notification.params)) else "",
        )
        try:
            delivery.external_id = str(sender.send(message))[:120]
            delivery.status = Delivery.Status.SENT
            delivery.sent_at = now
            delivery.last_error = ""
        except RetryableSendError as exc:
            delivery.last_error = str(exc)[:500]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = Delivery.Status.FAILED
            else:
                delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
        except FinalSendError as exc:
            delivery.last_error = str(exc)[:500]
            delivery.status = Delivery.Status.FAILED
        delivery.save()
    if delivery.status == Delivery.Status.FAILED:
        logger.warning("notification %s on %s failed: %s", notification.pk, delivery.channel, delivery.last_error)
    return delivery.status


def deliveries_send_due(*, now=None, limit: int = 200) -> int:
    """Beat's sweep: send every pending delivery that is due (retries, quiet hours that ended,
    tasks lost with a worker). Returns how many were sent."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(delivery_send(delivery_id=pk, now=now) == Delivery.Status.SENT for pk in ids)


def notifications_mark_read(*, user, ids: list[int] | None = None, now=None) -> int:
    """Mark the user's notifications read (all unread when `ids` is None)."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=now or timezone.now())


def preferences_set(*, user, preferences: list[dict], quiet: dict | None = None) -> None:
    """Save {event, channel, enabled} choices and the quiet hours ({enabled, start, end, timezone})."""
    with transaction.atomic():
        for item in preferences:
            event, channel = item["event"], item["channel"]
            if event not in EVENTS or channel not in CHANNELS:
                raise DomainError(f"Unknown event or channel: {event}/{channel}.", code="invalid")
            Preference.objects.update_or_create(
                user=user, event=event, channel=channel, defaults={"enabled": bool(item["enabled"])}
            )
        if quiet is not None:
            zone = quiet.get("timezone") or "Europe/Moscow"
            try:
                ZoneInfo(zone)
            except (KeyError, ValueError) as exc:
                raise DomainError(
                    "Unknown time zone.", code="invalid", fields={"timezone": ["Unknown time zone."]}
                ) from exc
            QuietHours.objects.update_or_create(
                user=user,
                defaults={
                    "enabled": bool(quiet.get("enabled")),
                    "start": quiet.get("start") or "23:00",
                    "end": quiet.get("end") or "08:00",
                    "timezone": zone,
                },
            )
