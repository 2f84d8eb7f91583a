"""VK's Callback API: every event stored once by its event_id (VK re-sends an event until it
gets "ok"), then handled once. message_new: the message becomes a help-desk ticket thread
(support.services.vk); wall_reply_new: a comment on our wall is kept for moderators (linked to
the announcement whose post it is). Other event types are stored and left alone."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from announcements.models import Publication, VkCallbackEvent, VkComment

logger = logging.getLogger(__name__)


def vk_event_store(*, event: dict) -> tuple[VkCallbackEvent, bool]:
    """Store the event once; (row, True) the first time, (row, False) for a re-delivery."""
    try:
        with transaction.atomic():
            row = VkCallbackEvent.objects.create(
                event_id=event["event_id"],
                type=str(event.get("type", ""))[:40],
                group_id=int(event["group_id"]),
                payload={k: v for k, v in event.items() if k != "secret"},
            )
        return row, True
    except IntegrityError:
        VkCallbackEvent.objects.filter(event_id=event["event_id"]).update(deliveries=F("deliveries") + 1)
        return VkCallbackEvent.objects.get(event_id=event["event_id"]), False


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("not an integer")
    number = int(value)
    if not -(2**63) < number < 2**63:
        raise ValueError("out of range")
    return number


def _message_new(obj: Any) -> str:
    from support.services.vk import vk_message_received

    message = obj.get("message", obj) if isinstance(obj, dict) else {}  # API < 5.103 sent the message itself
    if not isinstance(message, dict):
        raise ValueError("no message")
    from_id = _int(message["from_id"])
    if from_id <= 0 or _int(message.get("out", 0)) == 1:
        return "ignored"  # a community or our own outgoing message
    text = message.get("text", "")
    if not isinstance(text, str):
        raise ValueError("text is not a string")
    done = vk_message_received(vk_user_id=from_id, text=text, vk_message_id=_int(message["id"]))
    return "ticket" if done is not None else "empty"


def _wall_reply_new(obj: Any) -> str:
    if not isinstance(obj, dict):
        raise ValueError("no comment")
    owner = _int(obj.get("post_owner_id", obj.get("owner_id", 0)))
    from_id = _int(obj["from_id"])
    if owner != -int(settings.SETKA_VK_GROUP_ID):
        return "not_our_wall"
    if from_id == owner:
        return "ignored"  # the community's own reply
    post_id = _int(obj["post_id"])
    text = obj.get("text", "")
    if not isinstance(text, str):
        raise ValueError("text is not a string")
    publication = (
        Publication.objects.filter(outlet=Publication.Outlet.VK, external_id=str(post_id))
        .select_related("announcement")
        .first()
    )
    VkComment.objects.get_or_create(
        post_id=post_id,
        comment_id=_int(obj["id"]),
        defaults={
            "from_id": from_id,
            "text": text[:10_000],
            "written_at": datetime.fromtimestamp(_int(obj.get("date", 0)), tz=UTC),
            "announcement": publication.announcement if publication else None,
        },
    )
    return "comment"


HANDLERS = {"message_new": _message_new, "wall_reply_new": _wall_reply_new}


def vk_event_process(*, event_pk: int) -> str:
    """Handle a stored event once (under its row lock). Returns the outcome."""
    with transaction.atomic():
        row = VkCallbackEvent.objects.select_for_update().get(pk=event_pk)
        if row.processed_at is not None:
            return row.outcome
        handler = HANDLERS.get(row.type)
        try:
            with transaction.atomic():
                outcome = handler((row.payload or {}).get("object")) if handler else "ignored"
        except (KeyError, TypeError, ValueError) as exc:
            outcome = "unreadable"
            logger.warning("vk callback %s (%s) unreadable: %s", row.event_id, row.type, exc)
        row.processed_at, row.outcome = timezone.now(), outcome
        row.save(update_fields=["processed_at", "outcome"])
    return outcome


def vk_events_pending_process(*, limit: int = 100) -> int:
    """Finish events stored but not handled (a crash between the two)."""
    done = 0
    for pk in (
        VkCallbackEvent.objects.filter(processed_at__isnull=True).order_by("id").values_list("pk", flat=True)[:limit]
    ):
        vk_event_process(event_pk=pk)
        done += 1
    return done
