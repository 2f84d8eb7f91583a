"""Tickets: opened by a user (in the app, or from Telegram through the same call), answered by
staff in admin. A staff reply that is not an internal note reaches the user in the app and
through notify(event="ticket_reply")."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework import status

from config.errors import ConflictError, DomainError
from support.models import Ticket, TicketMessage
from support.services.attachments import UploadedAttachment, attachments_save
from support.sla import sla_for

MAX_BODY = 10_000


class TicketClosed(ConflictError):
    code = "ticket_closed"


def _plan_code(user) -> str:
    from billing.selectors import plan_effective

    try:
        return plan_effective(user=user).code
    except Exception:  # noqa: BLE001 - no plans seeded (a bare database): the free SLA applies
        return "free"


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise DomainError("Write a message.", code="invalid", fields={"body": ["Write a message."]})
    if len(body) > MAX_BODY:
        raise DomainError("The message is too long.", code="invalid", fields={"body": ["The message is too long."]})
    return body


def ticket_create(
    *,
    user,
    subject: str,
    body: str,
    queue: str = "",
    bot=None,
    via: str = TicketMessage.Via.APP,
    attachments: Sequence[UploadedAttachment] = (),
    now=None,
) -> Ticket:
    """Open a ticket with its first message. With `bot` (the user's own) the ticket carries the
    bot's diagnostic snapshot (secrets redacted) and goes to the bots queue by default."""
    from support.services.diagnostics import bot_snapshot

    now = now or timezone.now()
    subject = " ".join((subject or "").split())[:200]
    if not subject:
        raise DomainError("Write a subject.", code="invalid", fields={"subject": ["Write a subject."]})
    body = _clean_body(body)
    if bot is not None and bot.user_id != user.pk:
        raise DomainError("Not found.", code="not_found", status_code=status.HTTP_404_NOT_FOUND)
    queue = queue or (Ticket.Queue.BOTS if bot is not None else Ticket.Queue.BOTS)
    if queue not in Ticket.Queue.values:
        raise DomainError("Choose a topic.", code="invalid", fields={"queue": ["Choose a topic."]})
    plan_code = _plan_code(user)
    first, resolve = sla_for(plan_code)
    diagnostics = bot_snapshot(bot=bot, now=now) if bot is not None else {}
    with transaction.atomic():
        ticket = Ticket.objects.create(
            user=user,
            subject=subject,
            queue=queue,
            bot=bot,
            diagnostics=diagnostics,
            plan_code=plan_code,
            language=user.language if user.language in ("ru", "en") else "ru",
            first_response_due=now + first,
            resolution_due=now + resolve,
            last_message_at=now,
        )
        message = TicketMessage.objects.create(ticket=ticket, author=user, body=body, via=via)
        attachments_save(message=message, files=attachments)
    return ticket


def ticket_message_add(
    *,
    ticket: Ticket,
    author,
    body: str,
    via: str = TicketMessage.Via.APP,
    internal: bool = False,
    attachments: Sequence[UploadedAttachment] = (),
    vk_message_id: int | None = None,
    now=None,
) -> TicketMessage:
    """Add a message to the thread. The ticket's owner writing reopens a waiting or resolved
    ticket; staff writing (not an internal note) sets the ticket to 'waiting for the user',
    records the first response and tells the user (ticket_reply_sent)."""
    now = now or timezone.now()
    body = _clean_body(body)
    # The owner: the ticket's user, or (author None) the VK contact who opened it writing again.
    is_owner = (author is not None and author.pk == ticket.user_id) or (
        author is None and via == TicketMessage.Via.VK and ticket.vk_contact_id is not None
    )
    from_staff = not is_owner and author is not None and author.is_staff
    if not is_owner and not from_staff:
        raise DomainError("Not found.", code="not_found", status_code=status.HTTP_404_NOT_FOUND)
    if internal and not from_staff:
        internal = False
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status == Ticket.Status.CLOSED and not internal:
            raise TicketClosed("This ticket is closed. Open a new one.")
        message = TicketMessage.objects.create(
            ticket=ticket,
            author=author,
            from_staff=from_staff,
            internal=internal,
            body=body,
            via=via,
            vk_message_id=vk_message_id,
        )
        attachments_save(message=message, files=attachments)
        fields = ["updated_at"]
        if not internal:
            ticket.last_message_at = now
            fields.append("last_message_at")
            if from_staff:
                ticket.status = Ticket.Status.WAITING
                if ticket.first_response_at is None:
                    ticket.first_response_at = now
                    fields.append("first_response_at")
                if ticket.assignee_id is None:
                    ticket.assignee = author
                    fields.append("assignee")
            elif ticket.status in (Ticket.Status.WAITING, Ticket.Status.RESOLVED):
                ticket.status = Ticket.Status.OPEN
                ticket.resolved_at = None
                fields.append("resolved_at")
            fields.append("status")
        ticket.save(update_fields=fields)
        if from_staff and not internal:
            ticket_reply_sent(ticket=ticket, message=message)
    return message


def ticket_reply_sent(*, ticket: Ticket, message: TicketMessage) -> None:
    """The hook for a staff reply: the user is told in the app and on the channels they chose
    (email, Telegram) by the one notification service. Once per message. A ticket opened from
    the VK community is answered there too (messages.send after commit, idempotent by the
    message's random_id)."""
    from notifications.services import notify

    if ticket.vk_contact_id is not None:
        from support.tasks import vk_reply_send_task

        message_id = message.pk
        transaction.on_commit(lambda: vk_reply_send_task.delay(message_id))
    if ticket.user is None:  # an anonymous VK contact: VK is the only way back
        return
    text = message.body if len(message.body) <= 1000 else message.body[:1000] + "…"
    notify(
        user=ticket.user,
        event="ticket_reply",
        params={"ticket_id": ticket.pk, "message_id": message.pk, "subject": ticket.subject, "body": text},
        dedupe_key=f"ticket_reply:{message.pk}",
    )


def ticket_status_set(*, ticket: Ticket, status: str, actor=None, now=None) -> Ticket:
    """Staff move a ticket (open, waiting, resolved, closed); times are kept for the SLA."""
    now = now or timezone.now()
    if status not in Ticket.Status.values:
        raise DomainError("Unknown status.", code="invalid")
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        ticket.status = status
        if status == Ticket.Status.RESOLVED and ticket.resolved_at is None:
            ticket.resolved_at = now
        if status == Ticket.Status.CLOSED:
            ticket.closed_at = now
            ticket.resolved_at = ticket.resolved_at or now
        if status in (Ticket.Status.OPEN, Ticket.Status.NEW, Ticket.Status.WAITING):
            ticket.closed_at = None
        ticket.save()
    return ticket


def ticket_close(*, ticket: Ticket, user, now=None) -> Ticket:
    """The user closes their own ticket (solved); they can rate it afterwards."""
    if ticket.user_id != user.pk:
        raise DomainError("Not found.", code="not_found", status_code=status.HTTP_404_NOT_FOUND)
    return ticket_status_set(ticket=ticket, status=Ticket.Status.CLOSED, actor=user, now=now)


def ticket_rate(*, ticket: Ticket, user, rating: int, comment: str = "") -> Ticket:
    """Satisfaction after the ticket is resolved or closed: 1-5 and an optional comment."""
    if ticket.user_id != user.pk:
        raise DomainError("Not found.", code="not_found", status_code=status.HTTP_404_NOT_FOUND)
    if ticket.status not in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        raise ConflictError("You can rate a ticket once it is resolved.", code="ticket_not_closed")
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise DomainError("Choose from 1 to 5 stars.", code="invalid", fields={"rating": ["Choose from 1 to 5 stars."]})
    ticket.rating = rating
    ticket.rating_comment = (comment or "").strip()[:1000]
    ticket.save(update_fields=["rating", "rating_comment", "updated_at"])
    return ticket


def tickets_overdue(*, now=None):
    """Tickets past their first-response or resolution due time (shown in admin)."""
    now = now or timezone.now()
    active = ~Q(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED])
    return Ticket.objects.filter(active).filter(
        Q(first_response_at__isnull=True, first_response_due__lt=now) | Q(resolution_due__lt=now)
    )
