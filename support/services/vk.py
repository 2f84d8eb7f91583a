"""The help desk's VK door: a message to our VK community (announcements' Callback API inbox
hands it over once per event) becomes a ticket thread, for the account linked to that VK user or
for an anonymous contact; staff replies go back to the conversation with messages.send."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from support.models import Ticket, TicketMessage, VkContact
from support.services.tickets import _clean_body, _plan_code, ticket_message_add
from support.sla import sla_for

logger = logging.getLogger(__name__)

VK_MESSAGE_MAX = 4000  # VK's own limit is 4096 characters a message


def vk_message_received(*, vk_user_id: int, text: str, vk_message_id: int, now=None) -> TicketMessage | None:
    """A VK user wrote to the community: the message joins their open ticket or opens one.
    A message already in a thread (by its VK id) is not added twice. None for an empty one."""
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        return None
    with transaction.atomic():
        contact, _ = VkContact.objects.get_or_create(vk_user_id=vk_user_id)
        contact = VkContact.objects.select_for_update().get(pk=contact.pk)
        earlier = TicketMessage.objects.filter(
            ticket__vk_contact=contact, via=TicketMessage.Via.VK, vk_message_id=vk_message_id
        ).first()
        if earlier is not None:
            return earlier
        body = _clean_body(text)
        ticket = Ticket.objects.filter(vk_contact=contact).exclude(status=Ticket.Status.CLOSED).order_by("-id").first()
        if ticket is not None:
            author = contact.user if contact.user_id and contact.user_id == ticket.user_id else None
            return ticket_message_add(
                ticket=ticket, author=author, body=body, via=TicketMessage.Via.VK, vk_message_id=vk_message_id, now=now
            )
        user = contact.user
        plan_code = _plan_code(user) if user is not None else "free"
        first, resolve = sla_for(plan_code)
        ticket = Ticket.objects.create(
            user=user,
            vk_contact=contact,
            subject=" ".join(body.split())[:120],
            queue=Ticket.Queue.BOTS,
            plan_code=plan_code,
            language=user.language if user is not None and user.language in ("ru", "en") else "ru",
            first_response_due=now + first,
            resolution_due=now + resolve,
            last_message_at=now,
        )
        message = TicketMessage.objects.create(
            ticket=ticket, author=user, body=body, via=TicketMessage.Via.VK, vk_message_id=vk_message_id
        )
    logger.info("support: VK user %s opened ticket %s", vk_user_id, ticket.pk)
    return message


def vk_reply_send(*, message_id: int) -> int | None:
    """Send a staff reply of a VK ticket to the contact's conversation. random_id is the
    message's own id, so a retried task never sends it twice. Returns VK's message id."""
    from announcements.outlets import vk_message_send

    message = TicketMessage.objects.select_related("ticket__vk_contact").get(pk=message_id)
    contact = message.ticket.vk_contact
    if contact is None or not message.from_staff or message.internal:
        return None
    if message.vk_message_id is not None:
        return message.vk_message_id
    body = message.body if len(message.body) <= VK_MESSAGE_MAX else message.body[:VK_MESSAGE_MAX] + "…"
    vk_id = vk_message_send(peer_id=contact.vk_user_id, message=body, random_id=message.pk % 2**31)
    TicketMessage.objects.filter(pk=message.pk, vk_message_id__isnull=True).update(vk_message_id=vk_id)
    return vk_id
